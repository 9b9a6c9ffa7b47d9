//! Rate limits on the credential routes: fixed-window counters in the
//! table, incremented atomically (`ADD`), expiring with the window (TTL).
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | counter | `THROTTLE#<scope>#<subject>#<window>` | `THROTTLE` | `count`, `expiresAt` (window end + 1 min) |
//!
//! An attempt is *charged before* the work it limits (the counter's new
//! value decides), so a burst of parallel guesses cannot overshoot the
//! limit; a login that succeeds is refunded, so only failures count.
//! Scopes: `login-account` (per e-mail), `login-ip` (failed logins per
//! client address) and `signup-ip` (sign-ups per client address).

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use chrono::{DateTime, Utc};
use lite_store::{attr, Key, Store, StoreError, Update};
use std::net::IpAddr;

/// One limit: at most `max` charges per fixed window of `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub scope: &'static str,
    pub max: i64,
    pub window_secs: i64,
}

/// The limits of the credential routes. The defaults follow API.md: one
/// address (an office behind NAT) still gets at least 100 sign-ups and 100
/// successful logins an hour, because successful logins never count and
/// sign-ups are allowed 300 an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Failed logins per account (e-mail).
    pub login_per_account: Limit,
    /// Failed logins per client address.
    pub login_per_ip: Limit,
    /// Sign-ups per client address.
    pub signup_per_ip: Limit,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            login_per_account: Limit {
                scope: "login-account",
                max: 5,
                window_secs: 15 * 60,
            },
            login_per_ip: Limit {
                scope: "login-ip",
                max: 100,
                window_secs: 15 * 60,
            },
            signup_per_ip: Limit {
                scope: "signup-ip",
                max: 300,
                window_secs: 60 * 60,
            },
        }
    }
}

impl Limits {
    /// Limits so high they never bite (benchmarks).
    pub fn unlimited() -> Self {
        let d = Self::default();
        let open = |l: Limit| Limit {
            max: i64::MAX / 2,
            ..l
        };
        Self {
            login_per_account: open(d.login_per_account),
            login_per_ip: open(d.login_per_ip),
            signup_per_ip: open(d.signup_per_ip),
        }
    }
}

/// One charged counter.
#[derive(Debug, Clone)]
pub struct Charge {
    key: Key,
    pub limit: Limit,
    pub count: i64,
    /// Seconds until the window ends.
    pub reset_in: u64,
}

impl Charge {
    pub fn exceeded(&self) -> bool {
        self.count > self.limit.max
    }

    pub fn remaining(&self) -> i64 {
        (self.limit.max - self.count).max(0)
    }
}

/// The subject of a per-address limit. IPv6 clients are grouped by /64,
/// the block one subscriber usually holds, so rotating addresses inside it
/// gains nothing.
pub fn ip_subject(ip: Option<IpAddr>) -> String {
    match ip {
        None => "unknown".into(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Adds one to `subject`'s counter of `limit` in the current window.
pub async fn charge(
    store: &dyn Store,
    limit: Limit,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<Charge, StoreError> {
    let secs = now.timestamp();
    let window = secs.div_euclid(limit.window_secs);
    let window_end = (window + 1) * limit.window_secs;
    let key = Key::new(
        format!("THROTTLE#{}#{subject}#{window}", limit.scope),
        "THROTTLE",
    );
    let item = store
        .update(
            &key,
            &[
                Update::add("count", 1),
                Update::set(attr::EXPIRES_AT, window_end + 60),
                Update::set("entity", "throttle"),
            ],
            None,
        )
        .await?;
    let count = item.get("count").and_then(|v| v.as_i64()).unwrap_or(1);
    Ok(Charge {
        key,
        limit,
        count,
        reset_in: (window_end - secs).max(1) as u64,
    })
}

/// Gives a charge back (the attempt succeeded and must not count).
pub async fn refund(store: &dyn Store, charge: &mut Charge) -> Result<(), StoreError> {
    store
        .update(&charge.key, &[Update::add("count", -1)], None)
        .await?;
    charge.count -= 1;
    Ok(())
}

/// The `RateLimit-*` headers for the tightest of `charges`.
pub fn headers(charges: &[&Charge]) -> HeaderMap {
    let mut map = HeaderMap::new();
    let Some(tightest) = charges.iter().min_by_key(|c| (c.remaining(), c.reset_in)) else {
        return map;
    };
    let mut put = |name: &'static str, v: i64| {
        map.insert(HeaderName::from_static(name), HeaderValue::from(v));
    };
    put("ratelimit-limit", tightest.limit.max);
    put("ratelimit-remaining", tightest.remaining());
    put("ratelimit-reset", tightest.reset_in as i64);
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use lite_store::redb_store::RedbStore;

    #[test]
    fn addresses_group_sensibly() {
        assert_eq!(ip_subject(None), "unknown");
        assert_eq!(ip_subject(Some("10.1.2.3".parse().unwrap())), "10.1.2.3");
        assert_eq!(
            ip_subject(Some("::ffff:10.1.2.3".parse().unwrap())),
            "10.1.2.3"
        );
        assert_eq!(
            ip_subject(Some("2001:db8:1:2:aaaa::1".parse().unwrap())),
            ip_subject(Some("2001:db8:1:2:bbbb::9".parse().unwrap()))
        );
    }

    #[tokio::test]
    async fn counters_count_per_window_and_refund() {
        let store = RedbStore::in_memory().unwrap();
        let limit = Limit {
            scope: "t",
            max: 2,
            window_secs: 900,
        };
        let t0 = DateTime::from_timestamp(900 * 1000 + 10, 0).unwrap();
        let a = charge(&store, limit, "s", t0).await.unwrap();
        assert_eq!((a.count, a.remaining(), a.reset_in), (1, 1, 890));
        let mut b = charge(&store, limit, "s", t0).await.unwrap();
        assert!(!b.exceeded());
        refund(&store, &mut b).await.unwrap();
        assert_eq!(b.count, 1);
        charge(&store, limit, "s", t0).await.unwrap();
        let c = charge(&store, limit, "s", t0).await.unwrap();
        assert!(c.exceeded());
        assert_eq!(headers(&[&a, &c])["ratelimit-remaining"], "0");
        let next = charge(&store, limit, "s", t0 + chrono::Duration::seconds(890))
            .await
            .unwrap();
        assert_eq!(next.count, 1, "a new window starts from zero");
    }
}
