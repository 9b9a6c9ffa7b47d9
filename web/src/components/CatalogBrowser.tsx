"use client";
// The catalog listing: filters and sort in the URL, pages over the API's cursors.
import { useInfiniteQuery } from "@tanstack/react-query";
import { usePathname, useRouter } from "next/navigation";
import { api, query } from "@/lib/api-client";
import type { ProductPage } from "@/lib/types";
import { LoadMore } from "./LoadMore";
import { ProductCard } from "./ProductCard";

export type CatalogFilters = { category?: string; sort?: string; minPrice?: string; maxPrice?: string };

const SORTS: [string, string][] = [
  ["newest", "Newest"],
  ["price_asc", "Price: low to high"],
  ["price_desc", "Price: high to low"],
  ["rating", "Customer rating"],
];

const PAGE = 24;

/** Dollars in the form, cents in the API. */
const toCents = (v?: string) => {
  const n = Number(v);
  return v && Number.isFinite(n) && n >= 0 ? Math.round(n * 100) : undefined;
};

export function CatalogBrowser({
  filters,
  categories,
  initial,
}: {
  filters: CatalogFilters;
  categories: string[];
  initial: ProductPage | null;
}) {
  const router = useRouter();
  const pathname = usePathname();
  const params = {
    category: filters.category,
    sort: filters.sort || "newest",
    minPrice: toCents(filters.minPrice),
    maxPrice: toCents(filters.maxPrice),
    limit: PAGE,
  };
  const list = useInfiniteQuery({
    queryKey: ["products", params],
    queryFn: ({ pageParam, signal }) =>
      api<ProductPage>(`/v1/products${query({ ...params, cursor: pageParam })}`, { signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    initialData: initial ? { pages: [initial], pageParams: [undefined] } : undefined,
    staleTime: 30_000,
  });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <>
      <form
        className="filters"
        aria-label="Filter products"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          const next: Record<string, string> = {};
          for (const k of ["category", "sort", "minPrice", "maxPrice"]) {
            const v = String(f.get(k) ?? "").trim();
            if (v) next[k] = v;
          }
          router.push(`${pathname}${query(next)}`);
        }}
      >
        <label>
          Category
          <select name="category" defaultValue={filters.category ?? ""}>
            <option value="">All categories</option>
            {categories.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          Sort by
          <select name="sort" defaultValue={filters.sort ?? "newest"}>
            {SORTS.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label>
          Min price ($)
          <input name="minPrice" type="number" min={0} step="0.01" inputMode="decimal" defaultValue={filters.minPrice} />
        </label>
        <label>
          Max price ($)
          <input name="maxPrice" type="number" min={0} step="0.01" inputMode="decimal" defaultValue={filters.maxPrice} />
        </label>
        <button type="submit">Apply filters</button>
      </form>
      {list.isError && <p role="alert">{(list.error as Error).message}</p>}
      <ul className="grid" aria-label="Products">
        {items.map((p) => (
          <ProductCard key={p.id} p={p} />
        ))}
      </ul>
      {items.length === 0 && !list.isFetching && <p>No products match these filters.</p>}
      <p className="muted" role="status" aria-live="polite">
        {items.length > 0 ? `Showing ${items.length} products` : ""}
      </p>
      <LoadMore hasMore={!!list.hasNextPage} loading={list.isFetchingNextPage} onMore={() => void list.fetchNextPage()} />
    </>
  );
}
