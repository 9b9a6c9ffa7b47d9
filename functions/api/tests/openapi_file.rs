//! The `api` Lambda serves the document committed in the `platform` crate
//! (`platform::DOCUMENT`, embedded at build time) instead of building it:
//! that file must be exactly what the code describes now.
//!
//! Regenerate it with
//!
//! ```text
//! AMAZON_LITE_WRITE_OPENAPI=1 cargo test -p api --test openapi_file
//! ```
//!
//! (or `cargo run -p amazon-lite -- openapi > functions/platform/openapi.json`,
//! which prints the same bytes).

use std::path::PathBuf;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(platform::DOCUMENT_PATH)
}

#[test]
fn the_committed_document_is_the_generated_one() {
    let generated = api::openapi_file();
    if std::env::var_os("AMAZON_LITE_WRITE_OPENAPI").is_some() {
        std::fs::write(committed_path(), &generated).expect("write the committed document");
    }
    let on_disk = std::fs::read(committed_path()).expect("the committed document");
    // Both the embedded bytes (what the binary was built with) and the file
    // (what a rebuild would embed) must be current.
    let stale = [
        ("the file", on_disk.as_slice()),
        ("the embedded copy", platform::DOCUMENT),
    ]
    .into_iter()
    .filter(|(_, bytes)| *bytes != generated.as_bytes())
    .map(|(what, bytes)| format!("{what} ({} bytes)", bytes.len()))
    .collect::<Vec<_>>();
    assert!(
        stale.is_empty(),
        "{} differs from api::openapi() ({} bytes): the routes or their schemas changed.\n\
         Regenerate it:  AMAZON_LITE_WRITE_OPENAPI=1 cargo test -p api --test openapi_file\n\
         and commit {}.",
        stale.join(" and "),
        generated.len(),
        platform::DOCUMENT_PATH,
    );
}
