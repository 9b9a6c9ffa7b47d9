import type { Metadata } from "next";
import { Checkout } from "@/components/Checkout";
import { RequireSession } from "@/components/RequireSession";

// Rendered per request, never cached: the shopper's own checkout.
export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "Checkout" };

export default function CheckoutPage() {
  return (
    <RequireSession>
      <Checkout />
    </RequireSession>
  );
}
