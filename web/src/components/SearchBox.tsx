"use client";
// The search box: a combobox with debounced suggestions (/v1/search/suggest).
import { useQuery } from "@tanstack/react-query";
import { useRouter, useSearchParams, usePathname } from "next/navigation";
import { useEffect, useId, useState } from "react";
import { api, query } from "@/lib/api-client";

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export function SearchBox() {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const initial = pathname === "/search" ? (params.get("q") ?? "") : "";
  const [text, setText] = useState(initial);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const listId = useId();
  const q = useDebounced(text.trim(), 200);

  useEffect(() => setText(initial), [initial]);

  const suggest = useQuery({
    queryKey: ["suggest", q],
    queryFn: ({ signal }) => api<{ suggestions: string[] }>(`/v1/search/suggest${query({ q })}`, { signal }),
    enabled: q.length >= 2,
    staleTime: 60_000,
  });
  const suggestions = q.length >= 2 ? (suggest.data?.suggestions ?? []).slice(0, 8) : [];
  const expanded = open && suggestions.length > 0;

  const go = (value: string) => {
    const v = value.trim();
    if (!v) return;
    setOpen(false);
    setActive(-1);
    setText(v);
    router.push(`/search${query({ q: v })}`);
  };

  return (
    <search className="search">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          go(active >= 0 && expanded ? suggestions[active] : text);
        }}
      >
        <input
          type="search"
          role="combobox"
          aria-label="Search products"
          aria-autocomplete="list"
          aria-expanded={expanded}
          aria-controls={listId}
          aria-activedescendant={expanded && active >= 0 ? `${listId}-${active}` : undefined}
          autoComplete="off"
          placeholder="Search products"
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setOpen(true);
            setActive(-1);
          }}
          onFocus={() => setOpen(true)}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
          onKeyDown={(e) => {
            if (!expanded) return;
            if (e.key === "ArrowDown") {
              e.preventDefault();
              setActive((a) => (a + 1) % suggestions.length);
            } else if (e.key === "ArrowUp") {
              e.preventDefault();
              setActive((a) => (a <= 0 ? suggestions.length - 1 : a - 1));
            } else if (e.key === "Escape") {
              setOpen(false);
              setActive(-1);
            }
          }}
        />
        <button type="submit">Search</button>
        <ul id={listId} role="listbox" aria-label="Suggestions" className="suggestions" hidden={!expanded}>
          {suggestions.map((s, i) => (
            <li
              key={s}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              onMouseDown={(e) => {
                e.preventDefault();
                go(s);
              }}
            >
              {s}
            </li>
          ))}
        </ul>
      </form>
    </search>
  );
}
