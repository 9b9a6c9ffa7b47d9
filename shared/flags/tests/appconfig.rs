//! The AppConfig adapter against a local HTTP server standing in for the
//! AppConfig Lambda extension (which cannot run here): the request it
//! makes, its cache, and what it does when the extension is unreachable,
//! slow, failing or serving a document that does not parse.
#![cfg(feature = "appconfig")]

use lite_flags::{AppConfigFlags, AppConfigLocation, Checkout, FlagSource, Flags};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the stand-in answers next.
#[derive(Clone)]
enum Reply {
    Ok(&'static str),
    Status(u16, &'static str),
    /// Accepts the request and never answers.
    Hang,
}

struct Extension {
    addr: SocketAddr,
    reply: Arc<Mutex<Reply>>,
    paths: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Extension {
    async fn start(reply: Reply) -> Extension {
        Self::start_on(TcpListener::bind("127.0.0.1:0").await.unwrap(), reply)
    }

    fn start_on(listener: TcpListener, reply: Reply) -> Extension {
        let addr = listener.local_addr().unwrap();
        let reply = Arc::new(Mutex::new(reply));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let (r, p) = (reply.clone(), paths.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut conn, _)) = listener.accept().await else {
                    return;
                };
                let (r, p) = (r.clone(), p.clone());
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let line = String::from_utf8_lossy(&head)
                        .lines()
                        .next()
                        .unwrap()
                        .to_owned();
                    p.lock().unwrap().push(line);
                    let reply = r.lock().unwrap().clone();
                    let (status, body) = match reply {
                        Reply::Ok(body) => (200, body),
                        Reply::Status(status, body) => (status, body),
                        Reply::Hang => {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                            return;
                        }
                    };
                    let answer = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = conn.write_all(answer.as_bytes()).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        Extension {
            addr,
            reply,
            paths,
            task,
        }
    }

    fn set(&self, reply: Reply) {
        *self.reply.lock().unwrap() = reply;
    }

    fn asked(&self) -> usize {
        self.paths.lock().unwrap().len()
    }
}

fn location() -> AppConfigLocation {
    AppConfigLocation {
        application: "amazon-lite".into(),
        environment: "dev".into(),
        profile: "flags".into(),
    }
}

fn adapter(addr: SocketAddr, cache_for: Duration) -> AppConfigFlags {
    AppConfigFlags::with_timing(
        &format!("http://{addr}"),
        &location(),
        cache_for,
        Duration::from_millis(300),
    )
    .unwrap()
}

/// A read, which must come back (whatever the extension does).
async fn read(flags: &AppConfigFlags) -> Flags {
    tokio::time::timeout(Duration::from_secs(10), flags.flags())
        .await
        .expect("a flags read never hangs on the extension")
}

const PAUSED: &str = r#"{"checkoutPaused": true, "checkoutRetryAfterSeconds": 90}"#;
const FALLBACK: &str = r#"{"searchCatalogFallback": true, "paymentTimeoutSeconds": 45}"#;

#[tokio::test]
async fn asks_the_extension_for_the_configuration_and_caches_the_answer() {
    let ext = Extension::start(Reply::Ok(PAUSED)).await;
    let flags = adapter(ext.addr, Duration::from_secs(3600));
    let first = read(&flags).await;
    assert_eq!(
        first.checkout,
        Checkout::Paused {
            retry_after_secs: 90
        }
    );
    assert_eq!(
        ext.paths.lock().unwrap()[0],
        "GET /applications/amazon-lite/environments/dev/configurations/flags HTTP/1.1"
    );
    ext.set(Reply::Ok(FALLBACK));
    for _ in 0..20 {
        assert_eq!(read(&flags).await, first, "cached");
    }
    assert_eq!(ext.asked(), 1, "one request while the cache is fresh");
}

#[tokio::test]
async fn a_new_deployment_is_in_force_once_the_cache_expires() {
    let ext = Extension::start(Reply::Ok(PAUSED)).await;
    let flags = adapter(ext.addr, Duration::ZERO);
    assert!(matches!(
        read(&flags).await.checkout,
        Checkout::Paused { .. }
    ));
    ext.set(Reply::Ok(FALLBACK));
    let now = read(&flags).await;
    assert!(now.search_catalog_fallback);
    assert_eq!(now.checkout, Checkout::Open);
    assert_eq!(now.payment_timeout, Some(Duration::from_secs(45)));
}

#[tokio::test]
async fn garbage_errors_and_a_hanging_extension_keep_the_last_good_flags() {
    let ext = Extension::start(Reply::Ok(PAUSED)).await;
    let flags = adapter(ext.addr, Duration::ZERO);
    let good = read(&flags).await;
    for bad in [
        Reply::Ok("<html>not json</html>"),
        Reply::Ok(r#"{"checkoutPaused": false, "checkoutPauseed": true}"#),
        Reply::Ok(r#"{"checkoutPaused": false, "paymentTimeoutSeconds": 0}"#),
        Reply::Ok(""),
        Reply::Status(500, r#"{"Message":"internal"}"#),
        Reply::Status(404, r#"{"Message":"Configuration not found"}"#),
        Reply::Hang,
    ] {
        ext.set(bad);
        assert_eq!(read(&flags).await, good);
        assert_eq!(read(&flags).await, good, "and again on the next refresh");
    }
    ext.set(Reply::Ok(FALLBACK));
    assert!(read(&flags).await.search_catalog_fallback, "recovers");
}

#[tokio::test]
async fn an_unreachable_extension_means_the_defaults_until_it_answers() {
    // A port with nothing listening (bound, then released).
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let flags = adapter(addr, Duration::ZERO);
    assert_eq!(read(&flags).await, Flags::default());
    assert_eq!(read(&flags).await, Flags::default());
    // The extension comes up on that port.
    let ext = Extension::start_on(TcpListener::bind(addr).await.unwrap(), Reply::Ok(PAUSED));
    assert!(matches!(
        read(&flags).await.checkout,
        Checkout::Paused { .. }
    ));
    ext.task.abort();
}

#[tokio::test]
async fn while_failing_the_extension_is_asked_once_per_cache_period() {
    let ext = Extension::start(Reply::Status(503, "{}")).await;
    let flags = adapter(ext.addr, Duration::from_secs(3600));
    for _ in 0..10 {
        assert_eq!(read(&flags).await, Flags::default());
    }
    assert_eq!(ext.asked(), 1, "a failure is cached like an answer");
}

#[tokio::test]
async fn concurrent_first_reads_wait_for_one_answer() {
    let ext = Extension::start(Reply::Ok(PAUSED)).await;
    let flags = Arc::new(adapter(ext.addr, Duration::from_secs(3600)));
    let reads: Vec<_> = (0..16)
        .map(|_| {
            let flags = flags.clone();
            tokio::spawn(async move { flags.flags().await })
        })
        .collect();
    for r in reads {
        assert!(matches!(r.await.unwrap().checkout, Checkout::Paused { .. }));
    }
    assert_eq!(ext.asked(), 1);
}

#[test]
fn the_location_comes_from_all_three_variables_or_none() {
    use lite_flags::appconfig::{APPLICATION_ENV, ENVIRONMENT_ENV, PROFILE_ENV};
    // The only test of this binary that touches these variables.
    for name in [APPLICATION_ENV, ENVIRONMENT_ENV, PROFILE_ENV] {
        std::env::remove_var(name);
    }
    assert_eq!(AppConfigLocation::from_env().unwrap(), None);
    assert!(AppConfigFlags::from_env().unwrap().is_none());
    std::env::set_var(APPLICATION_ENV, "app1");
    let partial = AppConfigLocation::from_env().unwrap_err();
    assert!(partial.name.contains(ENVIRONMENT_ENV) && partial.name.contains(PROFILE_ENV));
    std::env::set_var(ENVIRONMENT_ENV, "env1");
    std::env::set_var(PROFILE_ENV, "prof1");
    assert_eq!(
        AppConfigLocation::from_env().unwrap(),
        Some(AppConfigLocation {
            application: "app1".into(),
            environment: "env1".into(),
            profile: "prof1".into(),
        })
    );
    for name in [APPLICATION_ENV, ENVIRONMENT_ENV, PROFILE_ENV] {
        std::env::remove_var(name);
    }
}
