//! The local server's connection limits, over raw TCP: a request head that
//! trickles in is cut off after the header timeout, a connection with no
//! request in progress is closed after the idle timeout, and connections
//! over the cap are answered 503 and closed while the open ones are still
//! served. The timeouts are set to one second here; the bounds below are
//! generous and only say "eventually".

use std::time::Duration;
use system_tests::{Seed, TestApi};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far longer than any limit under test: if nothing happened by then, the
/// limit does not work.
const BOUND: Duration = Duration::from_secs(60);
const HEALTH: &[u8] = b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n";

async fn spawn(env: &[(&str, &str)]) -> TestApi {
    TestApi::spawn_untouched(Seed::None, env).await
}

/// One HTTP/1.1 response read off a kept-alive connection: status line and
/// headers (lower-cased names) and body. `None` when the server closed the
/// connection before a complete response.
async fn read_response(stream: &mut TcpStream) -> Option<(u16, String, Vec<u8>)> {
    let (head, body) = system_tests::read_http_message(stream).await?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, head, body))
}

/// A health check sent on `stream`, and its answer (see [`read_response`]).
async fn health(stream: &mut TcpStream) -> Option<(u16, String, Vec<u8>)> {
    stream.write_all(HEALTH).await.ok()?;
    read_response(stream).await
}

/// Everything read from `reader` until the server closes it (end of stream
/// or reset).
async fn read_until_closed(mut reader: impl AsyncRead + Unpin) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => return seen,
            Ok(n) => seen.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Waits until the server closes `stream` (end of stream or reset) and
/// returns what it sent meanwhile; panics after [`BOUND`].
async fn closed_by_server(stream: &mut TcpStream, what: &str) -> Vec<u8> {
    tokio::time::timeout(BOUND, read_until_closed(stream))
        .await
        .unwrap_or_else(|_| {
            panic!("{what}: the server did not close the connection within {BOUND:?}")
        })
}

/// The problem of a problem+json answer (head as [`read_response`] gives
/// it) after checking the headers every answer carries: `nosniff`, and the
/// body's correlation id as `X-Correlation-Id`.
fn problem_of(head: &str, body: &[u8]) -> serde_json::Value {
    assert!(
        head.contains("content-type: application/problem+json"),
        "{head}"
    );
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    let problem: serde_json::Value = serde_json::from_slice(body).unwrap();
    let id = problem["correlationId"]
        .as_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(head.contains(&format!("x-correlation-id: {id}")), "{head}");
    problem
}

#[tokio::test]
async fn a_request_head_sent_one_byte_at_a_time_is_cut_off() {
    let api = spawn(&[
        ("AMAZON_LITE_HEADER_TIMEOUT_SECS", "1"),
        // Idle connections would be closed too, but only after 10 minutes:
        // what closes this one is the header timeout.
        ("AMAZON_LITE_IDLE_TIMEOUT_SECS", "600"),
    ])
    .await;
    let stream = TcpStream::connect(api.addr()).await.unwrap();
    let (reader, mut writer) = stream.into_split();
    let closed = tokio::spawn(read_until_closed(reader));
    // A request line, then one header after another, forever: the head
    // never ends.
    let endless = b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n"
        .iter()
        .chain(b"X-Slow: a\r\n".iter().cycle());
    let trickle = async {
        for byte in endless {
            if closed.is_finished() || writer.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    if tokio::time::timeout(BOUND, trickle).await.is_err() {
        panic!("a trickling request head was not cut off within {BOUND:?}");
    }
    let seen = tokio::time::timeout(BOUND, closed)
        .await
        .expect("the connection closes")
        .unwrap();
    assert!(
        !seen.starts_with(b"HTTP/1.1 200"),
        "an incomplete request was answered: {}",
        String::from_utf8_lossy(&seen)
    );
    // The server still serves others.
    let reply = api
        .client()
        .get(api.url("/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let api = spawn(&[
        ("AMAZON_LITE_IDLE_TIMEOUT_SECS", "1"),
        ("AMAZON_LITE_HEADER_TIMEOUT_SECS", "600"),
    ])
    .await;
    // Kept alive after an answered request.
    let mut used = TcpStream::connect(api.addr()).await.unwrap();
    let (status, head, _) = health(&mut used).await.expect("an answer");
    assert_eq!(status, 200, "{head}");
    assert!(!head.contains("connection: close"), "{head}");
    // Never sent a byte.
    let mut silent = TcpStream::connect(api.addr()).await.unwrap();
    let after = closed_by_server(&mut used, "a kept-alive idle connection").await;
    assert!(after.is_empty(), "{}", String::from_utf8_lossy(&after));
    closed_by_server(&mut silent, "a connection that never sent a byte").await;
}

#[tokio::test]
async fn connections_over_the_cap_are_refused_with_503_while_the_open_ones_are_served() {
    let cap = 3;
    let api = spawn(&[
        ("AMAZON_LITE_MAX_CONNECTIONS", "3"),
        ("AMAZON_LITE_IDLE_TIMEOUT_SECS", "600"),
    ])
    .await;
    // The test client's own pooled connection (from the start-up health
    // checks) may hold a slot: open connections until one is refused.
    let mut held = Vec::new();
    let refused = loop {
        assert!(
            held.len() <= cap,
            "{} connections open, cap {cap}",
            held.len()
        );
        let mut stream = TcpStream::connect(api.addr()).await.unwrap();
        let (status, head, body) = health(&mut stream).await.expect("an answer");
        match status {
            200 => held.push(stream),
            503 => break (stream, head, body),
            other => panic!("unexpected {other}: {head}"),
        }
    };
    assert!(!held.is_empty());
    let (mut refused, head, body) = refused;
    assert_eq!(problem_of(&head, &body)["code"], "unavailable");
    assert!(head.contains("retry-after: 1"), "{head}");
    closed_by_server(&mut refused, "a refused connection").await;

    // The open connections are still served.
    for stream in &mut held {
        let (status, head, _) = health(stream).await.expect("an answer");
        assert_eq!(status, 200, "{head}");
    }

    // A closed connection frees its slot for a new one.
    drop(held.pop());
    let deadline = tokio::time::Instant::now() + BOUND;
    loop {
        let mut stream = TcpStream::connect(api.addr()).await.unwrap();
        match health(&mut stream).await {
            Some((200, _, _)) => break,
            Some((503, _, _)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            other => panic!("after a slot was freed: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_raw_byte_that_is_not_ascii_in_the_path_is_a_problem_with_every_header() {
    let api = spawn(&[]).await;
    let mut stream = TcpStream::connect(api.addr()).await.unwrap();
    // The same request twice on one connection, then a good one: each is
    // answered by the router, and the connection stays usable.
    for _ in 0..2 {
        stream
            .write_all(b"GET /v1/products/\xFF HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let (status, head, body) = read_response(&mut stream).await.expect("an answer");
        assert_eq!(status, 400, "{head}");
        assert_eq!(problem_of(&head, &body)["code"], "bad_request");
        assert!(head.contains("content-security-policy:"), "{head}");
    }
    let (status, head, _) = health(&mut stream).await.expect("an answer");
    assert_eq!(status, 200, "{head}");

    // Percent-encoded, the same answer.
    let reply = api
        .client()
        .get(api.url("/v1/products/%FF"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);
    for name in [
        "x-correlation-id",
        "x-content-type-options",
        "content-security-policy",
    ] {
        assert!(reply.headers().contains_key(name), "{name}");
    }
    assert_eq!(reply.headers()["content-type"], "application/problem+json");
}
