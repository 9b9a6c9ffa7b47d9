"use client";
import Link from "next/link";
import { useState } from "react";
import { useCart, useSetQuantity } from "@/lib/cart";
import { formatMoney } from "@/lib/format";
import { useSession } from "@/lib/session";

export function CartView() {
  const cart = useCart();
  const setQty = useSetQuantity();
  const { status } = useSession();
  const [error, setError] = useState<string | null>(null);

  const change = (productId: string, name: string, quantity: number) => {
    setError(null);
    setQty.mutate(
      { productId, quantity },
      { onError: (e) => setError(`Could not change the quantity of ${name}: ${e.message}`) },
    );
  };

  return (
    <section>
      <h1>Your cart</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {cart.isPending && <p>Loading your cart…</p>}
      {cart.isError && <p role="alert">{cart.error.message}</p>}
      {cart.data && cart.data.items.length === 0 && (
        <p>
          Your cart is empty. <Link href="/">Continue shopping</Link>
        </p>
      )}
      {cart.data && cart.data.items.length > 0 && (
        <>
          <table className="cart">
            <caption className="visually-hidden">Items in your cart</caption>
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col">Price</th>
                <th scope="col">Quantity</th>
                <th scope="col">Total</th>
              </tr>
            </thead>
            <tbody>
              {cart.data.items.map((l) => (
                <tr key={l.productId} data-testid="cart-line">
                  <th scope="row">
                    <Link href={`/products/${l.productId}`}>{l.name}</Link>
                  </th>
                  <td>{formatMoney(l.unitPrice)}</td>
                  <td className="qty">
                    <button
                      type="button"
                      aria-label={`Decrease quantity of ${l.name}`}
                      onClick={() => change(l.productId, l.name, l.quantity - 1)}
                    >
                      −
                    </button>
                    <output aria-label={`Quantity of ${l.name}`}>{l.quantity}</output>
                    <button
                      type="button"
                      aria-label={`Increase quantity of ${l.name}`}
                      onClick={() => change(l.productId, l.name, l.quantity + 1)}
                    >
                      +
                    </button>
                    <button type="button" onClick={() => change(l.productId, l.name, 0)}>
                      Remove<span className="visually-hidden"> {l.name}</span>
                    </button>
                  </td>
                  <td>{formatMoney(l.lineTotal)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="subtotal">
            Subtotal ({cart.data.itemCount} {cart.data.itemCount === 1 ? "item" : "items"}):{" "}
            <strong data-testid="subtotal">{formatMoney(cart.data.subtotal)}</strong>
          </p>
          <Link className="button primary" href={status === "signed-in" ? "/checkout" : "/signin?next=/checkout"}>
            Checkout
          </Link>
        </>
      )}
    </section>
  );
}
