import type { Metadata } from "next";
import { AccountView } from "@/components/AccountView";
import { RequireSession } from "@/components/RequireSession";

export const metadata: Metadata = { title: "Your account" };

export default function AccountPage() {
  return (
    <RequireSession>
      <AccountView />
    </RequireSession>
  );
}
