//! The one AWS SDK configuration every client of the system is built from
//! (DynamoDB, EventBridge, SQS, Step Functions, Secrets Manager, SES, the
//! credentials that sign OpenSearch requests): timeouts and retries chosen
//! for where the call runs.
//!
//! | profile | runs in | Lambda timeout (infra/cdk) | connect | attempt | operation | attempts | backoff (full jitter) | mode |
//! |---|---|---|---|---|---|---|---|---|
//! | [`Profile::Api`] | route functions | 10 s | 1 s | 1 s | 3 s | 3 | 50 ms doubling, ≤ 1 s | standard |
//! | [`Profile::Consumer`] | SQS consumers, the stream relay, saga tasks, the sweeper, operator tools | 30 s (authorize 60 s, sweeper 50 s) | 2 s | 5 s | 15 s | 5 | 100 ms doubling, ≤ 5 s | adaptive |
//!
//! Why: a DynamoDB call answers in milliseconds, so an attempt that has not
//! answered in a second is stuck, not slow; a route function gives up on
//! one call within 3 s, so a request that meets a broken dependency ends in
//! a 503 well inside the 10 s function timeout (and API Gateway's 30 s)
//! instead of a gateway timeout. Consumers are not watched by a shopper:
//! they wait longer and try more often, but still give up on one call in
//! half their 30 s, so the handler can report a partial batch failure (SQS
//! redelivers) before Lambda kills it. Their retry mode is adaptive: a
//! batch that meets throttling slows its own sending rate down (client-side
//! token bucket) instead of spending its attempts; on a route, waiting for
//! a token is latency the shopper sees, so routes use standard mode.

use aws_config::retry::{RetryConfig, RetryMode};
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use std::sync::OnceLock;
use std::time::Duration;

/// Where a client's calls run, which decides how long they may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Inside an HTTP request (route functions): fail fast.
    Api,
    /// Event consumers, the stream relay, saga tasks, scheduled jobs and
    /// operator tools: patient, but inside the function timeout.
    Consumer,
}

/// The variable that turns a service's binary into one of its consumers
/// (`lite_lambda::CONSUMER_ENV` is this one).
pub const CONSUMER_ENV: &str = "AMAZON_LITE_CONSUMER";

impl Profile {
    /// The profile of this function, for clients a service builds itself
    /// (search's OpenSearch client, the Step Functions client): a function
    /// running one of the service's consumers ([`CONSUMER_ENV`] set) is a
    /// consumer; otherwise it serves a route.
    pub fn of_function() -> Profile {
        match std::env::var(CONSUMER_ENV) {
            Ok(name) if !name.trim().is_empty() => Profile::Consumer,
            _ => Profile::Api,
        }
    }
}

/// One profile's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub connect_timeout: Duration,
    /// One attempt (request sent to response read).
    pub attempt_timeout: Duration,
    /// The whole call, all attempts and backoff included.
    pub operation_timeout: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub mode: RetryMode,
}

impl Profile {
    pub const fn policy(self) -> Policy {
        match self {
            Profile::Api => Policy {
                connect_timeout: Duration::from_secs(1),
                attempt_timeout: Duration::from_secs(1),
                operation_timeout: Duration::from_secs(3),
                max_attempts: 3,
                initial_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_secs(1),
                mode: RetryMode::Standard,
            },
            Profile::Consumer => Policy {
                connect_timeout: Duration::from_secs(2),
                attempt_timeout: Duration::from_secs(5),
                operation_timeout: Duration::from_secs(15),
                max_attempts: 5,
                initial_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(5),
                mode: RetryMode::Adaptive,
            },
        }
    }

    pub fn timeouts(self) -> TimeoutConfig {
        let p = self.policy();
        TimeoutConfig::builder()
            .connect_timeout(p.connect_timeout)
            .operation_attempt_timeout(p.attempt_timeout)
            .operation_timeout(p.operation_timeout)
            .build()
    }

    pub fn retries(self) -> RetryConfig {
        let p = self.policy();
        let base = match p.mode {
            RetryMode::Adaptive => RetryConfig::adaptive(),
            _ => RetryConfig::standard(),
        };
        base.with_max_attempts(p.max_attempts)
            .with_initial_backoff(p.initial_backoff)
            .with_max_backoff(p.max_backoff)
    }
}

/// The SDK configuration from the function's environment (region,
/// credentials, `AWS_ENDPOINT_URL` for an emulator), with `profile`'s
/// timeouts and retries. No network I/O: credentials resolve on first use.
pub async fn sdk_config(profile: Profile) -> SdkConfig {
    configure(aws_config::defaults(BehaviorVersion::latest()), profile)
        .load()
        .await
}

/// `loader` with `profile`'s timeouts and retries and the process's one
/// HTTP client (tests point a loader at a local endpoint and use this).
pub fn configure(loader: ConfigLoader, profile: Profile) -> ConfigLoader {
    loader
        .http_client(http_client())
        .timeout_config(profile.timeouts())
        .retry_config(profile.retries())
}

