"use client";
// Browser calls to the API, through the shop's proxy (/api/v1/...).
import { ApiError, type Problem } from "./problem";
import { currentAccessToken, refreshSession } from "./session";

type Init = { method?: string; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal };

export async function api<T>(path: string, init: Init = {}): Promise<T> {
  const send = () => {
    const headers: Record<string, string> = { accept: "application/json", ...init.headers };
    const token = currentAccessToken();
    if (token) headers.authorization = `Bearer ${token}`;
    if (init.body !== undefined) headers["content-type"] = "application/json";
    return fetch(`/api${path}`, {
      method: init.method ?? "GET",
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    });
  };
  let res: Response;
  try {
    res = await send();
    // An expired access token: renew once and retry.
    if (res.status === 401 && currentAccessToken()) {
      if (await refreshSession()) res = await send();
    }
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError(0, null);
  }
  if (!res.ok) {
    const problem = (await res.json().catch(() => null)) as Problem | null;
    throw new ApiError(res.status, problem);
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
