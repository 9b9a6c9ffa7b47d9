//! Search benchmark: indexing throughput, then search and suggest latency
//! (p50/p99) over a fixed query mix, on the demo catalog and on a
//! generated 100k-product catalog; then the indexer's changes on an index
//! on disk, one at a time and ten at a time (as the local bus hands them
//! to the consumer). Prints figures.
//!
//! `cargo bench -p search --bench search --no-default-features`

use chrono::{DateTime, Duration, Utc};
use search::index::{Change, SearchDoc, SearchIndex, SearchQuery, Sort};
use search::TantivyIndex;
use std::time::Instant;

const BATCH: usize = 5_000;

const QUERIES: &[&str] = &[
    "laptop",
    "labtop",
    "wireless headphones",
    "hedphones",
    "northwind",
    "camera lens",
    "coffee",
    "running shoes",
    "lamp",
    "smart speaker",
    "lapt",
    "blender",
    "yoga mat",
    "kids toys",
    "serum",
];
const PREFIXES: &[&str] = &[
    "l", "la", "lap", "lapt", "head", "hedp", "cam", "nor", "coff", "smart", "run", "ble",
];

fn demo() -> Vec<SearchDoc> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../local/demo/products.json");
    let raw = std::fs::read_to_string(path).expect("the demo catalog is readable");
    let items: Vec<serde_json::Value> =
        serde_json::from_str(&raw).expect("the demo catalog parses");
    let base: DateTime<Utc> = "2024-01-01T00:00:00Z".parse().expect("a date");
    items
        .iter()
        .enumerate()
        .map(|(i, p)| SearchDoc {
            id: format!("prd_01J{i:023}"),
            sku: p["sku"].as_str().unwrap_or_default().to_owned(),
            name: p["name"].as_str().unwrap_or_default().to_owned(),
            description: p["description"].as_str().unwrap_or_default().to_owned(),
            category: p["category"].as_str().unwrap_or_default().to_owned(),
            brand: p["brand"].as_str().unwrap_or_default().to_owned(),
            price_amount: p["price"]["amount"].as_i64().unwrap_or(0),
            currency: "USD".into(),
            rating_average: (i % 50) as f64 / 10.0,
            rating_count: (i * 7 % 300) as u32,
            image: None,
            created_at: base + Duration::minutes(i as i64),
            updated_at: base + Duration::minutes(i as i64),
        })
        .collect()
}

