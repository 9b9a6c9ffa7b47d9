//! The local API's HTTP/1 server: one hyper connection per socket, with the
//! limits `axum::serve` does not have.
//!
//! - A request whose head (request line and headers) is not complete
//!   within the header timeout (10 s) is cut off: a client trickling one
//!   header byte a second holds a connection for seconds, not forever.
//! - A connection with no request in progress is closed after the idle
//!   timeout (60 s), whether it never sent a byte or is a kept-alive one.
//! - At most `max_connections` (1024) are open at once; one more is
//!   answered `503` problem+json with `Retry-After` and closed, so the open
//!   ones keep being served and no socket is held for it.
//!
//! - Bytes that are not ASCII in a request line (a raw `0xFF` in the path)
//!   are percent-encoded before hyper parses the line, so the request
//!   reaches the router and its answer is the router's: a problem+json
//!   with the correlation id and the security headers, as for `%FF`.
//!   hyper alone answers such a line with a bare 400 of its own.
//!
//! The request-head and idle clocks are kept per connection ([`Activity`])
//! rather than with hyper's `header_read_timeout`, because hyper's clock
//! also runs while a kept-alive connection waits for its next request, and
//! would make the idle timeout the header timeout.
//!
//! On shutdown the listener closes, idle connections close, requests in
//! progress finish, and `serve` returns when every connection has ended.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::{Body as _, Incoming};
use hyper_util::rt::TokioIo;
use lite_core::{ErrorCode, Problem};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

/// How long each connection may take, and how many may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From a request's first byte to the end of its headers.
    pub header_timeout: Duration,
    /// With no request in progress.
    pub idle_timeout: Duration,
    /// Open connections at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
        }
    }
}

