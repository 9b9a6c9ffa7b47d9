import type { Metadata } from "next";
import { CartView } from "@/components/CartView";

// Rendered per request, never cached: the cart is the shopper's own.
export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "Cart" };

export default function CartPage() {
  return <CartView />;
}