/// A deterministic catalog of `n` products from word lists.
fn generated(n: usize) -> Vec<SearchDoc> {
    const ADJ: &[&str] = &[
        "wireless",
        "portable",
        "compact",
        "premium",
        "classic",
        "smart",
        "ergonomic",
        "organic",
        "rugged",
        "slim",
        "deluxe",
        "modular",
        "quiet",
        "bright",
        "foldable",
        "heated",
    ];
    const NOUN: &[(&str, &str)] = &[
        ("laptop", "laptops"),
        ("headphones", "headphones"),
        ("camera", "cameras"),
        ("smartphone", "smartphones"),
        ("speaker", "smart-home"),
        ("blender", "kitchen"),
        ("kettle", "kitchen"),
        ("novel", "books"),
        ("puzzle", "toys"),
        ("backpack", "sports"),
        ("running shoes", "sports"),
        ("desk lamp", "furniture"),
        ("armchair", "furniture"),
        ("serum", "beauty"),
        ("jacket", "clothing"),
        ("yoga mat", "sports"),
        ("coffee grinder", "kitchen"),
        ("camera lens", "cameras"),
        ("thermostat", "smart-home"),
        ("earbuds", "headphones"),
    ];
    const BRAND: &[&str] = &[
        "Northwind",
        "Lumera",
        "Summit Ridge",
        "Hearthlink",
        "Orbis",
        "Altair",
        "Sonaro",
        "Kestrel",
        "Brightfield",
        "Glowpath",
        "Pacefield",
        "Aurelle",
        "Halden",
        "Tessary",
        "Veyra",
        "Quillon",
        "Fennick",
        "Vistaro",
        "Vantix",
        "Brevette",
    ];
    const EXTRA: &[&str] = &[
        "with long battery life",
        "for travel",
        "in matte black",
        "with fast charging",
        "for everyday use",
        "made from recycled materials",
        "with a two-year warranty",
        "for small spaces",
        "with adjustable settings",
        "in a gift box",
    ];
    let base: DateTime<Utc> = "2023-01-01T00:00:00Z".parse().expect("a date");
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    (0..n)
        .map(|i| {
            let adj = ADJ[next() % ADJ.len()];
            let (noun, category) = NOUN[next() % NOUN.len()];
            let brand = BRAND[next() % BRAND.len()];
            let extra = EXTRA[next() % EXTRA.len()];
            let model = next() % 900 + 100;
            SearchDoc {
                id: format!("prd_01K{i:023}"),
                sku: format!("GEN-{i:08}"),
                name: format!("{brand} {adj} {noun} {model}"),
                description: format!("A {adj} {noun} by {brand} {extra}. Model {model}."),
                category: category.into(),
                brand: brand.into(),
                price_amount: (next() % 200_000 + 500) as i64,
                currency: "USD".into(),
                rating_average: (next() % 51) as f64 / 10.0,
                rating_count: (next() % 2000) as u32,
                image: None,
                created_at: base + Duration::seconds(i as i64 * 37),
                updated_at: base + Duration::seconds(i as i64 * 37),
            }
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(what: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "  {what:<8} n={:<5} p50={:.3} ms  p99={:.3} ms",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.99)
    );
}

async fn run(label: &str, docs: Vec<SearchDoc>, rounds: usize) {
    let index = TantivyIndex::in_memory().expect("an index");
    let n = docs.len();
    let start = Instant::now();
    let mut docs = docs;
    while !docs.is_empty() {
        let rest = docs.split_off(docs.len().min(BATCH));
        index.upsert(docs).await.expect("indexing");
        docs = rest;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{label}: {n} products indexed in {secs:.2} s ({:.0} docs/s, batches of {BATCH})",
        n as f64 / secs
    );
    // Warm the suggestion dictionary (rebuilt once per index generation).
    let warm = Instant::now();
    index.suggest("la", 8).await.expect("suggest");
    println!(
        "  suggestion dictionary built in {:.1} ms",
        warm.elapsed().as_secs_f64() * 1e3
    );

    let mut search_ms = Vec::new();
    for round in 0..rounds {
        for (i, q) in QUERIES.iter().enumerate() {
            let sort = [Sort::Relevance, Sort::PriceAsc, Sort::Rating][(i + round) % 3];
            let query = SearchQuery {
                text: Some((*q).into()),
                category: None,
                brand: None,
                min_price: None,
                max_price: None,
                sort,
                limit: 20,
                after: None,
            };
            let t = Instant::now();
            let r = index.search(&query).await.expect("search");
            search_ms.push(t.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(r);
        }
    }
    report("search", search_ms);
    let mut suggest_ms = Vec::new();
    for _ in 0..rounds {
        for p in PREFIXES {
            let t = Instant::now();
            let r = index.suggest(p, 8).await.expect("suggest");
            suggest_ms.push(t.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(r);
        }
    }
    report("suggest", suggest_ms);
}

/// The demo catalog put as changes on a fresh index on disk, `at_once`
/// changes in flight at a time (the local bus hands the consumer a batch
/// of 10 at once): what a burst of product events costs the indexer.
async fn changes(docs: Vec<SearchDoc>, at_once: usize) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let index = TantivyIndex::open(dir.path()).expect("an index");
    let n = docs.len();
    let start = Instant::now();
    let mut docs = docs.into_iter().peekable();
    while docs.peek().is_some() {
        let wave: Vec<_> = docs
            .by_ref()
            .take(at_once)
            .map(|doc| {
                let index = index.clone();
                tokio::spawn(async move { index.apply(Change::Put(doc)).await })
            })
            .collect();
        for change in wave {
            change.await.expect("a change task").expect("a change");
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "changes on disk, {at_once} at a time: {n} in {secs:.2} s ({:.1} ms a change, {} commits)",
        secs * 1e3 / n as f64,
        index.commits()
    );
}

#[tokio::main]
async fn main() {
    run("demo catalog", demo(), 40).await;
    run("generated catalog", generated(100_000), 10).await;
    changes(demo(), 1).await;
    changes(demo(), 10).await;
}
