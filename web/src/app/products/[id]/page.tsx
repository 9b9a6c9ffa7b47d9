// A product page, rendered on the server: the product, its stock, rating and
// approved reviews, JSON-LD and Open Graph tags. Unknown ids are real 404s.
import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { AddToCart } from "@/components/AddToCart";
import { ReviewEditor } from "@/components/ReviewEditor";
import { getProduct, getReviews } from "@/lib/api-server";
import { formatDate, formatMoney } from "@/lib/format";
import type { Product } from "@/lib/types";

// Incremental static regeneration: a product page is rendered on its first
// request, then served from the cache and re-rendered in the background at
// most every 30 s (the API's max-age for a product; a literal, as Next reads
// it at build time). It is sent with `Cache-Control: s-maxage=30,
// stale-while-revalidate=30` (next.config.ts `expireTime`), which CloudFront
// honours. An admin's edit or a stock change is on the page within a
// minute; checkout re-prices and reserves against the live API anyway. A
// 404 is cached the same way, so a new product appears within 30 s too.
export const revalidate = 30;

// No page is rendered at build time (the build has no API): every id is
// rendered on demand and then cached.
export function generateStaticParams(): { id: string }[] {
  return [];
}

type Props = { params: Promise<{ id: string }> };

async function load(id: string): Promise<Product> {
  const r = await getProduct(id);
  // A malformed id is a 400 from the API: for the shopper it is a page that does not exist.
  if (r.status === 404 || r.status === 400) notFound();
  // Anything else is an outage, not a missing product: fail the render so
  // no 404 is cached (a regeneration that fails keeps the last good page).
  if (!r.data) throw new Error(`GET /v1/products/${id} answered ${r.status}`);
  return r.data;
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { id } = await params;
  const r = await getProduct(id);
  if (!r.data) return { title: "Product not found" };
  const p = r.data;
  const description = p.description.slice(0, 200);
  return {
    title: p.name,
    description,
    alternates: { canonical: `/products/${p.id}` },
    openGraph: {
      type: "website",
      title: p.name,
      description,
      url: `/products/${p.id}`,
      siteName: "Amazon Lite",
      images: p.images.slice(0, 1),
    },
    other: {
      "product:price:amount": (p.price.amount / 100).toFixed(2),
      "product:price:currency": p.price.currency,
    },
  };
}

function stockText(available: number): { text: string; inStock: boolean } {
  if (available <= 0) return { text: "Out of stock", inStock: false };
  if (available <= 5) return { text: `Only ${available} left in stock`, inStock: true };
  return { text: `In stock (${available} available)`, inStock: true };
}

export default async function ProductPage({ params }: Props) {
  const { id } = await params;
  const p = await load(id);
  const reviews = (await getReviews(p.id)).data;
  const stock = stockText(p.stock.available);
  const summary = reviews?.summary;

  const jsonLd = {
    "@context": "https://schema.org",
    "@type": "Product",
    name: p.name,
    sku: p.sku,
    description: p.description,
    brand: { "@type": "Brand", name: p.brand },
    category: p.category,
    image: p.images,
    offers: {
      "@type": "Offer",
      price: (p.price.amount / 100).toFixed(2),
      priceCurrency: p.price.currency,
      availability: stock.inStock ? "https://schema.org/InStock" : "https://schema.org/OutOfStock",
    },
    ...(p.rating.count > 0
      ? { aggregateRating: { "@type": "AggregateRating", ratingValue: p.rating.average, reviewCount: p.rating.count } }
      : {}),
  };

  return (
    <article className="product">
      <script
        type="application/ld+json"
        // JSON-LD must not close the script element early.
        dangerouslySetInnerHTML={{ __html: JSON.stringify(jsonLd).replace(/</g, "\\u003c") }}
      />
      <h1>{p.name}</h1>
      <p className="muted">
        {p.brand} · <a href={`/?category=${encodeURIComponent(p.category)}`}>{p.category}</a>
      </p>
      <div className="product-main">
        <div className="image-placeholder" role="img" aria-label={`Picture of ${p.name}`}>
          {p.brand}
        </div>
        <div className="buy-box">
          <p className="price big">{formatMoney(p.price)}</p>
          <p className={stock.inStock ? "ok" : "warn"} data-testid="stock">
            {stock.text}
          </p>
          <p>
            {p.rating.count > 0
              ? `Rated ${p.rating.average.toFixed(1)} out of 5 by ${p.rating.count} ${p.rating.count === 1 ? "shopper" : "shoppers"}`
              : "No ratings yet"}
          </p>
          <AddToCart productId={p.id} available={p.stock.available} />
        </div>
      </div>
      <section aria-labelledby="about">
        <h2 id="about">About this item</h2>
        <p>{p.description}</p>
        {Object.keys(p.attributes).length > 0 && (
          <dl className="attributes">
            {Object.entries(p.attributes).map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))}
          </dl>
        )}
      </section>
      <section aria-labelledby="reviews">
        <h2 id="reviews">Customer reviews</h2>
        {summary && summary.count > 0 ? (
          <p>
            {summary.average.toFixed(1)} out of 5 · {summary.count} {summary.count === 1 ? "review" : "reviews"}
          </p>
        ) : (
          <p>No reviews yet.</p>
        )}
        <ul className="reviews">
          {(reviews?.items ?? []).map((r) => (
            <li key={r.id}>
              <h3>{r.title}</h3>
              <p aria-label={`${r.rating} out of 5 stars`}>
                {"★".repeat(r.rating)}
                {"☆".repeat(5 - r.rating)}
              </p>
              <p>{r.body}</p>
              <p className="muted">
                {formatDate(r.createdAt)}
                {r.verifiedPurchase ? " · Verified purchase" : ""}
              </p>
            </li>
          ))}
        </ul>
        <ReviewEditor productId={p.id} approved={reviews?.items ?? []} />
      </section>
    </article>
  );
}
