//! The redb store's page cache is bounded: writing and reading more data
//! than the cache holds leaves at most the cache (plus a little) on the heap.
//!
//! redb's own default cache is 1 GiB and keeps every page read or written
//! until it is full, so a long-running process grows with its data. The heap
//! is measured with a counting global allocator (this test binary holds this
//! one test, so nothing else allocates meanwhile): live bytes after the
//! reads, minus live bytes before the store was opened.

use lite_store::redb_store::{RedbStore, DEFAULT_CACHE_BYTES};
use lite_store::{Item, Key, Store, TxOp};
use serde_json::json;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counter only records sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: usize = 1024 * 1024;
/// Each item's payload: big enough that the data set is mostly pages.
const PAYLOAD: usize = 16 * 1024;

fn item(i: usize) -> Item {
    let Ok(serde_json::Value::Object(item)) = serde_json::to_value(json!({
        "PK": format!("BLOB#{i:06}"),
        "SK": "BLOB",
        // Varied bytes, so nothing compresses or deduplicates.
        "data": (0..PAYLOAD).map(|j| char::from(b'a' + ((i * 31 + j * 7) % 26) as u8)).collect::<String>(),
    })) else {
        unreachable!("a json object")
    };
    item
}

/// Writes `bytes` of items in transactions of 100, then reads each item
/// twice; returns how much the live heap grew since before `open`.
async fn heap_growth(open: impl FnOnce() -> RedbStore, bytes: usize) -> isize {
    let before = LIVE.load(Ordering::Relaxed);
    let store = open();
    let count = bytes / PAYLOAD;
    for start in (0..count).step_by(100) {
        let ops = (start..(start + 100).min(count))
            .map(|i| TxOp::put(item(i)))
            .collect();
        store.transact(ops).await.unwrap();
    }
    for _ in 0..2 {
        for i in 0..count {
            let key = Key::new(format!("BLOB#{i:06}"), "BLOB");
            assert!(store.get(&key).await.unwrap().is_some());
        }
    }
    let grown = LIVE.load(Ordering::Relaxed) - before;
    drop(store);
    grown
}

#[tokio::test(flavor = "current_thread")]
async fn the_page_cache_is_bounded() {
    let dir = tempfile::tempdir().unwrap();

    // A cache chosen at open holds: 24 MiB of data through a 4 MiB cache.
    let path = dir.path().join("small.redb");
    let grown = heap_growth(
        || RedbStore::open_with_cache(&path, 4 * MIB).unwrap(),
        24 * MIB,
    )
    .await;
    assert!(
        grown < (4 + 6) as isize * MIB as isize,
        "a 4 MiB cache left {} MiB on the heap",
        grown / MIB as isize
    );

    // `open` bounds it too: 64 MiB of data through the default cache
    // (redb's own default would keep all of it).
    let path = dir.path().join("default.redb");
    let grown = heap_growth(|| RedbStore::open(&path).unwrap(), 64 * MIB).await;
    assert!(
        grown < (DEFAULT_CACHE_BYTES + 8 * MIB) as isize,
        "the default cache ({} MiB) left {} MiB on the heap",
        DEFAULT_CACHE_BYTES / MIB,
        grown / MIB as isize
    );
}
