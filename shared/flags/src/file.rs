//! The local adapter: a JSON file (the local API's `<data dir>/flags.json`),
//! re-read when it changes. At most once per `check_every` a read looks at
//! the file's metadata (modification time, length, inode); only a change
//! reads and parses it again. So an edit is in force within about
//! `check_every`, without a restart, and a request costs one `stat` a
//! second at most.
//!
//! - No file: the defaults (deleting the file turns every flag off).
//! - A file that does not parse: an error is logged once for that version
//!   of the file and the last good flags stay in force.

use crate::health::Health;
use crate::{FlagSource, Flags};
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// How long the local API trusts what it last saw of the file.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// What identifies one version of the file. Editors and `mv` replace the
/// file (a new inode); an in-place rewrite changes the time or the length.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Stamp {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode,
        }
    }
}

/// What the adapter last saw.
struct Seen {
    checked_at: Option<Instant>,
    /// `None`: no file.
    stamp: Option<Stamp>,
    flags: Flags,
    health: Health,
}

/// Flags from a JSON file, re-read when it changes.
pub struct FileFlags {
    path: PathBuf,
    check_every: Duration,
    seen: Mutex<Seen>,
}

impl FileFlags {
    /// Flags from `path`, looked at again at most once per `check_every`
    /// (tests use zero: every read looks).
    pub fn new(path: impl Into<PathBuf>, check_every: Duration) -> FileFlags {
        FileFlags {
            path: path.into(),
            check_every,
            seen: Mutex::new(Seen {
                checked_at: None,
                stamp: None,
                flags: Flags::default(),
                health: Health::default(),
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the default document at `path` when there is no file, so an
    /// operator finds every flag there to edit. An existing file is kept.
    pub fn write_defaults_if_missing(path: &Path) -> std::io::Result<bool> {
        use std::io::Write;
        let mut text = serde_json::to_string_pretty(&Flags::default().to_document())
            .expect("the defaults serialize");
        text.push('\n');
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(mut file) => {
                file.write_all(text.as_bytes())?;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        // The state is a plain value: a panic elsewhere cannot leave it torn.
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The file's version now (`None`: no file), or why it cannot be read.
    async fn stamp(&self) -> Result<Option<Stamp>, std::io::Error> {
        match tokio::fs::metadata(&self.path).await {
            Ok(meta) => Ok(Some(Stamp::of(&meta))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads and parses the file again; the flags, or why not.
    async fn load(&self, stamp: &Option<Stamp>) -> Result<Flags, String> {
        if stamp.is_none() {
            return Ok(Flags::default());
        }
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => Flags::parse(&bytes).map_err(|e| e.to_string()),
            // Removed between the stat and the read: the next look sees it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Flags::default()),
            Err(e) => Err(format!("cannot read: {e}")),
        }
    }
}

#[async_trait]
impl FlagSource for FileFlags {
    async fn flags(&self) -> Flags {
        let now = Instant::now();
        let (known, flags) = {
            let seen = self.lock();
            if let Some(at) = seen.checked_at {
                if now.duration_since(at) < self.check_every {
                    return seen.flags;
                }
            }
            (seen.checked_at.map(|_| seen.stamp.clone()), seen.flags)
        };
        let stamp = match self.stamp().await {
            Ok(stamp) => stamp,
            Err(e) => {
                let mut seen = self.lock();
                seen.checked_at = Some(now);
                if seen.health.failed("cannot stat") {
                    tracing::error!(path = %self.path.display(), error = %e, "cannot look at the flags file; keeping the flags in force");
                }
                return seen.flags;
            }
        };
        if known.as_ref() == Some(&stamp) {
            self.lock().checked_at = Some(now);
            return flags;
        }
        let loaded = self.load(&stamp).await;
        let mut seen = self.lock();
        seen.checked_at = Some(now);
        seen.stamp = stamp;
        match loaded {
            Ok(new) => {
                if seen.health.succeeded() {
                    tracing::info!(path = %self.path.display(), "the flags file is readable again");
                }
                if new != seen.flags {
                    tracing::info!(path = %self.path.display(), flags = ?new, "flags changed");
                }
                seen.flags = new;
            }
            Err(why) => {
                // Once per version of the file: its stamp is recorded, so
                // the same bad file is not read (nor logged) again.
                seen.health.failed(&why);
                tracing::error!(path = %self.path.display(), error = %why, flags = ?seen.flags, "the flags file is refused; keeping the last good flags");
            }
        }
        seen.flags
    }
}
