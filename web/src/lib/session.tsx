"use client";
// The signed-in state. The access token lives only in this module's memory;
// a reload restores it through the refresh cookie (POST /api/session/refresh).
import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { SIGNED_IN_HINT_COOKIE } from "./config";
import { ApiError, type Problem } from "./problem";
import type { User } from "./types";

type SessionData = { user: User; accessToken: string; expiresIn: number };
type Status = "loading" | "anonymous" | "signed-in";

let accessToken: string | null = null;
let inflight: Promise<SessionData | null> | null = null;
const listeners = new Set<(s: SessionData | null) => void>();

export function currentAccessToken(): string | null {
  return accessToken;
}

function publish(s: SessionData | null) {
  accessToken = s?.accessToken ?? null;
  for (const l of listeners) l(s);
}

async function sessionCall(action: string, body?: unknown): Promise<SessionData> {
  const res = await fetch(`/api/session/${action}`, {
    method: "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data as Problem | null);
  return data as SessionData;
}

/**
 * One refresh at a time: a refresh token is spent when used, and presenting
 * it twice revokes the whole login (reuse detection).
 */
export function refreshSession(): Promise<SessionData | null> {
  if (!inflight) {
    inflight = sessionCall("refresh")
      .then((s) => {
        publish(s);
        return s;
      })
      .catch(() => {
        publish(null);
        return null;
      })
      .finally(() => {
        inflight = null;
      });
  }
  return inflight;
}

type Ctx = {
  status: Status;
  user: User | null;
  signIn: (email: string, password: string) => Promise<void>;
  signUp: (name: string, email: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
};

const SessionContext = createContext<Ctx | null>(null);

function hasHint(): boolean {
  return document.cookie.split(/;\s*/).some((c) => c.startsWith(`${SIGNED_IN_HINT_COOKIE}=1`));
}

export function SessionProvider({ children }: { children: React.ReactNode }) {
  const queryClient = useQueryClient();
  const [session, setSession] = useState<SessionData | null>(null);
  const [status, setStatus] = useState<Status>("loading");
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    const onChange = (s: SessionData | null) => {
      setSession(s);
      setStatus(s ? "signed-in" : "anonymous");
      if (timer.current) clearTimeout(timer.current);
      // Renew a minute before the access token expires.
      if (s) timer.current = setTimeout(() => void refreshSession(), Math.max(30, s.expiresIn - 60) * 1000);
    };
    listeners.add(onChange);
    if (hasHint()) void refreshSession();
    else onChange(null);
    return () => {
      listeners.delete(onChange);
      if (timer.current) clearTimeout(timer.current);
    };
  }, []);

  const signIn = useCallback(
    async (email: string, password: string) => {
      publish(await sessionCall("login", { email, password }));
      await queryClient.invalidateQueries();
    },
    [queryClient],
  );
  const signUp = useCallback(
    async (name: string, email: string, password: string) => {
      publish(await sessionCall("signup", { name, email, password }));
      await queryClient.invalidateQueries();
    },
    [queryClient],
  );
  const signOut = useCallback(async () => {
    const token = accessToken;
    await fetch("/api/session/logout", {
      method: "POST",
      headers: token ? { authorization: `Bearer ${token}` } : {},
    }).catch(() => undefined);
    publish(null);
    queryClient.clear();
  }, [queryClient]);

  const value = useMemo<Ctx>(
    () => ({ status, user: session?.user ?? null, signIn, signUp, signOut }),
    [status, session, signIn, signUp, signOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Ctx {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error("useSession outside SessionProvider");
  return ctx;
}
