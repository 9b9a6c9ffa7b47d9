"use client";
import { useState } from "react";
import { useAddToCart } from "@/lib/cart";

export function AddToCart({ productId, available }: { productId: string; available: number }) {
  const add = useAddToCart();
  const [quantity, setQuantity] = useState(1);
  const max = Math.max(1, Math.min(99, available));
  return (
    <form
      className="add-to-cart"
      onSubmit={(e) => {
        e.preventDefault();
        add.mutate({ productId, quantity });
      }}
    >
      <label>
        Quantity
        <select value={quantity} onChange={(e) => setQuantity(Number(e.target.value))}>
          {Array.from({ length: Math.min(max, 10) }, (_, i) => i + 1).map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="primary" disabled={available <= 0 || add.isPending}>
        Add to cart
      </button>
      <div role="status" aria-live="polite">
        {add.isSuccess && <p>Added to cart.</p>}
      </div>
      {add.isError && <p role="alert">{add.error.message}</p>}
    </form>
  );
}
