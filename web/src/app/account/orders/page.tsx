import type { Metadata } from "next";
import { OrderList } from "@/components/OrderList";
import { RequireSession } from "@/components/RequireSession";

export const metadata: Metadata = { title: "Your orders" };

export default function OrdersPage() {
  return (
    <RequireSession>
      <OrderList />
    </RequireSession>
  );
}
