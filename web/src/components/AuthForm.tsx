"use client";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import { useSession } from "@/lib/session";

/** Only same-site paths: `next` must not send the shopper elsewhere. */
function safeNext(v: string | null): string {
  return v && v.startsWith("/") && !v.startsWith("//") ? v : "/";
}

const GOOGLE_ERRORS: Record<string, string> = {
  failed: "Google sign-in did not complete. Try again, or use your e-mail and password.",
  unavailable: "Google sign-in is not available right now.",
};

/** `google`: the API offers Google sign-in (probed on the server, lib/google.ts). */
export function AuthForm({ mode, google = false }: { mode: "signin" | "signup"; google?: boolean }) {
  const { signIn, signUp } = useSession();
  const router = useRouter();
  const params = useSearchParams();
  const next = safeNext(params.get("next"));
  const [error, setError] = useState<string | null>(GOOGLE_ERRORS[params.get("google") ?? ""] ?? null);
  const [busy, setBusy] = useState(false);

  async function submit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      if (mode === "signup") await signUp(String(f.get("name")), String(f.get("email")), String(f.get("password")));
      else await signIn(String(f.get("email")), String(f.get("password")));
      router.push(next);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  }

  const other = mode === "signin" ? "/signup" : "/signin";
  return (
    <section className="narrow">
      <h1>{mode === "signin" ? "Sign in" : "Create your account"}</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <form onSubmit={submit} className="stack">
        {mode === "signup" && (
          <label>
            Name
            <input name="name" autoComplete="name" required />
          </label>
        )}
        <label>
          Email
          <input name="email" type="email" autoComplete="email" required />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={mode === "signin" ? "current-password" : "new-password"}
            minLength={mode === "signup" ? 12 : undefined}
            required
          />
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {mode === "signin" ? "Sign in" : "Create account"}
        </button>
      </form>
      {google && (
        <p>
          {/* A full navigation: the API redirects to Google, Google back to the shop's callback. */}
          <a className="button" href="/api/session/google">
            Sign in with Google
          </a>
        </p>
      )}
      <p>
        {mode === "signin" ? "New here? " : "Already have an account? "}
        <Link href={`${other}?next=${encodeURIComponent(next)}`}>
          {mode === "signin" ? "Create an account" : "Sign in instead"}
        </Link>
      </p>
    </section>
  );
}
