//! Where signing keys come from, and how their public halves reach every
//! verifier.
//!
//! **Private keys** (seeds) never enter the table:
//! - locally, `<data_dir>/auth/signing-key` (hex seed, mode 0600), created
//!   on first use; its public key is also written to
//!   `<data_dir>/keys/<kid>.pub.pem`, the folder the local API trusts at
//!   start-up. `<data_dir>/auth/previous-signing-key`, if present, is the
//!   previous key of a rotation;
//! - on AWS, the Secrets Manager secret named by
//!   `AMAZON_LITE_SIGNING_SECRET_ARN` (its string is the hex seed), and
//!   during a rotation `AMAZON_LITE_PREVIOUS_SIGNING_SECRET_ARN`; read on
//!   the first request that signs, never at init.
//!
//! **Public keys** are published in the table whenever the auth service
//! loads its keys, and again at least every [`REPUBLISH_EVERY`]:
//!
//! | item | PK | SK | GSI1PK / GSI1SK |
//! |---|---|---|---|
//! | published public key | `SIGNKEY#<kid>` | `SIGNKEY` | `SIGNKEYS` / `<kid>` |
//!
//! with `publicKeyPem`, `x` (JWK), `alg`, `publishedAt` and `expiresAt` =
//! publication + [`PUBLICATION_TTL`]. Every function may read them:
//! [`PublishedKeys`] is the [`KeySource`] a verifier learns unknown kids
//! from (one GetItem per new kid), and `GET /.well-known/jwks.json` is one
//! GSI1 query of the `SIGNKEYS` partition. A key that no running auth
//! function holds any more stops being republished and so stops verifying
//! after its `expiresAt` (plus the verifiers' [`LEARNED_KEY_TTL`] cache);
//! deleting its item makes that immediate for new verifiers.
//!
//! [`LEARNED_KEY_TTL`]: lite_http::auth::LEARNED_KEY_TTL

use crate::keys::{Jwk, Jwks, SigningKey, SigningKeys};
use chrono::{DateTime, Duration, Utc};
use futures::future::BoxFuture;
use lite_core::{rfc3339, Clock};
use lite_store::{attr, Condition, Index, Item, Key, Query, SkCondition, Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// How long a publication stays valid without being renewed.
pub const PUBLICATION_TTL: Duration = Duration::hours(6);
/// How often a running auth function renews its publication.
pub const REPUBLISH_EVERY: Duration = Duration::hours(1);

const KEYSET_PARTITION: &str = "SIGNKEYS";

pub fn signkey_key(kid: &str) -> Key {
    auth_guard::signkey_key(kid)
}

type Loader = Arc<dyn Fn() -> BoxFuture<'static, Result<SigningKeys, String>> + Send + Sync>;

/// The signing keys, loaded on first use and then published.
#[derive(Clone)]
pub struct KeyProvider {
    cell: Arc<OnceCell<Arc<SigningKeys>>>,
    load: Loader,
    published_at: Arc<Mutex<Option<DateTime<Utc>>>>,
    describe: String,
}

impl std::fmt::Debug for KeyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

impl KeyProvider {
    /// Keys already in hand (tests, benchmarks).
    pub fn ready(keys: SigningKeys) -> Self {
        let describe = format!("signing keys in memory (kid {})", keys.kid());
        Self {
            cell: Arc::new(OnceCell::new_with(Some(Arc::new(keys)))),
            load: Arc::new(|| Box::pin(async { Err("already loaded".to_owned()) })),
            published_at: Arc::default(),
            describe,
        }
    }

    /// Keys from `load`, called on first use (retried on the next use if it
    /// fails).
    pub fn lazy(
        describe: impl Into<String>,
        load: impl Fn() -> BoxFuture<'static, Result<SigningKeys, String>> + Send + Sync + 'static,
    ) -> Self {
        Self {
            cell: Arc::new(OnceCell::new()),
            load: Arc::new(load),
            published_at: Arc::default(),
            describe: describe.into(),
        }
    }

    /// The local key files under `data_dir` (created on first use).
    pub fn data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let dir: PathBuf = data_dir.into();
        let describe = format!("signing key in {}", dir.join("auth").display());
        Self::lazy(describe, move || {
            let dir = dir.clone();
            Box::pin(async move {
                tokio::task::spawn_blocking(move || load_or_create(&dir))
                    .await
                    .map_err(|e| e.to_string())?
            })
        })
    }

    /// The secrets named by `current_arn` and `previous_arn` (Lambda builds
    /// only: reading them needs the AWS SDK).
    #[cfg(feature = "lambda")]
    pub fn secrets_manager(current_arn: String, previous_arn: Option<String>) -> Self {
        let describe = format!("signing key from Secrets Manager ({current_arn})");
        Self::lazy(describe, move || {
            let (current, previous) = (current_arn.clone(), previous_arn.clone());
            Box::pin(async move {
                let seed = lite_lambda::secret_string(&current).await?;
                let keys =
                    SigningKeys::from_seed_hex(&seed).map_err(|e| format!("{current}: {e}"))?;
                let Some(previous) = previous else {
                    return Ok(keys);
                };
                let seed = lite_lambda::secret_string(&previous).await?;
                let old = SigningKey::from_secret(&seed).map_err(|e| format!("{previous}: {e}"))?;
                Ok(keys.with_previous(old))
            })
        })
    }

    /// The keys, loading them on first use and (re)publishing their public
    /// halves in the table when the last publication is older than
    /// [`REPUBLISH_EVERY`].
    pub async fn get(
        &self,
        store: &dyn Store,
        clock: &dyn Clock,
    ) -> Result<Arc<SigningKeys>, String> {
        let keys = self.load().await?;
        let now = clock.now();
        let due = {
            let last = self.published_at.lock().unwrap_or_else(|p| p.into_inner());
            last.is_none_or(|t| now - t >= REPUBLISH_EVERY)
        };
        if due {
            self.publish_keys(store, &keys, now).await?;
        }
        Ok(keys)
    }

    /// Loads the keys and publishes their public halves now, whenever they
    /// were last published: what runs before the first request (the local
    /// API's start-up, the deploy on AWS), so the JWKS names the signing
    /// key before any token exists.
    pub async fn publish_now(
        &self,
        store: &dyn Store,
        clock: &dyn Clock,
    ) -> Result<Arc<SigningKeys>, String> {
        let keys = self.load().await?;
        self.publish_keys(store, &keys, clock.now()).await?;
        Ok(keys)
    }

    async fn load(&self) -> Result<Arc<SigningKeys>, String> {
        Ok(self
            .cell
            .get_or_try_init(|| async { (self.load)().await.map(Arc::new) })
            .await?
            .clone())
    }

    async fn publish_keys(
        &self,
        store: &dyn Store,
        keys: &SigningKeys,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        publish(store, keys, now)
            .await
            .map_err(|e| format!("cannot publish the public keys: {e}"))?;
        *self.published_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(now);
        tracing::info!(kid = keys.kid(), "signing keys published");
        Ok(())
    }

    /// The keys if they are loaded already (never loads).
    pub fn loaded(&self) -> Option<Arc<SigningKeys>> {
        self.cell.get().cloned()
    }
}

