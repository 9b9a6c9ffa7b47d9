"use client";
// Write, edit or delete the signed-in shopper's review of a product.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { api } from "@/lib/api-client";
import { ApiError } from "@/lib/problem";
import { useSession } from "@/lib/session";
import type { Review } from "@/lib/types";

export function ReviewEditor({ productId, approved }: { productId: string; approved: Review[] }) {
  const { status, user } = useSession();
  const router = useRouter();
  const [mine, setMine] = useState<Review | null>(null);
  const [editing, setEditing] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (status !== "signed-in" || !user) {
    return <p className="muted">Sign in to review this product.</p>;
  }
  const own = mine ?? approved.find((r) => r.userId === user.id) ?? null;
  const showForm = !own || editing;

  async function submit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const body = { rating: Number(f.get("rating")), title: String(f.get("title")), body: String(f.get("body")) };
    setBusy(true);
    setError(null);
    try {
      const saved = own
        ? await api<Review>(`/v1/reviews/${own.id}`, { method: "PATCH", body })
        : await api<Review>(`/v1/products/${productId}/reviews`, { method: "POST", body });
      setMine(saved);
      setEditing(false);
      setMessage(
        saved.status === "approved"
          ? "Your review is published."
          : "Thank you. Your review will appear once it has been checked.",
      );
      router.refresh();
    } catch (err) {
      const e2 = err as ApiError;
      setError(e2.status === 409 ? "You have already reviewed this product." : e2.message);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!own) return;
    setBusy(true);
    setError(null);
    try {
      await api(`/v1/reviews/${own.id}`, { method: "DELETE" });
      setMine(null);
      setMessage("Your review was deleted.");
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="your-review" className="review-editor">
      <h3 id="your-review">Your review</h3>
      <div role="status" aria-live="polite">
        {message}
      </div>
      {error && <p role="alert">{error}</p>}
      {own && !editing && (
        <div>
          <p>
            <strong>{own.title}</strong> ({own.rating} out of 5, {own.status})
          </p>
          <p>{own.body}</p>
          <button type="button" onClick={() => setEditing(true)}>
            Edit review
          </button>{" "}
          <button type="button" onClick={remove} disabled={busy}>
            Delete review
          </button>
        </div>
      )}
      {showForm && (
        <form onSubmit={submit}>
          <label>
            Rating
            <select name="rating" defaultValue={own?.rating ?? 5}>
              {[5, 4, 3, 2, 1].map((n) => (
                <option key={n} value={n}>
                  {n} {n === 1 ? "star" : "stars"}
                </option>
              ))}
            </select>
          </label>
          <label>
            Title
            <input name="title" required maxLength={120} defaultValue={own?.title} />
          </label>
          <label>
            Review
            <textarea name="body" required maxLength={4000} rows={4} defaultValue={own?.body} />
          </label>
          <button type="submit" disabled={busy}>
            {own ? "Save review" : "Submit review"}
          </button>
          {editing && (
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          )}
        </form>
      )}
    </section>
  );
}
