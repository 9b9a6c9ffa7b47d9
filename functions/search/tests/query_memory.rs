//! A search's memory does not grow with what the query text holds: prefix
//! and typo automata are built only for short words and the first few words
//! (`tantivy_index::query`). A fuzzer's query of twenty 19-letter Cyrillic
//! words used to build 80 automata of 3.6 MiB each.
//!
//! The peak of live heap bytes during one search is measured with a
//! counting global allocator (this test binary holds this one test).

use chrono::Utc;
use search::index::{SearchDoc, SearchQuery, Sort};
use search::{SearchIndex, TantivyIndex};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn grew(by: isize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters only record sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size as isize - layout.size() as isize);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: isize = 1024 * 1024;

fn doc(i: usize, name: &str) -> SearchDoc {
    SearchDoc {
        id: format!("prd_{i:026}"),
        sku: format!("SKU-{i}"),
        name: name.to_owned(),
        description: format!("{name} for every day"),
        category: "audio".to_owned(),
        brand: "Northwind".to_owned(),
        price_amount: 1000 + i as i64,
        currency: "USD".to_owned(),
        rating_average: 4.0,
        rating_count: 3,
        image: None,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn query(text: &str) -> SearchQuery {
    SearchQuery {
        text: Some(text.to_owned()),
        category: None,
        brand: None,
        min_price: None,
        max_price: None,
        sort: Sort::Relevance,
        limit: 20,
        after: None,
    }
}

/// The peak of live heap bytes above the start while `q` is searched.
async fn peak_during(index: &TantivyIndex, q: &SearchQuery) -> isize {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    index.search(q).await.unwrap();
    PEAK.load(Ordering::Relaxed) - before
}

#[tokio::test(flavor = "current_thread")]
async fn long_words_build_no_large_automata() {
    let index = TantivyIndex::in_memory().unwrap();
    index
        .upsert(vec![
            doc(1, "Wireless headphones"),
            doc(2, "Laptop stand"),
            doc(3, "Coffee grinder"),
        ])
        .await
        .unwrap();

    // Typo tolerance still works on ordinary words.
    let found = index.search(&query("hedphones")).await.unwrap();
    assert_eq!(found.total, 1);

    // Ten 19-letter Cyrillic words (38 bytes each, under the analyzer's
    // 40-byte token limit): 199 characters, within the route's 200.
    let word: String = "абвгдежзийклмнопрст".to_owned();
    let text = vec![word; 10].join(" ");
    assert!(text.chars().count() <= 200);
    let peak = peak_during(&index, &query(&text)).await;
    assert!(
        peak < 16 * MIB,
        "one search held {} MiB at its peak",
        peak / MIB
    );

    // Many short words: only the first few get automata.
    let text = vec!["kopfhörer"; 20].join(" ");
    let peak = peak_during(&index, &query(&text)).await;
    assert!(
        peak < 16 * MIB,
        "one search held {} MiB at its peak",
        peak / MIB
    );
}