/// The HTTPS client of every AWS SDK client in the process (one connection
/// pool): hyper 1 with rustls on ring. The SDK's default client
/// (`default-https-client`) brings aws-lc-rs, a second crypto library next
/// to the ring the token signing already uses, which made every Lambda zip
/// about 1 MB larger (load/README.md, "Lambda size"); the workspace turns
/// that feature off, so a client built without [`configure`] has no HTTP
/// client and fails on its first call.
pub fn http_client() -> SharedHttpClient {
    static CLIENT: OnceLock<SharedHttpClient> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            aws_smithy_http_client::Builder::new()
                .tls_provider(Provider::Rustls(CryptoMode::Ring))
                .build_https()
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::config::{Credentials, Region};
    use aws_sdk_dynamodb::error::SdkError;
    use aws_sdk_dynamodb::types::AttributeValue;
    use std::time::Instant;

    fn local(profile: Profile, endpoint: &str) -> ConfigLoader {
        configure(
            aws_config::defaults(BehaviorVersion::latest())
                .endpoint_url(endpoint)
                .region(Region::new("eu-west-1"))
                .credentials_provider(Credentials::new("test", "test", None, None, "test")),
            profile,
        )
    }

    #[tokio::test]
    async fn each_profile_carries_its_timeouts_and_retries() {
        for profile in [Profile::Api, Profile::Consumer] {
            let p = profile.policy();
            let config = local(profile, "http://127.0.0.1:9").load().await;
            let t = config.timeout_config().expect("timeouts are set");
            assert_eq!(t.connect_timeout(), Some(p.connect_timeout));
            assert_eq!(t.operation_attempt_timeout(), Some(p.attempt_timeout));
            assert_eq!(t.operation_timeout(), Some(p.operation_timeout));
            let r = config.retry_config().expect("retries are set");
            assert_eq!(r.max_attempts(), p.max_attempts);
            assert_eq!(r.mode(), p.mode);
            assert_eq!(r.initial_backoff(), p.initial_backoff);
            assert_eq!(r.max_backoff(), p.max_backoff);
        }
        let api = Profile::Api.policy();
        assert_eq!(api.mode, RetryMode::Standard);
        assert_eq!(Profile::Consumer.policy().mode, RetryMode::Adaptive);
        // A route's call gives up well inside the 10 s function timeout,
        // a consumer's inside half of its 30 s.
        assert!(api.operation_timeout <= Duration::from_secs(5));
        assert!(Profile::Consumer.policy().operation_timeout <= Duration::from_secs(15));
    }

    /// The workspace's SDK crates come without a default HTTP client: every
    /// configuration this crate makes carries the shared one, and a call
    /// through it reaches the server (here an HTTP server answering 400).
    #[tokio::test]
    async fn every_configuration_carries_the_shared_http_client() {
        let config = sdk_config(Profile::Consumer).await;
        assert!(
            config.http_client().is_some(),
            "sdk_config sets the HTTP client"
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let body =
                    r#"{"__type":"com.amazon.coral.validate#ValidationException","message":"no"}"#;
                let head = format!(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body.as_bytes()).await;
            }
        });
        let config = local(Profile::Api, &format!("http://{addr}")).load().await;
        let outcome = aws_sdk_dynamodb::Client::new(&config)
            .get_item()
            .table_name("t")
            .key("PK", AttributeValue::S("a".into()))
            .send()
            .await;
        server.abort();
        match outcome {
            Err(SdkError::ServiceError(e)) => {
                use aws_sdk_dynamodb::error::ProvideErrorMetadata;
                assert_eq!(e.err().message(), Some("no"));
            }
            other => panic!("expected the server's answer, got {other:?}"),
        }
    }

    /// A server that accepts connections and never answers: the call must
    /// end with a timeout instead of hanging.
    #[tokio::test]
    async fn a_dynamodb_call_to_a_silent_server_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let config = local(Profile::Api, &format!("http://{addr}")).load().await;
        let client = aws_sdk_dynamodb::Client::new(&config);
        let started = Instant::now();
        let call = client
            .get_item()
            .table_name("t")
            .key("PK", AttributeValue::S("a".into()))
            .key("SK", AttributeValue::S("b".into()))
            .send();
        // A generous bound: the operation timeout is 3 s; without it the
        // call would wait forever.
        let outcome = tokio::time::timeout(Duration::from_secs(60), call)
            .await
            .expect("the call ends on its own timeout, not the test's");
        let elapsed = started.elapsed();
        server.abort();
        match outcome {
            Err(SdkError::TimeoutError(_)) => {}
            other => panic!("expected a timeout error, got {other:?}"),
        }
        println!(
            "GetItem against a silent server failed after {elapsed:?} (operation timeout {:?})",
            Profile::Api.policy().operation_timeout
        );
    }
}
