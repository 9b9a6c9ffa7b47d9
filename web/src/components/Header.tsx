"use client";
import Link from "next/link";
import { Suspense } from "react";
import { useSession } from "@/lib/session";
import { useCart } from "@/lib/cart";
import { SearchBox } from "./SearchBox";

export function Header() {
  const { status } = useSession();
  const cart = useCart();
  const count = cart.data?.itemCount ?? 0;
  return (
    <header className="site-header">
      <Link href="/" className="brand">
        Amazon Lite
      </Link>
      <Suspense fallback={<div className="search" />}>
        <SearchBox />
      </Suspense>
      <nav aria-label="Account and cart" className="header-nav">
        <Link href="/cart">
          Cart
          {count > 0 && (
            <span className="badge" aria-hidden="true">
              {count}
            </span>
          )}
        </Link>
        {status === "signed-in" ? (
          <Link href="/account">Account</Link>
        ) : status === "anonymous" ? (
          <Link href="/signin">Sign in</Link>
        ) : (
          <span className="placeholder" aria-hidden="true">
            …
          </span>
        )}
      </nav>
    </header>
  );
}
