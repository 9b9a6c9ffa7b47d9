import Link from "next/link";
import { formatMoney } from "@/lib/format";
import type { Money } from "@/lib/types";

type Item = {
  id: string;
  name: string;
  brand: string;
  price: Money;
  rating: { average: number; count: number };
  image?: string | null;
  images?: string[];
  stock?: { available: number };
};

export function ProductCard({ p }: { p: Item }) {
  return (
    <li className="card">
      <h3>
        <Link href={`/products/${p.id}`}>{p.name}</Link>
      </h3>
      <p className="muted">{p.brand}</p>
      <p className="price">{formatMoney(p.price)}</p>
      <p className="muted">
        {p.rating.count > 0 ? `${p.rating.average.toFixed(1)} out of 5 (${p.rating.count})` : "No reviews yet"}
      </p>
      {p.stock && p.stock.available <= 0 && <p className="warn">Out of stock</p>}
    </li>
  );
}
