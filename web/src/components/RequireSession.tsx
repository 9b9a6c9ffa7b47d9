"use client";
import { usePathname, useRouter } from "next/navigation";
import { useEffect } from "react";
import { useSession } from "@/lib/session";

/** Pages for signed-in shoppers: others are sent to sign in and brought back. */
export function RequireSession({ children }: { children: React.ReactNode }) {
  const { status } = useSession();
  const router = useRouter();
  const pathname = usePathname();
  useEffect(() => {
    if (status === "anonymous") router.replace(`/signin?next=${encodeURIComponent(pathname)}`);
  }, [status, router, pathname]);
  if (status !== "signed-in") return <p>Loading…</p>;
  return <>{children}</>;
}
