import type { Metadata } from "next";
import { Suspense } from "react";
import { AuthForm } from "@/components/AuthForm";
import { googleProbe } from "@/lib/google";

export const metadata: Metadata = { title: "Create account" };

// Rendered per request: whether Google sign-in is offered is asked of the
// API (cached for a minute, lib/google-probe.ts), not fixed at build time.
export const dynamic = "force-dynamic";

export default async function Page() {
  const google = await googleProbe.configured();
  return (
    <Suspense>
      <AuthForm mode="signup" google={google} />
    </Suspense>
  );
}
