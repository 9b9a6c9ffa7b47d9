import type { Metadata } from "next";
import { OrderDetail } from "@/components/OrderDetail";
import { RequireSession } from "@/components/RequireSession";

// Rendered per request, never cached: the shopper's own order.
export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "Order", robots: { index: false } };

export default async function OrderPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <RequireSession>
      <OrderDetail id={id} />
    </RequireSession>
  );
}
