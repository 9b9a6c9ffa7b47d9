//! The HTTP clients the simulated users share.
//!
//! The API limits sign-ups per client address (300 an hour, API.md), so
//! thousands of shoppers from one address would be refused: against a
//! loopback host each group of [`USERS_PER_ADDRESS`] users takes its own
//! source address in 127.0.0.0/8 (Linux routes the whole block to `lo`),
//! like households behind their own routers. Users of one address share one
//! client, so connections are pooled and reused as a browser would. Against
//! any other host every user shares one client from the machine's own
//! address.
//!
//! Connections are bounded like a proxy's pool: each address (each client)
//! has a [`Gate`] of `connections / addresses` permits, and a request holds
//! one from before it is sent until its body is read, so no more requests
//! are in flight, and no more connections open, than the permits (the
//! local API takes at most 1024 connections and refuses the next one).
//! When the API is slow, requests queue at the gate instead of opening
//! ever more connections; the time they wait there is recorded
//! ([`Waits`]) and reported beside the latencies goose measures from the
//! send.

use super::LoadError;
use reqwest13::{Client, Url};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Users per source address: within the sign-up limit with a margin for a
/// second run against the same API within the hour.
pub const USERS_PER_ADDRESS: usize = 100;
/// A request that has not answered in this long counts as an error.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Open connections of a run, all addresses together, unless told
/// otherwise (`--connections`): half the local API's cap.
pub const DEFAULT_CONNECTIONS: usize = 512;

pub struct ClientPool {
    clients: Vec<(Client, Gate)>,
    observer: Client,
    per_address: usize,
    waits: Arc<Waits>,
}

impl ClientPool {
    /// Clients for `users` users against `host`, with at most
    /// `connections` open at once (at least one per address).
    pub fn new(host: &Url, users: usize, connections: usize) -> Result<Self, LoadError> {
        let observer = build(None, None)?;
        let loopback = host
            .host_str()
            .and_then(|h| h.parse::<Ipv4Addr>().ok())
            .is_some_and(|ip| ip.is_loopback());
        let addresses = if loopback {
            users.div_ceil(USERS_PER_ADDRESS).max(1)
        } else {
            1
        };
        let per_address = (connections / addresses).max(1);
        let waits = Arc::new(Waits::default());
        let clients = (0..addresses)
            .map(|i| {
                let local = loopback.then(|| source_address(i));
                let gate = Gate {
                    permits: Arc::new(Semaphore::new(per_address)),
                    waits: waits.clone(),
                };
                Ok((build(local, Some(per_address))?, gate))
            })
            .collect::<Result<Vec<_>, LoadError>>()?;
        Ok(ClientPool {
            clients,
            observer,
            per_address,
            waits,
        })
    }

    /// The client of the `index`th simulated user and the gate its
    /// requests pass.
    pub fn for_user(&self, index: usize) -> (Client, Gate) {
        self.clients[(index / USERS_PER_ADDRESS) % self.clients.len()].clone()
    }

    /// Connections open at most, all addresses together.
    pub fn connections(&self) -> usize {
        self.per_address * self.clients.len()
    }

    /// The pool's size and how long requests waited for it, for the report.
    pub fn summary(&self) -> String {
        format!(
            "connection pool: {} connections ({} per address); {}",
            self.connections(),
            self.per_address,
            self.waits.summary()
        )
    }

    /// The client of set-up and end-state checks (the machine's address).
    pub fn observer(&self) -> &Client {
        &self.observer
    }

    pub fn addresses(&self) -> usize {
        self.clients.len()
    }
}

/// 127.0.(1 + i / 250).(1 + i % 250): never 127.0.0.1 itself, whose
/// sign-up allowance the observer and other tools keep.
fn source_address(i: usize) -> IpAddr {
    let hi = 1 + (i / 250) as u8;
    let lo = 1 + (i % 250) as u8;
    IpAddr::V4(Ipv4Addr::new(127, 0, hi, lo))
}

