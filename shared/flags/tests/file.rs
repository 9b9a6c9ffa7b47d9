//! The file adapter on disk: edits take effect without a restart, a bad
//! edit keeps the last good flags, a removed file is the defaults.

use lite_flags::testing::replace_file;
use lite_flags::{Checkout, FileFlags, FlagSource, Flags};
use std::time::Duration;

#[tokio::test]
async fn an_edit_is_in_force_on_the_next_look_and_a_bad_edit_keeps_the_last_good_flags() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flags.json");
    let flags = FileFlags::new(&path, Duration::ZERO);
    assert_eq!(flags.flags().await, Flags::default(), "no file: defaults");

    replace_file(
        &path,
        r#"{"checkoutPaused": true, "checkoutRetryAfterSeconds": 120}"#,
    );
    let paused = flags.flags().await;
    assert_eq!(
        paused.checkout,
        Checkout::Paused {
            retry_after_secs: 120
        }
    );

    // Garbage, an unknown key and a value out of range: each refused whole.
    for bad in [
        "{\"checkoutPaused\": fal",
        r#"{"checkoutPaused": false, "searchFallback": true}"#,
        r#"{"checkoutPaused": false, "paymentTimeoutSeconds": 0}"#,
        "",
    ] {
        replace_file(&path, bad);
        assert_eq!(
            flags.flags().await,
            paused,
            "{bad:?} must not change the flags"
        );
    }

    replace_file(&path, r#"{"searchCatalogFallback": true}"#);
    let fallback = flags.flags().await;
    assert!(fallback.search_catalog_fallback);
    assert_eq!(fallback.checkout, Checkout::Open);

    std::fs::remove_file(&path).unwrap();
    assert_eq!(flags.flags().await, Flags::default(), "removed: defaults");
}

#[tokio::test]
async fn an_in_place_rewrite_is_seen_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flags.json");
    std::fs::write(&path, r#"{"searchCatalogFallback": false}"#).unwrap();
    let flags = FileFlags::new(&path, Duration::ZERO);
    assert!(!flags.flags().await.search_catalog_fallback);
    // Same inode; the length differs.
    std::fs::write(&path, r#"{"searchCatalogFallback": true }"#).unwrap();
    assert!(flags.flags().await.search_catalog_fallback);
}

#[tokio::test]
async fn between_looks_the_flags_in_hand_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flags.json");
    let flags = FileFlags::new(&path, Duration::from_secs(3600));
    assert!(!flags.flags().await.search_catalog_fallback);
    replace_file(&path, r#"{"searchCatalogFallback": true}"#);
    assert!(
        !flags.flags().await.search_catalog_fallback,
        "within check_every the file is not looked at"
    );
    // A fresh adapter (a restart) sees the file.
    assert!(
        FileFlags::new(&path, Duration::from_secs(3600))
            .flags()
            .await
            .search_catalog_fallback
    );
}

#[test]
fn the_default_document_is_written_once_and_never_over_an_operators_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flags.json");
    assert!(FileFlags::write_defaults_if_missing(&path).unwrap());
    let written = std::fs::read(&path).unwrap();
    assert_eq!(Flags::parse(&written).unwrap(), Flags::default());
    std::fs::write(&path, r#"{"checkoutPaused": true}"#).unwrap();
    assert!(!FileFlags::write_defaults_if_missing(&path).unwrap());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        r#"{"checkoutPaused": true}"#
    );
}
