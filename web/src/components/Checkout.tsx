"use client";
// Checkout: a shipping address (saved or new), a sandbox test card, and one
// idempotency key per attempt, so a retried request cannot place two orders.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { api } from "@/lib/api-client";
import { useCart } from "@/lib/cart";
import { formatMoney } from "@/lib/format";
import { ApiError } from "@/lib/problem";
import type { AddressList, Order } from "@/lib/types";
import { AddressFields, addressFromForm } from "./AddressFields";

export const TEST_CARDS: [string, string][] = [
  ["tok_visa", "Visa (succeeds)"],
  ["tok_chargeDeclined", "Declined"],
  ["tok_insufficientFunds", "Insufficient funds"],
  ["tok_noWebhook", "No answer (times out)"],
];

export function Checkout() {
  const cart = useCart();
  const qc = useQueryClient();
  const router = useRouter();
  const addresses = useQuery({ queryKey: ["addresses"], queryFn: () => api<AddressList>("/v1/me/addresses") });
  const [choice, setChoice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Kept across a retry after a network failure (the same attempt), renewed after an answer.
  const attemptKey = useRef<string | null>(null);

  const saved = addresses.data?.items ?? [];
  const selected = choice ?? (saved.find((a) => a.isDefault)?.id || saved[0]?.id || "new");

  if (cart.data && cart.data.items.length === 0) {
    return (
      <section>
        <h1>Checkout</h1>
        <p>
          Your cart is empty. <Link href="/">Continue shopping</Link>
        </p>
      </section>
    );
  }

  async function placeOrder(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const payment = { method: "card", token: String(f.get("card")) };
    attemptKey.current ??= crypto.randomUUID();
    setBusy(true);
    setError(null);
    try {
      let addressId = selected === "new" ? null : selected;
      if (!addressId && f.get("save") === "on") {
        const created = await api<{ id: string }>("/v1/me/addresses", {
          method: "POST",
          body: { label: "Home", ...addressFromForm(f), isDefault: saved.length === 0 },
        });
        addressId = created.id;
        setChoice(created.id);
        void qc.invalidateQueries({ queryKey: ["addresses"] });
      }
      const body = addressId ? { addressId, payment } : { address: addressFromForm(f), payment };
      const order = await api<Order>("/v1/orders", {
        method: "POST",
        body,
        headers: { "idempotency-key": attemptKey.current },
      });
      attemptKey.current = null;
      await qc.invalidateQueries({ queryKey: ["cart"] });
      router.push(`/orders/${order.id}`);
    } catch (err) {
      const e2 = err as ApiError;
      if (e2.status !== 0) attemptKey.current = null;
      if (e2.problem?.code === "price_changed") {
        await qc.invalidateQueries({ queryKey: ["cart"] });
        setError("Some prices changed since you added the items. Please check your cart and place the order again.");
      } else setError(e2.message);
      setBusy(false);
    }
  }

  return (
    <section>
      <h1>Checkout</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <form onSubmit={placeOrder} className="stack checkout">
        <fieldset>
          <legend>Shipping address</legend>
          {saved.map((a) => (
            <label key={a.id} className="radio">
              <input
                type="radio"
                name="addressChoice"
                value={a.id}
                checked={selected === a.id}
                onChange={() => setChoice(a.id)}
              />
              {a.label}: {a.line1}, {a.city} {a.postalCode}, {a.country}
            </label>
          ))}
          {saved.length > 0 && (
            <label className="radio">
              <input
                type="radio"
                name="addressChoice"
                value="new"
                checked={selected === "new"}
                onChange={() => setChoice("new")}
              />
              A new address
            </label>
          )}
          {selected === "new" && (
            <>
              <AddressFields />
              <label className="radio">
                <input type="checkbox" name="save" /> Save this address to my address book
              </label>
            </>
          )}
        </fieldset>
        <fieldset>
          <legend>Payment</legend>
          <label>
            Test card
            <select name="card" defaultValue="tok_visa">
              {TEST_CARDS.map(([token, label]) => (
                <option key={token} value={token}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <p className="muted">This shop uses the payment provider's sandbox: no real card is charged.</p>
        </fieldset>
        {cart.data && (
          <section aria-labelledby="summary">
            <h2 id="summary">Order summary</h2>
            <ul>
              {cart.data.items.map((l) => (
                <li key={l.productId}>
                  {l.quantity} × {l.name}: {formatMoney(l.lineTotal)}
                </li>
              ))}
            </ul>
            <p>
              Total: <strong>{formatMoney(cart.data.subtotal)}</strong>
            </p>
          </section>
        )}
        <button type="submit" className="primary" disabled={busy || !cart.data}>
          {busy ? "Placing order…" : "Place order"}
        </button>
      </form>
    </section>
  );
}
