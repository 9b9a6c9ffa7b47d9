import type { Metadata } from "next";
import { Checkout } from "@/components/Checkout";
import { RequireSession } from "@/components/RequireSession";

export const metadata: Metadata = { title: "Checkout" };

export default function CheckoutPage() {
  return (
    <RequireSession>
      <Checkout />
    </RequireSession>
  );
}
