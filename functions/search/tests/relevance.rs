//! The relevance test set over the demo catalog: queries with the results
//! shoppers expect on top (exact names, brands, plurals, typos, prefixes,
//! several words), filters with their facet counts, sorts and paging.

mod common;

use common::{demo, demo_index, query};
use search::index::{Change, SearchIndex, SearchQuery, Sort};
use std::collections::HashSet;

/// The top `n` hits of `q` all satisfy `ok`.
async fn top_all(
    index: &dyn SearchIndex,
    q: &str,
    n: usize,
    ok: impl Fn(&search::index::SearchDoc) -> bool,
) {
    let r = index.search(&query(q)).await.unwrap();
    assert!(r.hits.len() >= n, "{q}: only {} hits", r.hits.len());
    for h in r.hits.iter().take(n) {
        assert!(
            ok(h),
            "{q}: unexpected hit {} ({}, {})",
            h.name,
            h.brand,
            h.category
        );
    }
}

/// One of the top `n` hits of `q` satisfies `ok`.
async fn top_any(
    index: &dyn SearchIndex,
    q: &str,
    n: usize,
    ok: impl Fn(&search::index::SearchDoc) -> bool,
) {
    let r = index.search(&query(q)).await.unwrap();
    assert!(r.hits.iter().take(n).any(ok), "{q}: not in the top {n}");
}

async fn first_name(index: &dyn SearchIndex, q: &str) -> String {
    index.search(&query(q)).await.unwrap().hits[0].name.clone()
}

#[tokio::test]
async fn expected_top_results() {
    let index = demo_index().await;
    let i: &dyn SearchIndex = &index;
    // Category words, singular and plural, and their typos.
    for q in ["laptop", "laptops", "labtop", "lpatop", "lapt"] {
        top_all(i, q, 10, |h| h.category == "laptops").await;
    }
    for q in ["headphones", "headphone", "hedphones", "headphnes"] {
        top_all(i, q, 10, |h| h.category == "headphones").await;
    }
    for q in ["camera", "cameras", "camrea"] {
        top_all(i, q, 10, |h| h.category == "cameras").await;
    }
    top_all(i, "smartphones", 10, |h| h.category == "smartphones").await;
    top_all(i, "novels", 5, |h| h.category == "books").await;
    // Brand names, exact, lower-case, misspelt, and of two words.
    for q in ["Northwind", "northwind", "nortwind"] {
        top_all(i, q, 9, |h| h.brand == "Northwind").await;
    }
    top_all(i, "summit ridge", 9, |h| h.brand == "Summit Ridge").await;
    top_all(i, "lumera buds", 2, |h| {
        h.brand == "Lumera" && h.name.contains("Buds")
    })
    .await;
    // Exact product names and several words.
    assert_eq!(
        first_name(i, "Brevette Barista Espresso Machine").await,
        "Brevette Barista Espresso Machine with Built-In Grinder"
    );
    assert!(first_name(i, "espresso machine")
        .await
        .contains("Espresso Machine"));
    assert!(first_name(i, "yoga mat").await.contains("Yoga Mat"));
    // "blendr" is one typo from "blender" and from "blend" (a wool blend).
    top_any(i, "blendr", 3, |h| h.name.contains("Blender")).await;
    top_all(i, "wireless earbuds", 3, |h| {
        h.name.contains("Wireless Earbuds")
    })
    .await;
    top_all(i, "rain jacket", 2, |h| h.name.contains("Rain Jacket")).await;
    top_all(i, "serum", 2, |h| h.name.contains("Serum")).await;
    // An exact match ranks above a fuzzy one: "kettle" before "kettlebell".
    assert!(first_name(i, "kettle").await.contains("Electric Kettle"));
    // Nothing matches gibberish.
    assert_eq!(i.search(&query("qqxzv")).await.unwrap().total, 0);
}

#[tokio::test]
async fn exact_matches_rank_above_prefix_and_fuzzy_ones() {
    let index = demo_index().await;
    let r = index.search(&query("sofa")).await.unwrap();
    // Both sofas come before anything that only resembles the word.
    assert!(r.hits[0].name.contains("Sofa") && r.hits[1].name.contains("Sofa"));
}

