//! Test helpers (feature `testing`).

use std::path::Path;

/// Replaces the flags file at `path` whole with `text`, as an editor does
/// (written beside it, then renamed over it): a reader sees the old file or
/// the new one, never half of one.
pub fn replace_file(path: &Path, text: &str) {
    let tmp = path.with_extension("edit");
    std::fs::write(&tmp, text).expect("the edit is written");
    std::fs::rename(&tmp, path).expect("the edit replaces the file");
}
