"use client";
import { useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";
import { api, query } from "@/lib/api-client";
import { formatDate, formatMoney, statusWord } from "@/lib/format";
import type { OrderPage } from "@/lib/types";
import { LoadMore } from "./LoadMore";

export function OrderList() {
  const orders = useInfiniteQuery({
    queryKey: ["orders"],
    queryFn: ({ pageParam }) => api<OrderPage>(`/v1/orders${query({ limit: 20, cursor: pageParam })}`),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const items = orders.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section>
      <h1>Your orders</h1>
      {orders.isError && <p role="alert">{orders.error.message}</p>}
      {orders.isSuccess && items.length === 0 && <p>You have no orders yet.</p>}
      <ul className="orders">
        {items.map((o) => (
          <li key={o.id}>
            <Link href={`/orders/${o.id}`}>Order {o.id}</Link> · {formatDate(o.createdAt)} ·{" "}
            {formatMoney(o.total as never)} · <strong>{statusWord(o.status)}</strong>
          </li>
        ))}
      </ul>
      {orders.isSuccess && (
        <LoadMore
          hasMore={!!orders.hasNextPage}
          loading={orders.isFetchingNextPage}
          onMore={() => void orders.fetchNextPage()}
        />
      )}
    </section>
  );
}