/// Refused connections being answered at once; beyond this they are
/// closed without an answer.
const MAX_REFUSALS: usize = 64;
/// How long a refused connection's request is read (and discarded) after
/// the 503, so that closing does not reset the connection before the
/// client has read the answer.
const REFUSAL_DRAIN: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` until `shutdown` completes, then lets the
/// open connections finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let (stop, stopping) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: the condition
                    // passes as connections close; do not spin meanwhile.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                let (router, stopping) = (router.clone(), stopping.clone());
                tokio::spawn(async move {
                    connection(stream, remote, router, limits, stopping).await;
                    drop(slot);
                });
            }
            Err(_) => {
                tracing::warn!(
                    %remote,
                    max_connections = limits.max_connections,
                    "connection refused: too many open connections"
                );
                if let Ok(permit) = refusals.clone().try_acquire_owned() {
                    tokio::spawn(async move {
                        refuse(stream).await;
                        drop(permit);
                    });
                }
            }
        }
    }
    drop(listener);
    let _ = stop.send(());
    // Every connection holds a slot until it ends: all slots free means
    // every connection has ended.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
}

/// One connection: hyper serves it while [`Activity`] watches its clocks.
async fn connection(
    stream: TcpStream,
    remote: SocketAddr,
    router: Router,
    limits: Limits,
    mut stopping: watch::Receiver<()>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
        in_request_line: false,
        pending: Vec::new(),
    });
    let in_service = activity.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        // Handlers read the peer address (per-address limits) from here,
        // as with `into_make_service_with_connect_info`.
        req.extensions_mut().insert(ConnectInfo(remote));
        let busy = in_service.begin(req.body().is_end_stream());
        let activity = in_service.clone();
        let req = req.map(|inner| Body::new(TrackedBody { inner, activity }));
        let router = router.clone();
        async move {
            let response = router.oneshot(req).await;
            drop(busy);
            response
        }
    });
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    tokio::pin!(conn);
    // One timer for the connection's life, moved to its phase's deadline
    // after each poll of the connection. Bytes are read and requests
    // handled inside that poll, in this task, so a new phase is seen there
    // without a wake-up; moving the timer later (the common case: idle
    // again after an answer) is an atomic store, not a re-registration.
    let sleep = tokio::time::sleep_until(
        activity
            .deadline(&limits)
            .unwrap_or_else(|| Instant::now() + limits.recheck()),
    );
    tokio::pin!(sleep);
    let stop = stopping.changed();
    tokio::pin!(stop);
    let mut draining = false;
    loop {
        let wake = std::future::poll_fn(|cx| {
            if let Poll::Ready(result) = conn.as_mut().poll(cx) {
                return Poll::Ready(Wake::Ended(result));
            }
            if !draining && stop.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Wake::Stopping);
            }
            if let Some(due) = activity.deadline(&limits) {
                if due != sleep.deadline() {
                    sleep.as_mut().reset(due);
                }
            }
            sleep.as_mut().poll(cx).map(|()| Wake::Deadline)
        })
        .await;
        match wake {
            Wake::Ended(result) => {
                if let Err(e) = result {
                    tracing::debug!(%remote, error = %e, "connection ended with an error");
                }
                return;
            }
            Wake::Stopping => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
            Wake::Deadline => {
                if let Some(reason) = activity.expired(&limits, Instant::now()) {
                    // Dropping the connection closes the socket.
                    tracing::debug!(%remote, reason, "connection closed");
                    return;
                }
                // A request in progress never expires: look again later.
                sleep.as_mut().reset(Instant::now() + limits.recheck());
            }
        }
    }
}

/// What ended a wait of a connection's loop.
enum Wake {
    Ended(Result<(), hyper::Error>),
    Stopping,
    Deadline,
}

impl Limits {
    /// How soon a connection busy with a request looks at its clocks again.
    fn recheck(&self) -> Duration {
        self.header_timeout.min(self.idle_timeout)
    }
}

/// Where a connection is between requests.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// No request in progress and no byte of the next one, since then.
    Idle(Instant),
    /// Bytes of a request head arrived, the first one then.
    Head(Instant),
    /// This many requests are being handled.
    Busy(usize),
}

/// A connection's phase, moved by its reads and its requests, and whether
/// the last request's body was read to its end.
struct Activity {
    state: Mutex<State>,
}

#[derive(Debug, Clone, Copy)]
struct State {
    phase: Phase,
    /// Every byte of the last request is consumed (true before the first):
    /// the next bytes to arrive are a request line, not body bytes hyper
    /// discards after an early answer.
    body_done: bool,
}

impl Activity {
    fn new() -> Self {
        Activity {
            state: Mutex::new(State {
                phase: Phase::Idle(Instant::now()),
                body_done: true,
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Phase) -> T) -> T {
        self.with_state(|s| f(&mut s.phase))
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        // A poisoned lock still holds a valid state (every update is one
        // assignment).
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut state)
    }

    /// Bytes arrived: the first ones after an idle spell start a request
    /// head (bytes read while a request is handled are its body, or a
    /// pipelined next request, whose head clock starts after it). True
    /// when they start a request line for sure.
    fn read(&self) -> bool {
        self.with_state(|s| match s.phase {
            Phase::Idle(_) => {
                s.phase = Phase::Head(Instant::now());
                s.body_done
            }
            Phase::Head(_) | Phase::Busy(_) => false,
        })
    }

    /// A request head is complete and handed to the router; `no_body`
    /// when it has no body to read.
    fn begin(self: &Arc<Self>, no_body: bool) -> Busy {
        self.with_state(|s| {
            s.body_done = no_body;
            s.phase = match s.phase {
                Phase::Busy(n) => Phase::Busy(n + 1),
                Phase::Idle(_) | Phase::Head(_) => Phase::Busy(1),
            }
        });
        Busy(self.clone())
    }

    /// The request body was read to its end.
    fn body_done(&self) {
        self.with_state(|s| s.body_done = true);
    }

    /// When the phase's deadline falls; none while requests are handled.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        self.with(|p| match *p {
            Phase::Idle(since) => Some(since + limits.idle_timeout),
            Phase::Head(since) => Some(since + limits.header_timeout),
            Phase::Busy(_) => None,
        })
    }

    /// Why the connection must close now, if it must.
    fn expired(&self, limits: &Limits, now: Instant) -> Option<&'static str> {
        self.with(|p| match *p {
            Phase::Idle(since) if now >= since + limits.idle_timeout => Some("idle timeout"),
            Phase::Head(since) if now >= since + limits.header_timeout => {
                Some("request headers not complete within the header timeout")
            }
            _ => None,
        })
    }
}

/// A request in progress; the connection is idle again when the last one
/// is dropped (answered, or abandoned with its connection).
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.with(|p| {
            *p = match *p {
                Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
                _ => Phase::Idle(Instant::now()),
            }
        });
    }
}

/// The socket, telling [`Activity`] when bytes arrive, and percent-encoding
/// the bytes of a request line that are not ASCII.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
    /// Bytes being read belong to a request line (until its `\n`).
    in_request_line: bool,
    /// Rewritten bytes that did not fit the caller's buffer.
    pending: Vec<u8>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.pending.is_empty() {
            let n = self.pending.len().min(buf.remaining());
            buf.put_slice(&self.pending[..n]);
            self.pending.drain(..n);
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if !matches!(polled, Poll::Ready(Ok(()))) || buf.filled().len() == before {
            return polled;
        }
        if self.activity.read() {
            self.in_request_line = true;
        }
        if self.in_request_line {
            let (rewritten, line_ends) = encode_request_line(&buf.filled()[before..]);
            if line_ends {
                self.in_request_line = false;
            }
            if let Some(rewritten) = rewritten {
                buf.set_filled(before);
                let n = rewritten.len().min(buf.remaining());
                buf.put_slice(&rewritten[..n]);
                self.pending.extend_from_slice(&rewritten[n..]);
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// `bytes` read while in a request line, with every byte of the line that
/// is not ASCII percent-encoded (`None` when there is none), and whether
/// the line ends in them. Bytes after the line's end are left alone.
fn encode_request_line(bytes: &[u8]) -> (Option<Vec<u8>>, bool) {
    let end = bytes.iter().position(|b| *b == b'\n');
    let line = &bytes[..end.unwrap_or(bytes.len())];
    if line.is_ascii() {
        return (None, end.is_some());
    }
    let mut out = Vec::with_capacity(bytes.len() + 2 * line.len());
    for &b in line {
        if b.is_ascii() {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    out.extend_from_slice(&bytes[line.len()..]);
    (Some(out), end.is_some())
}

/// A request body that tells [`Activity`] when it was read to its end.
struct TrackedBody {
    inner: Incoming,
    activity: Arc<Activity>,
}

impl hyper::body::Body for TrackedBody {
    type Data = axum::body::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.activity.body_done();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Answers a connection over the limit `503` and closes it. Its request
/// is read and discarded for a moment first: closing a socket with unread
/// bytes resets it, and the client would lose the answer.
async fn refuse(mut stream: TcpStream) {
    let _ = stream.write_all(&refusal()).await;
    let _ = stream.shutdown().await;
    let _ = tokio::time::timeout(REFUSAL_DRAIN, async {
        let mut sink = [0u8; 4096];
        loop {
            match tokio::io::AsyncReadExt::read(&mut stream, &mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
}

/// The raw `503` (no router runs for a refused connection), with the
/// headers every answer carries.
fn refusal() -> Vec<u8> {
    let id = ulid::Ulid::new().to_string();
    let problem = Problem::new(
        ErrorCode::Unavailable,
        "The server has too many open connections; retry shortly.",
    )
    .with_retry_after(1);
    let body = problem.to_body(&id).to_string();
    let mut head = format!(
        "HTTP/1.1 503 Service Unavailable\r\n\
         content-type: application/problem+json\r\n\
         content-length: {}\r\n\
         retry-after: 1\r\n\
         connection: close\r\n\
         x-correlation-id: {id}\r\n",
        body.len()
    )
    .into_bytes();
    for (name, value) in &lite_http::SECURITY_HEADERS {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head.extend_from_slice(body.as_bytes());
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4,
        }
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn idle_connections_get_the_idle_timeout_and_started_heads_the_header_timeout() {
        let before = Instant::now();
        let a = Arc::new(Activity::new());
        assert_eq!(a.expired(&limits(), before + secs(59)), None);
        assert_eq!(
            a.expired(&limits(), Instant::now() + secs(60)),
            Some("idle timeout")
        );
        let read_at = Instant::now();
        a.read();
        let head_at = Instant::now();
        assert_eq!(a.expired(&limits(), read_at + secs(9)), None);
        assert!(a.expired(&limits(), head_at + secs(10)).is_some());
        assert!(a.deadline(&limits()).unwrap() <= head_at + secs(10));
        // More bytes of the same head do not restart its clock.
        a.read();
        assert!(a.deadline(&limits()).unwrap() <= head_at + secs(10));
    }

    #[test]
    fn a_request_in_progress_never_expires_and_idles_when_answered() {
        let a = Arc::new(Activity::new());
        a.read();
        let busy = a.begin(true);
        a.read();
        assert_eq!(a.expired(&limits(), Instant::now() + secs(3600)), None);
        drop(busy);
        let answered = Instant::now();
        assert_eq!(a.expired(&limits(), answered + secs(59)), None);
        assert_eq!(
            a.expired(&limits(), Instant::now() + secs(60)),
            Some("idle timeout")
        );
    }

    #[test]
    fn a_request_in_progress_has_no_deadline() {
        let a = Arc::new(Activity::new());
        a.read();
        let busy = a.begin(true);
        assert_eq!(a.deadline(&limits()), None);
        drop(busy);
        let idle = a.deadline(&limits()).unwrap();
        assert!(idle >= Instant::now() + secs(59));
    }

    #[test]
    fn only_a_request_line_after_a_consumed_request_is_rewritten() {
        let a = Arc::new(Activity::new());
        assert!(a.read(), "the first bytes of a connection start a line");
        assert!(!a.read(), "more bytes of the same head");
        let busy = a.begin(false);
        drop(busy);
        assert!(
            !a.read(),
            "bytes after an answer given before the body was read may be that body"
        );
        let busy = a.begin(false);
        a.body_done();
        drop(busy);
        assert!(
            a.read(),
            "the body was read: the next bytes are a request line"
        );
    }

    #[test]
    fn bytes_that_are_not_ascii_are_percent_encoded_in_the_request_line_only() {
        assert_eq!(encode_request_line(b"GET /v1/x HTTP/1.1\r\n"), (None, true));
        assert_eq!(encode_request_line(b"GET /v1/"), (None, false));
        let (out, ends) =
            encode_request_line(b"GET /v1/products/\xFF\xC3\xA9 HTTP/1.1\r\nX: \xFF\r\n");
        assert!(ends);
        assert_eq!(
            out.unwrap(),
            b"GET /v1/products/%FF%C3%A9 HTTP/1.1\r\nX: \xFF\r\n".to_vec()
        );
        let (out, ends) = encode_request_line(b"/\xFF");
        assert!(!ends);
        assert_eq!(out.unwrap(), b"/%FF".to_vec());
    }

    #[test]
    fn the_refusal_is_a_complete_problem_response() {
        let text = String::from_utf8(refusal()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["code"], "unavailable");
        assert!(head.contains(&format!(
            "x-correlation-id: {}",
            problem["correlationId"].as_str().unwrap()
        )));
        assert!(head.contains("\r\nx-content-type-options: nosniff"));
        assert!(head.contains("\r\ncache-control: no-store"));
    }
}