#[tokio::test]
async fn filters_and_facets() {
    let index = demo_index().await;
    let all = demo();
    let mut q = query("");
    q.limit = 100;
    let r = index.search(&q).await.unwrap();
    assert_eq!(r.total, 242);
    assert_eq!(r.facets.category.len(), 12);
    assert_eq!(r.facets.category[0].value, "clothing");
    assert_eq!(r.facets.category[0].count, 22);
    assert_eq!(r.facets.category.iter().map(|f| f.count).sum::<u64>(), 242);

    // Category filter: the brand facet counts within it, the category facet
    // ignores it (shoppers can switch).
    q.category = Some("laptops".into());
    let r = index.search(&q).await.unwrap();
    assert_eq!(r.total, 20);
    assert!(r.hits.iter().all(|h| h.category == "laptops"));
    assert_eq!(r.facets.category.iter().map(|f| f.count).sum::<u64>(), 242);
    let expected = all
        .iter()
        .filter(|d| d.category == "laptops" && d.brand == "Northwind")
        .count();
    let nw = r
        .facets
        .brand
        .iter()
        .find(|f| f.value == "Northwind")
        .unwrap();
    assert_eq!(nw.count as usize, expected);
    assert_eq!(r.facets.brand.iter().map(|f| f.count).sum::<u64>(), 20);

    // Brand + price range.
    q.brand = Some("Northwind".into());
    q.min_price = Some(100_000);
    q.max_price = Some(150_000);
    let r = index.search(&q).await.unwrap();
    let expected: Vec<_> = all
        .iter()
        .filter(|d| {
            d.category == "laptops"
                && d.brand == "Northwind"
                && (100_000..=150_000).contains(&d.price_amount)
        })
        .collect();
    assert_eq!(r.total as usize, expected.len());
    assert!(!expected.is_empty());
    assert!(r
        .hits
        .iter()
        .all(|h| h.brand == "Northwind" && (100_000..=150_000).contains(&h.price_amount)));

    // Text and filters together.
    let mut q = query("labtop");
    q.brand = Some("Halden".into());
    let r = index.search(&q).await.unwrap();
    assert!(r.total > 0 && r.hits.iter().all(|h| h.brand == "Halden"));
}

#[tokio::test]
async fn sorts_are_ordered_and_deterministic() {
    let index = demo_index().await;
    let mut q = query("");
    q.limit = 100;
    q.category = Some("kitchen".into());
    q.sort = Sort::PriceAsc;
    let prices: Vec<i64> = index
        .search(&q)
        .await
        .unwrap()
        .hits
        .iter()
        .map(|h| h.price_amount)
        .collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]));
    q.sort = Sort::PriceDesc;
    let prices: Vec<i64> = index
        .search(&q)
        .await
        .unwrap()
        .hits
        .iter()
        .map(|h| h.price_amount)
        .collect();
    assert!(prices.windows(2).all(|w| w[0] >= w[1]));
    q.sort = Sort::Rating;
    let ratings: Vec<(f64, u32)> = index
        .search(&q)
        .await
        .unwrap()
        .hits
        .iter()
        .map(|h| (h.rating_average, h.rating_count))
        .collect();
    assert!(ratings.windows(2).all(|w| w[0] >= w[1]));
    q.sort = Sort::Newest;
    let created: Vec<_> = index
        .search(&q)
        .await
        .unwrap()
        .hits
        .iter()
        .map(|h| h.created_at)
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]));
    // Relevance ties (every product scores alike without text) fall to
    // rating, then count.
    q.sort = Sort::Relevance;
    let ratings: Vec<(f64, u32)> = index
        .search(&q)
        .await
        .unwrap()
        .hits
        .iter()
        .map(|h| (h.rating_average, h.rating_count))
        .collect();
    assert!(ratings.windows(2).all(|w| w[0] >= w[1]));
    let again: Vec<(f64, u32)> = index
        .search(&q)
        .await
        .unwrap()
        .hits
        .iter()
        .map(|h| (h.rating_average, h.rating_count))
        .collect();
    assert_eq!(ratings, again);
}

