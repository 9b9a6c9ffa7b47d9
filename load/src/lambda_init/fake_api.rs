//! The fake Lambda Runtime API and one timed start of a function binary
//! against it: exec → its first `GET /2018-06-01/runtime/invocation/next`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const NEXT: &str = "GET /2018-06-01/runtime/invocation/next";
const INIT_ERROR: &str = "POST /2018-06-01/runtime/init/error";
const MAX_HEAD: usize = 16 * 1024;

/// A fake Runtime API on 127.0.0.1 (port chosen by the OS), serving until
/// the process ends.
pub struct FakeRuntimeApi {
    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    seen: mpsc::UnboundedReceiver<Seen>,
    timeout: Duration,
}

impl FakeRuntimeApi {
    /// Listens on loopback; each start gives up after `timeout`.
    pub async fn start(timeout: Duration) -> std::io::Result<FakeRuntimeApi> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let (tx, seen) = mpsc::unbounded_channel();
        tokio::spawn(runtime_api(listener, tx));
        Ok(FakeRuntimeApi {
            address,
            seen,
            timeout,
        })
    }

    /// One start of `binary` with the Lambda environment plus `env`: the
    /// time from just before exec to its first `invocation/next`. The child
    /// is killed then. A crash, an init error or no request within the
    /// timeout is an error carrying the child's stderr.
    pub async fn run_once(
        &mut self,
        binary: &str,
        env: &[(String, String)],
    ) -> Result<Duration, String> {
        let seen = &mut self.seen;
        while seen.try_recv().is_ok() {} // nothing from an earlier child counts
        let start = Instant::now();
        let mut child =
            spawn(binary, &self.address, env).map_err(|e| format!("cannot start {binary}: {e}"))?;
        let deadline = start + self.timeout;
        loop {
            match tokio::time::timeout(Duration::from_millis(5), seen.recv()).await {
                Ok(Some(Seen::Next(at))) if at >= start => {
                    stop(child);
                    return Ok(at - start);
                }
                Ok(Some(Seen::Next(_))) => {}
                Ok(Some(Seen::InitError(body))) => {
                    let err = stop(child);
                    return Err(format!("init error reported: {body}\n{err}"));
                }
                Ok(None) => return Err("the fake Runtime API stopped".into()),
                Err(_) => {}
            }
            if let Ok(Some(status)) = child.try_wait() {
                // It may have asked for the next event just before exiting.
                if let Ok(Seen::Next(at)) = seen.try_recv() {
                    if at >= start {
                        return Ok(at - start);
                    }
                }
                let err = stop(child);
                return Err(format!(
                    "exited with {status} before invocation/next\n{err}"
                ));
            }
            if Instant::now() >= deadline {
                let err = stop(child);
                return Err(format!(
                    "no invocation/next within {:?}; killed\n{err}",
                    self.timeout
                ));
            }
        }
    }
}

/// What the fake Runtime API saw.
#[derive(Debug)]
enum Seen {
    /// The first `invocation/next`, and when it arrived.
    Next(Instant),
    /// The function reported an init error (body, truncated).
    InitError(String),
}

/// Serves connections until the process ends. Every request head is read;
/// `invocation/next` is reported and the connection is then held open
/// (never answered) until the child dies; anything else gets a 202.
async fn runtime_api(listener: TcpListener, seen: mpsc::UnboundedSender<Seen>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let seen = seen.clone();
        tokio::spawn(async move {
            let _ = connection(stream, seen).await;
        });
    }
}

async fn connection(
    mut stream: TcpStream,
    seen: mpsc::UnboundedSender<Seen>,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        // One request head (and for init errors, whatever body came with it).
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            if buf.len() > MAX_HEAD {
                return Ok(());
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let at = Instant::now();
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        if head.starts_with(NEXT) {
            let _ = seen.send(Seen::Next(at));
            // Hold the connection: the benchmark kills the child now.
            while stream.read(&mut chunk).await? != 0 {}
            return Ok(());
        }
        let length = content_length(&head);
        while buf.len() < head_end + length {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body_end = (head_end + length).min(buf.len());
        if head.starts_with(INIT_ERROR) {
            let body = String::from_utf8_lossy(&buf[head_end..body_end]);
            let _ = seen.send(Seen::InitError(body.chars().take(500).collect()));
        }
        stream
            .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
            .await?;
        buf.drain(..body_end);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &str) -> usize {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The environment Lambda gives a function, pointed at the fake API, then
/// `env` (the function's own variables; later entries win). The parent's
/// environment is not inherited (no stray AWS_* settings).
fn spawn(binary: &str, api: &str, env: &[(String, String)]) -> std::io::Result<Child> {
    Command::new(binary)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LANG", "C.UTF-8")
        .env("TZ", ":UTC")
        .env("AWS_LAMBDA_RUNTIME_API", api)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "x")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "x")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
}

fn stop(mut child: Child) -> String {
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        use std::io::Read;
        let _ = stderr.read_to_string(&mut err);
    }
    err.chars().take(2000).collect()
}
