//! The AWS adapter: AWS AppConfig through the AppConfig Lambda extension,
//! which runs beside the function, polls AppConfig and caches the
//! configuration; the function asks it over plain HTTP on localhost:
//! `GET http://localhost:2772/applications/<app>/environments/<env>/configurations/<profile>`.
//!
//! The answer is cached in the process for [`CACHE_FOR`], so a request
//! asks the extension at most once per few seconds; one read refreshes
//! while concurrent ones answer the value in hand. When the extension is
//! unreachable, slow ([`TIMEOUT`]), answers an error or a document that
//! does not parse, the last good flags stay in force (the defaults before
//! the first good answer), the failure is logged once, and the next
//! refresh is tried after [`CACHE_FOR`] again.

use crate::health::Health;
use crate::{FlagSource, Flags};
use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use lite_core::config::{optional, parse_or, ConfigError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long the process trusts its last answer from the extension.
pub const CACHE_FOR: Duration = Duration::from_secs(5);
/// Longest wait for the extension (connect and answer): it answers from
/// its cache in about a millisecond; a request must not wait on it long.
pub const TIMEOUT: Duration = Duration::from_millis(500);
/// The extension's port unless `AWS_APPCONFIG_EXTENSION_HTTP_PORT` (the
/// extension's own setting) says otherwise.
pub const DEFAULT_PORT: u16 = 2772;
/// A flags document is a few hundred bytes; anything larger is not one.
const MAX_BODY: usize = 64 * 1024;

/// The environment naming the configuration (CDK sets all three).
pub const APPLICATION_ENV: &str = "AMAZON_LITE_FLAGS_APPLICATION";
pub const ENVIRONMENT_ENV: &str = "AMAZON_LITE_FLAGS_ENVIRONMENT";
pub const PROFILE_ENV: &str = "AMAZON_LITE_FLAGS_PROFILE";
pub const PORT_ENV: &str = "AWS_APPCONFIG_EXTENSION_HTTP_PORT";

/// Which configuration to read (names or ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppConfigLocation {
    pub application: String,
    pub environment: String,
    pub profile: String,
}

impl AppConfigLocation {
    /// From [`APPLICATION_ENV`], [`ENVIRONMENT_ENV`] and [`PROFILE_ENV`]:
    /// `None` when none is set (a function that reads no flags); an error
    /// when only some are, naming the missing ones.
    pub fn from_env() -> Result<Option<AppConfigLocation>, ConfigError> {
        let names = [APPLICATION_ENV, ENVIRONMENT_ENV, PROFILE_ENV];
        let values: Vec<Option<String>> = names.iter().map(|n| optional(n)).collect();
        if values.iter().all(Option::is_none) {
            return Ok(None);
        }
        let missing: Vec<&str> = names
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| *n)
            .collect();
        if !missing.is_empty() {
            return Err(ConfigError {
                name: missing.join(", "),
                message: "is required when any AMAZON_LITE_FLAGS_* variable is set".into(),
            });
        }
        let mut values = values.into_iter().flatten();
        let mut next = || values.next().expect("all three are set");
        Ok(Some(AppConfigLocation {
            application: next(),
            environment: next(),
            profile: next(),
        }))
    }

    fn path(&self) -> String {
        format!(
            "/applications/{}/environments/{}/configurations/{}",
            self.application, self.environment, self.profile
        )
    }
}

/// What the process last had from the extension.
struct Cached {
    /// `None` before the first good answer.
    flags: Option<Flags>,
    /// When the extension was last asked (answered or not).
    asked_at: Option<Instant>,
    health: Health,
}

/// Flags from AWS AppConfig, through the Lambda extension.
pub struct AppConfigFlags {
    url: http::Uri,
    client: Client<HttpConnector, Empty<Bytes>>,
    cache_for: Duration,
    timeout: Duration,
    cached: Mutex<Cached>,
    /// Held by the one read that refreshes.
    refreshing: tokio::sync::Mutex<()>,
}

/// Why the extension's answer is not used (kind, for logging once; detail).
struct Failure {
    kind: &'static str,
    detail: String,
}