async fn walk(index: &dyn SearchIndex, mut q: SearchQuery) -> Vec<String> {
    let mut ids = Vec::new();
    loop {
        let r = index.search(&q).await.unwrap();
        ids.extend(r.hits.iter().map(|h| h.id.clone()));
        match r.next {
            Some(next) => q.after = Some(next),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn paging_walks_every_match_exactly_once() {
    let index = demo_index().await;
    for (text, sort) in [
        ("", Sort::Relevance),
        ("", Sort::PriceAsc),
        ("", Sort::Rating),
        ("", Sort::Newest),
        ("wireless", Sort::Relevance),
        ("labtop", Sort::PriceDesc),
    ] {
        let mut q = query(text);
        q.sort = sort;
        q.limit = 7;
        let total = index.search(&q).await.unwrap().total as usize;
        let ids = walk(&index, q.clone()).await;
        assert_eq!(ids.len(), total, "{text:?} {sort:?}");
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            total,
            "{text:?} {sort:?}: duplicates"
        );
        q.limit = 100;
        let one_page = walk(&index, q).await;
        assert_eq!(
            ids, one_page,
            "{text:?} {sort:?}: pages disagree with one long page"
        );
    }
}

#[tokio::test]
async fn suggestions_complete_prefixes_and_typos() {
    let index = demo_index().await;
    assert_eq!(index.suggest("lap", 5).await.unwrap()[0], "laptop");
    assert_eq!(index.suggest("LAPT", 5).await.unwrap()[0], "laptop");
    assert_eq!(index.suggest("hedph", 5).await.unwrap()[0], "headphones");
    assert_eq!(index.suggest("northw", 5).await.unwrap()[0], "northwind");
    assert!(index
        .suggest("summit r", 5)
        .await
        .unwrap()
        .contains(&"summit ridge".to_owned()));
    assert_eq!(index.suggest("lap", 2).await.unwrap().len(), 2);
    assert!(index.suggest("qqxzv", 5).await.unwrap().is_empty());
    // A deleted product's words leave the suggestions.
    let bell = demo()
        .into_iter()
        .find(|d| d.name.contains("Kettlebell"))
        .unwrap();
    let has_bell = |s: Vec<String>| s.iter().any(|s| s.starts_with("kettlebell"));
    assert!(has_bell(index.suggest("kettleb", 8).await.unwrap()));
    index.apply(Change::Delete(bell.id)).await.unwrap();
    assert!(!has_bell(index.suggest("kettleb", 8).await.unwrap()));
}

/// Suggestions see every write as soon as it returns, while other calls
/// read (and cache) the dictionary at the same time: a renamed product's
/// new word is suggested and its old one is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggestions_follow_each_write_while_others_read_them() {
    let index = std::sync::Arc::new(demo_index().await);
    let mut doc = demo().remove(0);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (index, stop) = (index.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    index.suggest("q", 8).await.unwrap();
                }
            })
        })
        .collect();
    // Letters only: each name is one new word, "q" then two letters.
    let word = |n: usize| {
        format!(
            "q{}{}",
            (b'a' + (n / 26) as u8) as char,
            (b'a' + (n % 26) as u8) as char
        )
    };
    for n in 0..60 {
        doc.name = format!("{} Lamp", word(n));
        doc.updated_at += chrono::Duration::seconds(1);
        index.upsert(vec![doc.clone()]).await.unwrap();
        let now = index.suggest(&word(n), 8).await.unwrap();
        assert!(now.contains(&word(n)), "write {n}: {now:?}");
        if n > 0 {
            let before = index.suggest(&word(n - 1), 8).await.unwrap();
            assert!(
                !before.contains(&word(n - 1)),
                "write {n}: the old name's word is still suggested: {before:?}"
            );
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        r.await.unwrap();
    }
}
