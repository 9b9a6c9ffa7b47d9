"use client";
// The cart as server state: one query, mutations that update it in place.
// Quantity changes are optimistic and rolled back when the API refuses.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./api-client";
import { useSession } from "./session";
import type { Cart } from "./types";

export const cartKey = (who: string) => ["cart", who] as const;

function useCartKey() {
  const { status, user } = useSession();
  return { key: cartKey(status === "signed-in" ? (user?.id ?? "user") : "guest"), ready: status !== "loading" };
}

export function useCart() {
  const { key, ready } = useCartKey();
  return useQuery({ queryKey: key, queryFn: () => api<Cart>("/v1/cart"), enabled: ready, staleTime: 5_000 });
}

export function useAddToCart() {
  const qc = useQueryClient();
  const { key } = useCartKey();
  return useMutation({
    mutationFn: (v: { productId: string; quantity: number }) =>
      api<Cart>("/v1/cart/items", { method: "POST", body: v }),
    onSuccess: (cart) => qc.setQueryData(key, cart),
  });
}

function withQuantity(cart: Cart, productId: string, quantity: number): Cart {
  const items = cart.items
    .map((l) =>
      l.productId === productId
        ? { ...l, quantity, lineTotal: { ...l.lineTotal, amount: l.unitPrice.amount * quantity } }
        : l,
    )
    .filter((l) => l.quantity > 0);
  return {
    ...cart,
    items,
    itemCount: items.reduce((n, l) => n + l.quantity, 0),
    subtotal: { ...cart.subtotal, amount: items.reduce((n, l) => n + l.lineTotal.amount, 0) },
  };
}

export function useSetQuantity() {
  const qc = useQueryClient();
  const { key } = useCartKey();
  return useMutation({
    mutationFn: (v: { productId: string; quantity: number }) =>
      v.quantity === 0
        ? api<Cart>(`/v1/cart/items/${encodeURIComponent(v.productId)}`, { method: "DELETE" })
        : api<Cart>(`/v1/cart/items/${encodeURIComponent(v.productId)}`, {
            method: "PATCH",
            body: { quantity: v.quantity },
          }),
    onMutate: async (v) => {
      await qc.cancelQueries({ queryKey: key });
      const before = qc.getQueryData<Cart>(key);
      if (before) qc.setQueryData(key, withQuantity(before, v.productId, v.quantity));
      return { before };
    },
    onError: (_e, _v, ctx) => {
      if (ctx?.before) qc.setQueryData(key, ctx.before);
    },
    onSuccess: (cart) => qc.setQueryData(key, cart),
  });
}