impl AppConfigFlags {
    /// The adapter for `location` on the extension at `base`
    /// (`http://localhost:2772`), with the default cache and timeout.
    pub fn new(base: &str, location: &AppConfigLocation) -> Result<Self, ConfigError> {
        Self::with_timing(base, location, CACHE_FOR, TIMEOUT)
    }

    /// [`AppConfigFlags::new`] with a cache period and timeout of its own.
    pub fn with_timing(
        base: &str,
        location: &AppConfigLocation,
        cache_for: Duration,
        timeout: Duration,
    ) -> Result<Self, ConfigError> {
        let raw = format!("{}{}", base.trim_end_matches('/'), location.path());
        let url: http::Uri = raw.parse().map_err(|e| ConfigError {
            name: APPLICATION_ENV.into(),
            message: format!("{raw:?} is not a URL: {e}"),
        })?;
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        connector.set_nodelay(true);
        Ok(AppConfigFlags {
            url,
            client: Client::builder(TokioExecutor::new()).build(connector),
            cache_for,
            timeout,
            cached: Mutex::new(Cached {
                flags: None,
                asked_at: None,
                health: Health::default(),
            }),
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    /// From the environment ([`AppConfigLocation::from_env`], the
    /// extension's port): `None` when no configuration is named.
    pub fn from_env() -> Result<Option<Self>, ConfigError> {
        let Some(location) = AppConfigLocation::from_env()? else {
            return Ok(None);
        };
        let port: u16 = parse_or(PORT_ENV, DEFAULT_PORT)?;
        Self::new(&format!("http://localhost:{port}"), &location).map(Some)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cached> {
        self.cached.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached flags while fresh.
    fn fresh(&self, now: Instant) -> Option<Flags> {
        let cached = self.lock();
        let asked = cached.asked_at?;
        (now.duration_since(asked) < self.cache_for).then_some(cached.flags.unwrap_or_default())
    }

    async fn fetch(&self) -> Result<Flags, Failure> {
        let unreachable = |detail: String| Failure {
            kind: "unreachable",
            detail,
        };
        let call = async {
            let res = self
                .client
                .get(self.url.clone())
                .await
                .map_err(|e| unreachable(format!("{e:?}")))?;
            let status = res.status();
            let body = Limited::new(res.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| unreachable(format!("reading the answer: {e}")))?
                .to_bytes();
            Ok::<_, Failure>((status, body))
        };
        let (status, body) = tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| Failure {
                kind: "timeout",
                detail: format!("no answer within {:?}", self.timeout),
            })??;
        if !status.is_success() {
            return Err(Failure {
                kind: "error status",
                detail: format!(
                    "{status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(200)])
                ),
            });
        }
        Flags::parse(&body).map_err(|e| Failure {
            kind: "invalid document",
            detail: e.to_string(),
        })
    }
}

#[async_trait]
impl FlagSource for AppConfigFlags {
    async fn flags(&self) -> Flags {
        if let Some(flags) = self.fresh(Instant::now()) {
            return flags;
        }
        // One read refreshes; the others answer what is in hand, unless
        // there is nothing yet (then they wait for the first answer).
        let _refreshing = match self.refreshing.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                if let Some(flags) = self.lock().flags {
                    return flags;
                }
                let guard = self.refreshing.lock().await;
                if let Some(flags) = self.fresh(Instant::now()) {
                    return flags;
                }
                guard
            }
        };
        let fetched = self.fetch().await;
        let mut cached = self.lock();
        cached.asked_at = Some(Instant::now());
        match fetched {
            Ok(flags) => {
                if cached.health.succeeded() {
                    tracing::info!(url = %self.url, "AppConfig flags readable again");
                }
                if cached.flags != Some(flags) {
                    tracing::info!(flags = ?flags, "flags changed");
                }
                cached.flags = Some(flags);
                flags
            }
            Err(failure) => {
                let in_force = cached.flags.unwrap_or_default();
                if cached.health.failed(failure.kind) {
                    tracing::error!(
                        url = %self.url,
                        failure = failure.kind,
                        error = %failure.detail,
                        flags = ?in_force,
                        defaults = cached.flags.is_none(),
                        "cannot use the AppConfig flags; keeping the last good flags"
                    );
                }
                in_force
            }
        }
    }
}
