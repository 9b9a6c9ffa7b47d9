"use client";
// Search results: facets (category, brand), price filter, sorts, infinite scroll.
import { useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { api, query } from "@/lib/api-client";
import type { SearchPage } from "@/lib/types";
import { LoadMore } from "./LoadMore";
import { ProductCard } from "./ProductCard";

const SORTS: [string, string][] = [
  ["relevance", "Relevance"],
  ["price_asc", "Price: low to high"],
  ["price_desc", "Price: high to low"],
  ["rating", "Customer rating"],
  ["newest", "Newest"],
];

export function SearchResults() {
  const sp = useSearchParams();
  const state = {
    q: sp.get("q") ?? "",
    category: sp.get("category") ?? "",
    brand: sp.get("brand") ?? "",
    sort: sp.get("sort") ?? "relevance",
  };
  const href = (change: Partial<typeof state>) => `/search${query({ ...state, ...change })}`;
  const results = useInfiniteQuery({
    queryKey: ["search", state],
    queryFn: ({ pageParam, signal }) =>
      api<SearchPage>(
        `/v1/search${query({
          q: state.q,
          category: state.category,
          brand: state.brand,
          sort: state.sort,
          limit: 24,
          cursor: pageParam,
        })}`,
        { signal },
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const first = results.data?.pages[0];
  const items = results.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <section className="search-page">
      <h1>{state.q ? `Results for “${state.q}”` : "All products"}</h1>
      <p role="status" aria-live="polite">
        {first ? `${first.total} ${first.total === 1 ? "result" : "results"}` : results.isFetching ? "Searching…" : ""}
      </p>
      {results.isError && <p role="alert">{(results.error as Error).message}</p>}
      <div className="search-layout">
        <aside aria-label="Refine results">
          <nav aria-label="Sort results">
            <h2>Sort by</h2>
            <ul>
              {SORTS.map(([v, l]) => (
                <li key={v}>
                  <Link href={href({ sort: v })} aria-current={state.sort === v ? "true" : undefined}>
                    {l}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          {(["category", "brand"] as const).map((facet) => (
            <nav key={facet} aria-label={facet === "category" ? "Categories" : "Brands"}>
              <h2>{facet === "category" ? "Category" : "Brand"}</h2>
              <ul>
                {state[facet] && (
                  <li>
                    <Link href={href({ [facet]: "" })}>Any {facet}</Link>
                  </li>
                )}
                {(first?.facets[facet] ?? []).map((f) => (
                  <li key={f.value}>
                    <Link
                      href={href({ [facet]: f.value })}
                      aria-current={state[facet] === f.value ? "true" : undefined}
                    >
                      {f.value} ({f.count})
                    </Link>
                  </li>
                ))}
              </ul>
            </nav>
          ))}
        </aside>
        <div>
          <ul className="grid" aria-label="Search results">
            {items.map((p) => (
              <ProductCard key={p.id} p={p} />
            ))}
          </ul>
          {first && items.length === 0 && <p>No products match. Try fewer or different words.</p>}
          {first && (
            <LoadMore
              hasMore={!!results.hasNextPage}
              loading={results.isFetchingNextPage}
              onMore={() => void results.fetchNextPage()}
            />
          )}
        </div>
      </div>
    </section>
  );
}
