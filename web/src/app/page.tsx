import Link from "next/link";
import { CatalogBrowser, type CatalogFilters } from "@/components/CatalogBrowser";
import { getCategories, getProducts } from "@/lib/api-server";

// Rendered per request (it reads the query string), but its catalog reads
// come from the data cache (lib/api-server.ts): at most one API call per
// listing and 30 s.

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) || undefined;

export default async function Home({ searchParams }: Props) {
  const sp = await searchParams;
  const filters: CatalogFilters = {
    category: one(sp.category),
    sort: one(sp.sort),
    minPrice: one(sp.minPrice),
    maxPrice: one(sp.maxPrice),
  };
  const cents = (v?: string) => (v && Number.isFinite(Number(v)) ? String(Math.round(Number(v) * 100)) : undefined);
  const qs = new URLSearchParams();
  if (filters.category) qs.set("category", filters.category);
  qs.set("sort", filters.sort || "newest");
  const min = cents(filters.minPrice);
  const max = cents(filters.maxPrice);
  if (min) qs.set("minPrice", min);
  if (max) qs.set("maxPrice", max);
  qs.set("limit", "24");
  const [categories, first] = await Promise.all([getCategories().catch(() => []), getProducts(`?${qs}`).catch(() => null)]);
  return (
    <section>
      <h1>{filters.category ? `Shop ${filters.category}` : "Shop all products"}</h1>
      {categories.length > 0 && (
        <nav aria-label="Categories" className="categories">
          <ul>
            <li>
              <Link href="/" aria-current={!filters.category ? "page" : undefined}>
                All
              </Link>
            </li>
            {categories.map((c) => (
              <li key={c}>
                <Link
                  href={`/?category=${encodeURIComponent(c)}`}
                  aria-current={filters.category === c ? "page" : undefined}
                >
                  {c}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      )}
      <CatalogBrowser
        key={JSON.stringify(filters)}
        filters={filters}
        categories={categories}
        initial={first?.data ?? null}
      />
    </section>
  );
}
