//! Password hashing: argon2id with OWASP's minimum parameters (19 MiB,
//! 2 passes, 1 lane), PHC strings in the table. Hashing is deliberately
//! slow (tens of milliseconds), so it runs on tokio's blocking pool and
//! never stalls the request threads.

use crate::domain::Password;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use std::sync::LazyLock;
use tokio::sync::Semaphore;

/// Memory cost in KiB (OWASP Password Storage Cheat Sheet: 19 MiB).
pub const M_COST_KIB: u32 = 19_456;
/// Passes over memory.
pub const T_COST: u32 = 2;
/// Lanes.
pub const P_COST: u32 = 1;

/// A hash of a password nobody knows, with the same parameters, verified
/// when the e-mail is unknown (or the account has no password) so such a
/// login costs the same time as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZS1maXhlZC1zYWx0$6I3lGAr0kmaNRVgU6Dk1w9ilNC5jzvH9DtSIU9dpnBY";

/// Hashes (and verifications) running at once: one per core. Each holds
/// 19 MiB while it runs, and more hashes than cores would only share the
/// CPUs, so this bounds the memory logins and signups take (cores × 19 MiB)
/// whatever the number of requests in flight, at no cost in throughput.
static HASHING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(hashing_permits()));

fn hashing_permits() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `work` (a hash) on the blocking pool once a hashing permit is free.
async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|e| format!("hashing permits: {e}"))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| format!("hashing task failed: {e}"))
}

fn hasher() -> Argon2<'static> {
    // The parameters are constants inside argon2's accepted ranges.
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of `password` with a fresh 16-byte salt.
pub async fn hash(password: &Password) -> Result<String, String> {
    let password = password.expose().to_owned();
    hashing(move || hash_blocking(&password)).await?
}

pub fn hash_blocking(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches `phc`; with `None` it checks the dummy hash
/// (always false, same cost). A stored hash that does not parse is an error
/// (logged by the caller), not a wrong password.
pub async fn verify(password: &str, phc: Option<&str>) -> Result<bool, String> {
    let password = password.to_owned();
    let (phc, real) = match phc {
        Some(p) => (p.to_owned(), true),
        None => (DUMMY_HASH.to_owned(), false),
    };
    let matched = hashing(move || verify_blocking(&password, &phc)).await??;
    Ok(matched && real)
}

pub fn verify_blocking(password: &str, phc: &str) -> Result<bool, String> {
    let parsed = PasswordHash::new(phc).map_err(|e| format!("stored hash: {e}"))?;
    // The parameters come from the PHC string, so hashes made with other
    // parameters (older or newer) still verify.
    match hasher().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(format!("verification: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_owasp_parameters() {
        let pw = Password::new("correct horse 42", None).unwrap();
        let phc = hash(&pw).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse 42", Some(&phc)).await.unwrap());
        assert!(!verify("correct horse 43", Some(&phc)).await.unwrap());
        assert_ne!(phc, hash(&pw).await.unwrap(), "salted");
        assert!(verify("x", Some("not a phc string")).await.is_err());
    }

    #[tokio::test]
    async fn the_dummy_hash_has_the_same_cost_and_never_matches() {
        assert!(DUMMY_HASH.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        PasswordHash::new(DUMMY_HASH).unwrap();
        assert!(!verify("anything", None).await.unwrap());
        assert!(!verify("", None).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_one_hash_per_core_runs_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        static RUNNING: AtomicUsize = AtomicUsize::new(0);
        static PEAK: AtomicUsize = AtomicUsize::new(0);
        let tasks: Vec<_> = (0..4 * hashing_permits())
            .map(|_| {
                tokio::spawn(hashing(|| {
                    PEAK.fetch_max(RUNNING.fetch_add(1, SeqCst) + 1, SeqCst);
                    // Long enough for the others to overlap, were they let in.
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    RUNNING.fetch_sub(1, SeqCst);
                }))
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let peak = PEAK.load(SeqCst);
        assert!(
            peak >= 1 && peak <= hashing_permits(),
            "{peak} hashes at once"
        );
    }
}
