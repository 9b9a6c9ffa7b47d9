//! The demo catalog as search documents (ids and dates deterministic);
//! `engine`: a live engine that can be taken down, over catalog products.

#![allow(dead_code)]

pub mod engine;

use chrono::{DateTime, Duration, Utc};
use search::index::{SearchDoc, SearchIndex, SearchQuery, Sort};
use search::TantivyIndex;

pub fn demo_raw() -> Vec<serde_json::Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../local/demo/products.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn demo() -> Vec<SearchDoc> {
    let base: DateTime<Utc> = "2024-01-01T00:00:00Z".parse().unwrap();
    demo_raw()
        .iter()
        .enumerate()
        .map(|(i, p)| SearchDoc {
            id: format!("prd_01J{i:023}"),
            sku: p["sku"].as_str().unwrap().to_owned(),
            name: p["name"].as_str().unwrap().to_owned(),
            description: p["description"].as_str().unwrap().to_owned(),
            category: p["category"].as_str().unwrap().to_owned(),
            brand: p["brand"].as_str().unwrap().to_owned(),
            price_amount: p["price"]["amount"].as_i64().unwrap(),
            currency: p["price"]["currency"].as_str().unwrap().to_owned(),
            // Spread ratings deterministically so tie-breakers matter.
            rating_average: ((i * 13) % 41) as f64 / 10.0 + 1.0,
            rating_count: ((i * 7) % 300) as u32,
            image: p["images"][0].as_str().map(str::to_owned),
            created_at: base + Duration::minutes(i as i64),
            updated_at: base + Duration::minutes(i as i64),
        })
        .collect()
}

pub async fn demo_index() -> TantivyIndex {
    let index = TantivyIndex::in_memory().unwrap();
    index.upsert(demo()).await.unwrap();
    index
}

pub fn query(text: &str) -> SearchQuery {
    SearchQuery {
        text: (!text.is_empty()).then(|| text.to_owned()),
        category: None,
        brand: None,
        min_price: None,
        max_price: None,
        sort: Sort::Relevance,
        limit: 10,
        after: None,
    }
}
