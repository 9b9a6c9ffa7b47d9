import "server-only";
// Server-side reads for pages rendered on the server (product, listing).
import { cache } from "react";
import { apiBaseUrl } from "./config";
import type { Product, ProductPage, ReviewPage } from "./types";

type Result<T> = { status: number; data: T | null };

async function get<T>(path: string): Promise<Result<T>> {
  const res = await fetch(`${apiBaseUrl()}${path}`, { cache: "no-store", headers: { accept: "application/json" } });
  if (!res.ok) return { status: res.status, data: null };
  return { status: res.status, data: (await res.json()) as T };
}

export const getProduct = cache((id: string) => get<Product>(`/v1/products/${encodeURIComponent(id)}`));
export const getReviews = cache((id: string) =>
  get<ReviewPage>(`/v1/products/${encodeURIComponent(id)}/reviews?limit=20`),
);
export const getProducts = (qs: string) => get<ProductPage>(`/v1/products${qs}`);
export const getCategories = cache(async (): Promise<string[]> => {
  const r = await get<{ facets?: { category?: { value: string }[] } }>(`/v1/search?limit=1`);
  return (r.data?.facets?.category ?? []).map((f) => f.value).sort();
});
