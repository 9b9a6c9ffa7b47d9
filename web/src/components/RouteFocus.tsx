"use client";
// After a client-side navigation, move focus to the new page's main heading
// so keyboard and screen-reader users start at the new content.
import { usePathname } from "next/navigation";
import { useEffect, useRef } from "react";

export function RouteFocus() {
  const pathname = usePathname();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const t = setTimeout(() => {
      const target = document.querySelector<HTMLElement>("main h1") ?? document.getElementById("main");
      if (!target) return;
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus({ preventScroll: false });
    }, 50);
    return () => clearTimeout(t);
  }, [pathname]);
  return null;
}
