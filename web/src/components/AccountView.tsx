"use client";
// Profile, address book, orders, sign out.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { api } from "@/lib/api-client";
import { useSession } from "@/lib/session";
import type { AddressList, Profile } from "@/lib/types";
import { AddressFields, addressFromForm } from "./AddressFields";

export function AccountView() {
  const { signOut } = useSession();
  const router = useRouter();
  const qc = useQueryClient();
  const profile = useQuery({ queryKey: ["me"], queryFn: () => api<Profile>("/v1/me") });
  const addresses = useQuery({ queryKey: ["addresses"], queryFn: () => api<AddressList>("/v1/me/addresses") });
  const [message, setMessage] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);

  const saveProfile = useMutation({
    mutationFn: (body: { name: string; phone?: string }) => api<Profile>("/v1/me", { method: "PATCH", body }),
    onSuccess: (p) => {
      qc.setQueryData(["me"], p);
      setMessage("Profile saved.");
    },
  });
  const addAddress = useMutation({
    mutationFn: (body: Record<string, unknown>) => api("/v1/me/addresses", { method: "POST", body }),
    onSuccess: () => {
      setAdding(false);
      setMessage("Address added.");
      void qc.invalidateQueries({ queryKey: ["addresses"] });
    },
  });
  const deleteAddress = useMutation({
    mutationFn: (id: string) => api(`/v1/me/addresses/${id}`, { method: "DELETE" }),
    onSuccess: () => {
      setMessage("Address deleted.");
      void qc.invalidateQueries({ queryKey: ["addresses"] });
    },
  });

  return (
    <section>
      <h1>Your account</h1>
      <div role="status" aria-live="polite">
        {message}
      </div>
      <section aria-labelledby="profile">
        <h2 id="profile">Profile</h2>
        {profile.data && (
          <form
            className="stack"
            onSubmit={(e) => {
              e.preventDefault();
              const f = new FormData(e.currentTarget);
              const phone = String(f.get("phone") ?? "").trim();
              saveProfile.mutate({ name: String(f.get("name")).trim(), ...(phone ? { phone } : {}) });
            }}
          >
            <p>Email: {profile.data.email}</p>
            <label>
              Name
              <input name="name" required defaultValue={profile.data.name} />
            </label>
            <label>
              Phone (optional)
              <input name="phone" type="tel" defaultValue={profile.data.phone ?? ""} />
            </label>
            <button type="submit" disabled={saveProfile.isPending}>
              Save profile
            </button>
            {saveProfile.isError && <p role="alert">{saveProfile.error.message}</p>}
          </form>
        )}
      </section>
      <section aria-labelledby="addresses">
        <h2 id="addresses">Addresses</h2>
        <ul>
          {(addresses.data?.items ?? []).map((a) => (
            <li key={a.id}>
              {a.label}: {a.line1}, {a.city} {a.postalCode}, {a.country}
              {a.isDefault ? " (default)" : ""}{" "}
              <button type="button" onClick={() => deleteAddress.mutate(a.id)}>
                Delete<span className="visually-hidden"> address {a.label}</span>
              </button>
            </li>
          ))}
        </ul>
        {deleteAddress.isError && <p role="alert">{deleteAddress.error.message}</p>}
        {adding ? (
          <form
            className="stack"
            onSubmit={(e) => {
              e.preventDefault();
              const f = new FormData(e.currentTarget);
              addAddress.mutate({ ...addressFromForm(f), isDefault: f.get("isDefault") === "on" });
            }}
          >
            <label>
              Label
              <input name="label" required defaultValue="Home" />
            </label>
            <AddressFields />
            <label className="radio">
              <input type="checkbox" name="isDefault" /> Make this my default address
            </label>
            <button type="submit" disabled={addAddress.isPending}>
              Save address
            </button>
            {addAddress.isError && <p role="alert">{addAddress.error.message}</p>}
          </form>
        ) : (
          <button type="button" onClick={() => setAdding(true)}>
            Add an address
          </button>
        )}
      </section>
      <section aria-labelledby="orders">
        <h2 id="orders">Orders</h2>
        <p>
          <Link href="/account/orders">Your orders</Link>
        </p>
      </section>
      <p>
        <button
          type="button"
          onClick={async () => {
            await signOut();
            router.push("/");
          }}
        >
          Sign out
        </button>
      </p>
    </section>
  );
}