/// Writes (or renews) the `SIGNKEY#<kid>` item of every verifying key.
pub async fn publish(
    store: &dyn Store,
    keys: &SigningKeys,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let expires = (now + PUBLICATION_TTL).timestamp();
    for key in keys.verifying() {
        let mut item = signkey_key(key.kid()).to_item();
        item.insert(attr::GSI1PK.into(), KEYSET_PARTITION.into());
        item.insert(attr::GSI1SK.into(), key.kid().into());
        item.insert("entity".into(), "signingKey".into());
        item.insert("kid".into(), key.kid().into());
        item.insert("alg".into(), "EdDSA".into());
        item.insert("x".into(), key.x().into());
        item.insert("publicKeyPem".into(), key.public_pem().into());
        item.insert("publishedAt".into(), rfc3339(now).into());
        item.insert(attr::EXPIRES_AT.into(), expires.into());
        store.put(item, None).await?;
    }
    Ok(())
}

fn live(item: &Item, now: DateTime<Utc>) -> bool {
    item.get(attr::EXPIRES_AT)
        .and_then(|v| v.as_i64())
        .is_some_and(|t| t > now.timestamp())
}

/// The published keys, as a JWK Set (one GSI1 query).
pub async fn published_jwks(store: &dyn Store, now: DateTime<Utc>) -> Result<Jwks, StoreError> {
    let page = store
        .query(
            &Query::new(Index::Gsi1, KEYSET_PARTITION)
                .sk(SkCondition::Ge(String::new()))
                .limit(100)
                .filter(Condition::gt(attr::EXPIRES_AT, now.timestamp())),
        )
        .await?;
    let mut keys: Vec<(String, Jwk)> = page
        .items
        .iter()
        .filter(|i| live(i, now))
        .filter_map(|i| {
            let s = |n: &str| i.get(n).and_then(|v| v.as_str()).map(str::to_owned);
            Some((
                s("publishedAt").unwrap_or_default(),
                Jwk {
                    kty: "OKP".into(),
                    crv: "Ed25519".into(),
                    x: s("x")?,
                    kid: s("kid")?,
                    alg: "EdDSA".into(),
                    use_: "sig".into(),
                },
            ))
        })
        .collect();
    // Most recently published first: the current key leads.
    keys.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.kid.cmp(&b.1.kid)));
    Ok(Jwks {
        keys: keys.into_iter().map(|(_, k)| k).collect(),
    })
}

