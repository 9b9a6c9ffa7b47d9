import "server-only";
// Server-side reads for pages rendered on the server (product, listing).
//
// Catalog reads go through Next's data cache for CATALOG_REVALIDATE_SECS,
// the API's own `max-age` for them (functions/catalog `freshness`): a
// product or listing changed by an admin, or stock moved by a sale, shows
// on the first render after that many seconds (that render still gets the
// cached answer while a fresh one is fetched in the background, so the
// change is on screen at most twice that long after it was made).
import { cache } from "react";
import { apiBaseUrl } from "./config";
import type { Product, ProductPage, ReviewPage } from "./types";

/** Seconds a catalog read is reused: the API's `Cache-Control: max-age` for products and listings. */
export const CATALOG_REVALIDATE_SECS = 30;

type Result<T> = { status: number; data: T | null };

async function get<T>(path: string, revalidate: number): Promise<Result<T>> {
  const res = await fetch(`${apiBaseUrl()}${path}`, {
    next: { revalidate },
    headers: { accept: "application/json" },
  });
  if (!res.ok) return { status: res.status, data: null };
  return { status: res.status, data: (await res.json()) as T };
}

export const getProduct = cache((id: string) =>
  get<Product>(`/v1/products/${encodeURIComponent(id)}`, CATALOG_REVALIDATE_SECS),
);
export const getReviews = cache((id: string) =>
  get<ReviewPage>(`/v1/products/${encodeURIComponent(id)}/reviews?limit=20`, CATALOG_REVALIDATE_SECS),
);
export const getProducts = (qs: string) => get<ProductPage>(`/v1/products${qs}`, CATALOG_REVALIDATE_SECS);
/** The category facet changes only when a category gains its first or loses its last product. */
export const getCategories = cache(async (): Promise<string[]> => {
  const r = await get<{ facets?: { category?: { value: string }[] } }>(`/v1/search?limit=1`, 300);
  return (r.data?.facets?.category ?? []).map((f) => f.value).sort();
});
