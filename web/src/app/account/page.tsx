import type { Metadata } from "next";
import { AccountView } from "@/components/AccountView";
import { RequireSession } from "@/components/RequireSession";

// Rendered per request, never cached: the shopper's own account.
export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "Your account" };

export default function AccountPage() {
  return (
    <RequireSession>
      <AccountView />
    </RequireSession>
  );
}