/// Reads `<dir>/auth/signing-key`, or creates it (0600) when absent, and
/// makes sure `<dir>/keys/<kid>.pub.pem` holds each verifying key.
pub fn load_or_create(data_dir: &Path) -> Result<SigningKeys, String> {
    let auth_dir = data_dir.join("auth");
    std::fs::create_dir_all(&auth_dir)
        .map_err(|e| format!("cannot create {}: {e}", auth_dir.display()))?;
    let path = auth_dir.join("signing-key");
    let current = match std::fs::read_to_string(&path) {
        Ok(s) => SigningKey::from_secret(&s).map_err(|e| format!("{}: {e}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate();
            match write_new_private(&path, key.seed_hex().as_bytes()) {
                Ok(()) => key,
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let s = std::fs::read_to_string(&path)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    SigningKey::from_secret(&s).map_err(|e| format!("{}: {e}", path.display()))?
                }
                Err(e) => return Err(format!("cannot write {}: {e}", path.display())),
            }
        }
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let previous_path = auth_dir.join("previous-signing-key");
    let previous = match std::fs::read_to_string(&previous_path) {
        Ok(s) => Some(
            SigningKey::from_secret(&s).map_err(|e| format!("{}: {e}", previous_path.display()))?,
        ),
        Err(_) => None,
    };
    let keys = SigningKeys::new(current, previous);
    let keys_dir = data_dir.join("keys");
    std::fs::create_dir_all(&keys_dir)
        .map_err(|e| format!("cannot create {}: {e}", keys_dir.display()))?;
    for key in keys.verifying() {
        let pem_path = keys_dir.join(format!("{}.pub.pem", key.kid()));
        let pem = key.public_pem();
        if std::fs::read_to_string(&pem_path).ok().as_deref() != Some(pem.as_str()) {
            std::fs::write(&pem_path, pem)
                .map_err(|e| format!("cannot write {}: {e}", pem_path.display()))?;
        }
    }
    Ok(keys)
}

fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lite_core::ManualClock;
    use lite_store::redb_store::RedbStore;

    #[test]
    fn local_keys_are_created_once_private_and_their_public_key_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        let again = load_or_create(dir.path()).unwrap();
        assert_eq!(first.kid(), again.kid());
        let key_file = dir.path().join("auth/signing-key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let pem = dir.path().join(format!("keys/{}.pub.pem", first.kid()));
        assert_eq!(std::fs::read_to_string(pem).unwrap(), first.public_pem());
        let mut v = lite_http::TokenVerifier::new();
        assert_eq!(v.trust_dir(&dir.path().join("keys")).unwrap(), 1);

        std::fs::write(&key_file, "garbage").unwrap();
        assert!(
            load_or_create(dir.path()).is_err(),
            "a broken key file is never replaced silently"
        );
    }

    #[tokio::test]
    async fn published_keys_are_found_by_kid_until_they_expire() {
        let store: Arc<dyn Store> = Arc::new(RedbStore::in_memory().unwrap());
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let old = SigningKey::generate();
        let keys = SigningKeys::generate().with_previous(old.clone());
        let provider = KeyProvider::ready(keys.clone());
        provider.get(store.as_ref(), clock.as_ref()).await.unwrap();
        use lite_http::auth::KeySource;
        let source = auth_guard::PublishedKeys::new(store.clone(), clock.clone());
        let pem = source.public_key(keys.kid()).await.unwrap().unwrap();
        assert_eq!(pem, keys.public_pem().into_bytes());
        assert!(source.public_key(old.kid()).await.unwrap().is_some());
        assert!(source
            .public_key("0000000000000000")
            .await
            .unwrap()
            .is_none());
        let jwks = published_jwks(store.as_ref(), clock.now()).await.unwrap();
        assert_eq!(jwks.keys.len(), 2);

        clock.advance(PUBLICATION_TTL + Duration::seconds(1));
        assert!(source.public_key(keys.kid()).await.unwrap().is_none());
        assert!(published_jwks(store.as_ref(), clock.now())
            .await
            .unwrap()
            .keys
            .is_empty());
        // The next use renews the publication.
        provider.get(store.as_ref(), clock.as_ref()).await.unwrap();
        assert!(source.public_key(keys.kid()).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn publish_now_puts_the_key_in_the_jwks_before_any_token_is_signed() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(RedbStore::in_memory().unwrap());
        let clock = ManualClock::new(Utc::now());
        assert!(published_jwks(store.as_ref(), clock.now())
            .await
            .unwrap()
            .keys
            .is_empty());
        let published = KeyProvider::data_dir(dir.path())
            .publish_now(store.as_ref(), &clock)
            .await
            .unwrap();
        let jwks = published_jwks(store.as_ref(), clock.now()).await.unwrap();
        let kids: Vec<&str> = jwks.keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, [published.kid()]);
        // The provider that later signs (another instance on the same
        // files) signs with that very key.
        let signing = KeyProvider::data_dir(dir.path())
            .get(store.as_ref(), &clock)
            .await
            .unwrap();
        assert_eq!(signing.kid(), published.kid());
    }
}
