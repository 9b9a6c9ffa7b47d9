"use client";
// An order, followed to its outcome: polled while the checkout runs.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { api } from "@/lib/api-client";
import { failureWords, formatDate, formatMoney, statusWord } from "@/lib/format";
import type { Order } from "@/lib/types";

export function OrderDetail({ id }: { id: string }) {
  const qc = useQueryClient();
  const order = useQuery({
    queryKey: ["order", id],
    queryFn: () => api<Order>(`/v1/orders/${encodeURIComponent(id)}`),
    refetchInterval: (q) => (q.state.data?.status === "PENDING" ? 1000 : false),
  });
  const cancel = useMutation({
    mutationFn: () => api<Order>(`/v1/orders/${encodeURIComponent(id)}/cancel`, { method: "POST" }),
    onSuccess: (o) => {
      qc.setQueryData(["order", id], o);
      void qc.invalidateQueries({ queryKey: ["orders"] });
    },
  });

  if (order.isPending) return <p>Loading the order…</p>;
  if (order.isError) {
    return (
      <section>
        <h1>Order not found</h1>
        <p role="alert">{order.error.message}</p>
      </section>
    );
  }
  const o = order.data;
  const failure = (o as { failure?: { reason: string; detail?: string | null } | null }).failure;
  return (
    <section className="order">
      <h1>Order {o.id}</h1>
      <p className="order-status">
        Status:{" "}
        <strong role="status" aria-live="polite" data-testid="order-status">
          {statusWord(o.status)}
        </strong>
      </p>
      {o.status === "PENDING" && <p className="muted">We are reserving your items and checking the payment…</p>}
      {o.status === "CONFIRMED" && <p>Thank you! Your order is confirmed.</p>}
      {o.status === "FAILED" && (
        <p className="error" data-testid="failure-reason">
          {failureWords(failure?.reason, failure?.detail)}
        </p>
      )}
      <h2>Items</h2>
      <ul>
        {o.items.map((l) => (
          <li key={l.productId}>
            {l.quantity} × <Link href={`/products/${l.productId}`}>{l.name}</Link>: {formatMoney(l.lineTotal as never)}
          </li>
        ))}
      </ul>
      <p>
        Total: <strong>{formatMoney(o.total as never)}</strong>
      </p>
      <h2>Shipping to</h2>
      <address>
        {o.shippingAddress.line1}
        {o.shippingAddress.line2 ? `, ${o.shippingAddress.line2}` : ""}, {o.shippingAddress.city}
        {o.shippingAddress.region ? `, ${o.shippingAddress.region}` : ""} {o.shippingAddress.postalCode},{" "}
        {o.shippingAddress.country}
      </address>
      <h2>History</h2>
      <ol className="history">
        {o.statusHistory.map((h, i) => (
          <li key={i}>
            {statusWord(h.status)}, {formatDate(h.at)}
            {h.reason ? ` (${h.reason.replaceAll("_", " ")})` : ""}
          </li>
        ))}
      </ol>
      {o.status === "CONFIRMED" && (
        <p>
          <button type="button" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
            Cancel order
          </button>
        </p>
      )}
      {cancel.isError && <p role="alert">{cancel.error.message}</p>}
      <p>
        <Link href="/account/orders">All your orders</Link>
      </p>
    </section>
  );
}
