import type { Metadata } from "next";
import { Suspense } from "react";
import { SearchResults } from "@/components/SearchResults";

// Rendered per request, never cached: results follow the query string.
export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "Search", robots: { index: false } };

export default function SearchPage() {
  return (
    <Suspense fallback={<h1>Search</h1>}>
      <SearchResults />
    </Suspense>
  );
}