fn build(local: Option<IpAddr>, idle: Option<usize>) -> Result<Client, LoadError> {
    let mut b = Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(30))
        .tcp_nodelay(true);
    if let Some(ip) = local {
        b = b.local_address(ip);
    }
    if let Some(n) = idle {
        b = b.pool_max_idle_per_host(n);
    }
    Ok(b.build()?)
}

/// The permits of one client's connections (see the module's doc).
#[derive(Clone)]
pub struct Gate {
    permits: Arc<Semaphore>,
    waits: Arc<Waits>,
}

impl Gate {
    /// Waits for a connection of the pool; the request may go while the
    /// permit lives.
    pub async fn pass(&self) -> OwnedSemaphorePermit {
        let since = Instant::now();
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the gate's semaphore is never closed");
        self.waits.record(since.elapsed());
        permit
    }
}

/// How long requests waited at the gates: every request counted, the
/// waits over a millisecond kept (in milliseconds) for percentiles.
#[derive(Default)]
pub struct Waits {
    requests: AtomicU64,
    waited_ms: Mutex<Vec<u32>>,
}

impl Waits {
    fn record(&self, waited: Duration) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let ms = waited.as_millis();
        if ms >= 1 {
            let ms = u32::try_from(ms).unwrap_or(u32::MAX);
            self.waited_ms.lock().expect("waits lock").push(ms);
        }
    }

    /// One line for the report: how many requests waited a millisecond or
    /// more for a connection, and how long (p50, p99, max over all).
    pub fn summary(&self) -> String {
        let requests = self.requests.load(Ordering::Relaxed);
        let mut waited = self.waited_ms.lock().expect("waits lock").clone();
        waited.sort_unstable();
        let over_all = |q: f64| -> u32 {
            // Requests that did not wait count as 0 ms, before the others.
            let rank = ((requests as f64) * q).ceil() as u64;
            let quick = requests - waited.len() as u64;
            match rank.checked_sub(quick + 1) {
                Some(i) => waited.get(i as usize).copied().unwrap_or(0),
                None => 0,
            }
        };
        format!(
            "{} of {requests} requests waited >= 1 ms for a connection; wait p50 {} / p99 {} / max {} ms",
            waited.len(),
            over_all(0.50),
            over_all(0.99),
            waited.last().copied().unwrap_or(0)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_users_spread_over_source_addresses() {
        let pool = ClientPool::new(&"http://127.0.0.1:3000".parse().unwrap(), 1001, 512).unwrap();
        assert_eq!(pool.addresses(), 11);
        assert_eq!(pool.connections(), 11 * (512 / 11));
        let remote = ClientPool::new(&"http://shop.example".parse().unwrap(), 1001, 512).unwrap();
        assert_eq!(remote.addresses(), 1);
        assert_eq!(remote.connections(), 512);
        assert_eq!(source_address(0), "127.0.1.1".parse::<IpAddr>().unwrap());
        assert_eq!(source_address(251), "127.0.2.2".parse::<IpAddr>().unwrap());
    }

    #[tokio::test]
    async fn a_gate_lets_as_many_through_as_it_has_connections() {
        let pool = ClientPool::new(&"http://127.0.0.1:3000".parse().unwrap(), 100, 2).unwrap();
        let (_, gate) = pool.for_user(0);
        let first = gate.pass().await;
        let _second = gate.pass().await;
        let third = tokio::spawn({
            let gate = gate.clone();
            async move { gate.pass().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !third.is_finished(),
            "a third request went through two connections"
        );
        drop(first);
        let _third = tokio::time::timeout(Duration::from_secs(5), third)
            .await
            .expect("a freed connection lets the next request through");
        let summary = pool.summary();
        assert!(
            summary.starts_with(
                "connection pool: 2 connections (2 per address); 1 of 3 requests waited"
            ),
            "{summary}"
        );
    }

    #[test]
    fn waits_are_percentiles_over_every_request() {
        let waits = Waits::default();
        for _ in 0..98 {
            waits.record(Duration::ZERO);
        }
        waits.record(Duration::from_millis(40));
        waits.record(Duration::from_millis(900));
        assert_eq!(
            waits.summary(),
            "2 of 100 requests waited >= 1 ms for a connection; wait p50 0 / p99 40 / max 900 ms"
        );
    }
}
