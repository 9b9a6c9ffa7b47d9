//! The HTTP clients the simulated users share.
//!
//! The API limits sign-ups per client address (300 an hour, API.md), so
//! thousands of shoppers from one address would be refused: against a
//! loopback host each group of [`USERS_PER_ADDRESS`] users takes its own
//! source address in 127.0.0.0/8 (Linux routes the whole block to `lo`),
//! like households behind their own routers. Users of one address share one
//! client, so connections are pooled and reused as a browser would: the
//! open connections follow the requests in flight, not the users (the local
//! API takes at most 1024 connections). Against any other host every user
//! shares one client from the machine's own address.

use super::LoadError;
use reqwest13::{Client, Url};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// Users per source address: within the sign-up limit with a margin for a
/// second run against the same API within the hour.
pub const USERS_PER_ADDRESS: usize = 100;
/// A request that has not answered in this long counts as an error.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

pub struct ClientPool {
    clients: Vec<Client>,
    observer: Client,
}

impl ClientPool {
    pub fn new(host: &Url, users: usize) -> Result<Self, LoadError> {
        let observer = build(None)?;
        let loopback = host
            .host_str()
            .and_then(|h| h.parse::<Ipv4Addr>().ok())
            .is_some_and(|ip| ip.is_loopback());
        let clients = if loopback {
            let addresses = users.div_ceil(USERS_PER_ADDRESS).max(1);
            (0..addresses)
                .map(|i| build(Some(source_address(i))))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            vec![observer.clone()]
        };
        Ok(ClientPool { clients, observer })
    }

    /// The client of the `index`th simulated user.
    pub fn for_user(&self, index: usize) -> Client {
        self.clients[(index / USERS_PER_ADDRESS) % self.clients.len()].clone()
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

fn build(local: Option<IpAddr>) -> Result<Client, LoadError> {
    let mut b = Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(30))
        .tcp_nodelay(true);
    if let Some(ip) = local {
        b = b.local_address(ip);
    }
    Ok(b.build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_users_spread_over_source_addresses() {
        let pool = ClientPool::new(&"http://127.0.0.1:3000".parse().unwrap(), 1001).unwrap();
        assert_eq!(pool.addresses(), 11);
        let remote = ClientPool::new(&"http://shop.example".parse().unwrap(), 1001).unwrap();
        assert_eq!(remote.addresses(), 1);
        assert_eq!(source_address(0), "127.0.1.1".parse::<IpAddr>().unwrap());
        assert_eq!(source_address(251), "127.0.2.2".parse::<IpAddr>().unwrap());
    }
}
