"use client";
// Infinite scroll: loads the next page when the sentinel scrolls into view;
// the button does the same for keyboard users and without IntersectionObserver.
import { useEffect, useRef } from "react";

export function LoadMore({
  hasMore,
  loading,
  onMore,
}: {
  hasMore: boolean;
  loading: boolean;
  onMore: () => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const latest = useRef({ hasMore, loading, onMore });
  latest.current = { hasMore, loading, onMore };
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof IntersectionObserver === "undefined") return;
    const io = new IntersectionObserver(
      (entries) => {
        const l = latest.current;
        if (entries.some((e) => e.isIntersecting) && l.hasMore && !l.loading) l.onMore();
      },
      { rootMargin: "400px" },
    );
    io.observe(el);
    return () => io.disconnect();
  }, []);
  return (
    <div ref={ref} className="load-more">
      {hasMore ? (
        <button type="button" onClick={onMore} disabled={loading}>
          {loading ? "Loading…" : "Load more"}
        </button>
      ) : (
        <p className="muted">That is everything.</p>
      )}
    </div>
  );
}
