import type { Metadata } from "next";
import { OrderList } from "@/components/OrderList";
import { RequireSession } from "@/components/RequireSession";

// Rendered per request, never cached: the shopper's own orders.
export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "Your orders" };

export default function OrdersPage() {
  return (
    <RequireSession>
      <OrderList />
    </RequireSession>
  );
}
