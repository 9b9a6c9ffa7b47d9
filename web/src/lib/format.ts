import type { Money, OrderStatus } from "./types";

export function formatMoney(m: Money | undefined | null): string {
  if (!m) return "";
  const currency = m.currency || "USD";
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(m.amount / 100);
  } catch {
    return `${(m.amount / 100).toFixed(2)} ${currency}`;
  }
}

const STATUS_WORDS: Record<OrderStatus, string> = {
  PENDING: "Pending",
  CONFIRMED: "Confirmed",
  SHIPPED: "Shipped",
  DELIVERED: "Delivered",
  FAILED: "Failed",
  CANCELLED: "Cancelled",
};

export function statusWord(s: OrderStatus | string): string {
  return STATUS_WORDS[s as OrderStatus] ?? s;
}

/** An order's failure reason (and the provider's detail) in plain words. */
export function failureWords(reason?: string | null, detail?: string | null): string {
  const d = (detail ?? "").toLowerCase();
  switch (reason) {
    case "payment_declined":
      if (d.includes("insufficient")) return "The payment was declined: the card has insufficient funds.";
      return "The payment was declined by the card issuer.";
    case "out_of_stock":
      return "Some items ran out of stock before we could reserve them.";
    case "payment_timeout":
      return "The payment provider did not answer in time, so the order was not placed.";
    case "checkout_error":
      return "Something went wrong while placing the order. You have not been charged.";
    default:
      return reason ? `The order failed (${reason.replaceAll("_", " ")}).` : "The order failed.";
  }
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }) + " UTC";
}
