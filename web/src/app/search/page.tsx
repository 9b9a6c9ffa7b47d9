import type { Metadata } from "next";
import { Suspense } from "react";
import { SearchResults } from "@/components/SearchResults";

export const metadata: Metadata = { title: "Search", robots: { index: false } };

export default function SearchPage() {
  return (
    <Suspense fallback={<h1>Search</h1>}>
      <SearchResults />
    </Suspense>
  );
}
