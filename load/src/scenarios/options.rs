//! What a run is asked to do: the scenario, where, how many users, how
//! long, how long shoppers think, and the administrator when one is needed.

use reqwest13::Url;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Mix,
    FlashSale,
    Soak,
    Import,
}

impl Scenario {
    pub const ALL: [Scenario; 4] = [
        Scenario::Mix,
        Scenario::FlashSale,
        Scenario::Soak,
        Scenario::Import,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Mix => "mix",
            Scenario::FlashSale => "flash-sale",
            Scenario::Soak => "soak-10k",
            Scenario::Import => "import",
        }
    }

    /// Simulated users when `--users` is not given (flash-sale: buyers;
    /// import: administrators creating products at once).
    pub fn default_users(self) -> usize {
        match self {
            Scenario::Mix => 200,
            Scenario::FlashSale => 100,
            Scenario::Soak => 10_000,
            Scenario::Import => 8,
        }
    }

    pub fn default_duration(self) -> Duration {
        match self {
            Scenario::Mix => Duration::from_secs(120),
            // The flash sale runs until every buyer's order has ended; this
            // bounds the preparation (sign-ups) before the release.
            Scenario::FlashSale => Duration::from_secs(600),
            Scenario::Soak => Duration::from_secs(300),
            Scenario::Import => Duration::from_secs(30),
        }
    }

    /// Pause between one step of a shopper and the next.
    pub fn default_think(self) -> Think {
        match self {
            Scenario::Mix => Think::new(Duration::from_millis(500), Duration::from_secs(3)),
            Scenario::FlashSale | Scenario::Import => Think::new(Duration::ZERO, Duration::ZERO),
            // A person reading a page: seconds, not a tight loop.
            Scenario::Soak => Think::new(Duration::from_secs(3), Duration::from_secs(10)),
        }
    }
}

impl FromStr for Scenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Scenario::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| format!("unknown scenario {s:?}: mix, flash-sale or soak-10k"))
    }
}

/// A pause drawn uniformly from `min..=max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Think {
    pub min: Duration,
    pub max: Duration,
}

impl Think {
    pub fn new(min: Duration, max: Duration) -> Self {
        Think {
            min,
            max: max.max(min),
        }
    }

    pub fn draw(&self) -> Duration {
        use rand::Rng;
        if self.max == self.min {
            return self.min;
        }
        let ms = rand::thread_rng().gen_range(self.min.as_millis()..=self.max.as_millis());
        Duration::from_millis(ms as u64)
    }
}

impl FromStr for Think {
    type Err = String;
    /// `MIN..MAX` in durations (`500ms..3s`), or one duration.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once("..") {
            Some((a, b)) => Ok(Think::new(parse_duration(a)?, parse_duration(b)?)),
            None => {
                let d = parse_duration(s)?;
                Ok(Think::new(d, d))
            }
        }
    }
}

/// `250ms`, `5s`, `5m`, `1h`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = number
        .parse()
        .map_err(|_| format!("not a duration: {s:?} (e.g. 500ms, 5s, 5m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("unknown unit in {s:?}: ms, s, m or h")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("not a duration: {s:?}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// The administrator a scenario signs in as (flash-sale creates its
/// product and reads its stock).
#[derive(Clone)]
pub struct Admin {
    pub email: String,
    pub password: String,
}

impl Admin {
    /// `ADMIN_EMAIL` and `ADMIN_PASSWORD`, when both are set.
    pub fn from_env() -> Option<Admin> {
        Some(Admin {
            email: std::env::var("ADMIN_EMAIL").ok()?,
            password: std::env::var("ADMIN_PASSWORD").ok()?,
        })
    }
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin").field("email", &self.email).finish()
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub scenario: Scenario,
    pub host: Url,
    pub users: usize,
    pub duration: Duration,
    pub think: Think,
    /// Seconds over which the users start (mix and soak).
    pub ramp: Option<Duration>,
    /// flash-sale: units on sale (default: a tenth of the buyers, at least 1).
    pub units: Option<usize>,
    /// Where goose's reports go (`<scenario>.json|html|md`).
    pub report_dir: PathBuf,
    /// The API's checkout payment timeout (`CHECKOUT_PAYMENT_TIMEOUT_SECS`)
    /// when known: only then do shoppers sometimes pay with
    /// `tok_noWebhook`, whose orders end only when it has passed.
    pub payment_timeout: Option<Duration>,
    pub admin: Option<Admin>,
    /// Connections open at most, all simulated users together
    /// (`clients::Gate`).
    pub connections: usize,
}

impl Options {
    /// The scenario's defaults against `host`; the administrator from the
    /// environment.
    pub fn new(scenario: Scenario, host: Url) -> Options {
        Options {
            scenario,
            host,
            users: scenario.default_users(),
            duration: scenario.default_duration(),
            think: scenario.default_think(),
            ramp: None,
            units: None,
            report_dir: PathBuf::from("target/load"),
            payment_timeout: None,
            admin: Admin::from_env(),
            connections: super::clients::DEFAULT_CONNECTIONS,
        }
    }

    /// The ramp: as given, else a fifth of the run (at most a minute).
    pub(crate) fn ramp(&self) -> Duration {
        self.ramp
            .unwrap_or_else(|| (self.duration / 5).min(Duration::from_secs(60)))
            .max(Duration::from_millis(100))
    }

    /// Users started per second so that all have started after the ramp.
    pub(crate) fn ramp_rate(&self, users: usize) -> f64 {
        (users as f64 / self.ramp().as_secs_f64()).max(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_think_times_parse() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("7").unwrap(), Duration::from_secs(7));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("-1s").is_err());
        let t: Think = "500ms..3s".parse().unwrap();
        assert_eq!(
            (t.min, t.max),
            (Duration::from_millis(500), Duration::from_secs(3))
        );
        for _ in 0..100 {
            let d = t.draw();
            assert!(d >= t.min && d <= t.max);
        }
    }

    #[test]
    fn scenarios_parse_by_their_names() {
        for s in Scenario::ALL {
            assert_eq!(s.name().parse::<Scenario>().unwrap(), s);
        }
        assert!("soak".parse::<Scenario>().is_err());
    }
}
