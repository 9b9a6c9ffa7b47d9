//! The reservation cases on the embedded adapter: in memory and on disk.

mod reservation_cases;

use lite_store::redb_store::RedbStore;
use lite_store::Store;
use std::sync::Arc;

mod in_memory {
    use super::*;

    async fn store() -> (Arc<dyn Store>, ()) {
        (Arc::new(RedbStore::in_memory().unwrap()), ())
    }

    crate::reservation_cases!(store, buyers = 500, workers = 120);
}

mod on_disk {
    use super::*;

    /// A store in a fresh file; the directory goes when the case ends.
    async fn store() -> (Arc<dyn Store>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(&dir.path().join("table.redb")).unwrap();
        (Arc::new(store), dir)
    }

    crate::reservation_cases!(store, buyers = 500, workers = 120);
}
