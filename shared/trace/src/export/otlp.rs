//! OTLP over HTTP with the JSON encoding (OTLP 1.x: `POST <endpoint>/v1/traces`,
//! `Content-Type: application/json`, ids as hex), to any collector (the
//! OpenTelemetry Collector, Jaeger, Tempo...). Spans are queued and sent
//! by one background thread in batches (at most 512, or every second);
//! a full queue drops spans instead of slowing the process.
//!
//! The client is the few lines of HTTP/1.1 a POST to a local collector
//! needs (plain `http://`, `Connection: close`): the local API stays free
//! of an HTTP client stack, and a collector that is down costs a refused
//! connection per batch.

use super::{nanos, Exporter, FinishedSpan};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const BATCH: usize = 512;
const QUEUE: usize = 8192;
const INTERVAL: Duration = Duration::from_secs(1);
const TIMEOUT: Duration = Duration::from_secs(5);

/// Why an endpoint cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("{0}: only http:// endpoints are supported (run a local collector for TLS)")]
    Scheme(String),
    #[error("{0}: no host")]
    NoHost(String),
}

/// Where the spans go: host:port and the request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub authority: String,
    pub path: String,
}

impl Endpoint {
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (a base: `/v1/traces` is appended) or
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (`signal = true`: used as is).
    pub fn parse(url: &str, signal: bool) -> Result<Self, EndpointError> {
        let rest = url
            .trim()
            .strip_prefix("http://")
            .ok_or_else(|| EndpointError::Scheme(url.to_owned()))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(EndpointError::NoHost(url.to_owned()));
        }
        let authority = if authority.contains(':') {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let path = if signal {
            if path.is_empty() { "/" } else { path }.to_owned()
        } else {
            format!("{}/v1/traces", path.trim_end_matches('/'))
        };
        Ok(Self { authority, path })
    }
}

enum Message {
    Span(FinishedSpan),
    Flush(SyncSender<()>),
}

pub struct OtlpExporter {
    queue: Mutex<SyncSender<Message>>,
}

impl OtlpExporter {
    /// Starts the sending thread. `service` is the resource's `service.name`.
    pub fn start(endpoint: Endpoint, service: String) -> Self {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("otlp-export".into())
            .spawn(move || run(rx, &endpoint, &service))
            .expect("the exporter thread starts");
        Self {
            queue: Mutex::new(tx),
        }
    }
}

impl Exporter for OtlpExporter {
    fn export(&self, span: FinishedSpan) {
        if let Ok(queue) = self.queue.lock() {
            let _ = queue.try_send(Message::Span(span));
        }
    }

    fn flush(&self) {
        let (done, wait) = mpsc::sync_channel(1);
        let sent = self
            .queue
            .lock()
            .map(|q| q.send(Message::Flush(done)).is_ok())
            .unwrap_or(false);
        if sent {
            let _ = wait.recv_timeout(TIMEOUT * 2);
        }
    }
}

fn run(rx: Receiver<Message>, endpoint: &Endpoint, service: &str) {
    let mut batch: Vec<FinishedSpan> = Vec::new();
    let mut due = Instant::now() + INTERVAL;
    let mut warned = false;
    loop {
        let wait = due.saturating_duration_since(Instant::now());
        let flush = match rx.recv_timeout(wait) {
            Ok(Message::Span(span)) => {
                batch.push(span);
                if batch.len() < BATCH {
                    continue;
                }
                None
            }
            Ok(Message::Flush(done)) => Some(done),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                send(endpoint, service, &batch, &mut warned);
                return;
            }
        };
        if !batch.is_empty() {
            send(endpoint, service, &batch, &mut warned);
            batch.clear();
        }
        if let Some(done) = flush {
            let _ = done.send(());
        }
        due = Instant::now() + INTERVAL;
    }
}

fn send(endpoint: &Endpoint, service: &str, batch: &[FinishedSpan], warned: &mut bool) {
    if batch.is_empty() {
        return;
    }
    let body = request_body(service, batch).to_string();
    match post(endpoint, &body) {
        Ok(status) if (200..300).contains(&status) => *warned = false,
        // Written to stderr, not logged: a log line inside the exporter
        // would be one more thing to export.
        Ok(status) if !*warned => {
            *warned = true;
            eprintln!("otlp: the collector answered {status}; spans dropped");
        }
        Err(e) if !*warned => {
            *warned = true;
            eprintln!(
                "otlp: cannot reach {}: {e}; spans dropped",
                endpoint.authority
            );
        }
        _ => {}
    }
}

fn post(endpoint: &Endpoint, body: &str) -> std::io::Result<u16> {
    let address = endpoint
        .authority
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    write!(
        stream,
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        endpoint.path,
        endpoint.authority,
        body.len()
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    // "HTTP/1.1 200"
    let status = std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))?;
    let _ = std::io::copy(&mut stream, &mut std::io::sink());
    Ok(status)
}

/// An `ExportTraceServiceRequest` in OTLP's JSON encoding.
pub fn request_body(service: &str, spans: &[FinishedSpan]) -> Value {
    let spans: Vec<Value> = spans.iter().map(span_json).collect();
    json!({
        "resourceSpans": [{
            "resource": { "attributes": [attribute("service.name", service)] },
            "scopeSpans": [{ "scope": { "name": "lite-trace" }, "spans": spans }]
        }]
    })
}

fn attribute(key: &str, value: &str) -> Value {
    json!({ "key": key, "value": { "stringValue": value } })
}

fn span_json(span: &FinishedSpan) -> Value {
    let mut attributes: Vec<Value> = span
        .attributes
        .iter()
        .map(|(k, v)| attribute(k, v))
        .collect();
    attributes.push(attribute("code.namespace", span.target));
    if let Some(c) = &span.correlation_id {
        attributes.push(attribute("correlation_id", c));
    }
    let mut value = json!({
        "traceId": span.context.trace_id.to_hex(),
        "spanId": span.context.span_id.to_hex(),
        "name": span.name,
        // SPAN_KIND_INTERNAL
        "kind": 1,
        "startTimeUnixNano": nanos(span.start).to_string(),
        "endTimeUnixNano": nanos(span.end).to_string(),
        "attributes": attributes,
        // STATUS_CODE_ERROR or UNSET
        "status": if span.error { json!({ "code": 2 }) } else { json!({}) },
    });
    if let Some(parent) = span.parent_span_id() {
        value["parentSpanId"] = parent.to_hex().into();
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{SpanId, TraceContext, TraceId};
    use crate::layer::Parent;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("http://127.0.0.1:4318", false).unwrap();
        assert_eq!(e.authority, "127.0.0.1:4318");
        assert_eq!(e.path, "/v1/traces");
        let e = Endpoint::parse("http://collector/otlp/", false).unwrap();
        assert_eq!(e.authority, "collector:80");
        assert_eq!(e.path, "/otlp/v1/traces");
        let e = Endpoint::parse("http://127.0.0.1:4318/custom", true).unwrap();
        assert_eq!(e.path, "/custom");
        assert!(matches!(
            Endpoint::parse("https://x:4318", false),
            Err(EndpointError::Scheme(_))
        ));
        assert!(matches!(
            Endpoint::parse("http:///v1", false),
            Err(EndpointError::NoHost(_))
        ));
    }

    #[test]
    fn spans_are_encoded_as_otlp_json() {
        let span = FinishedSpan {
            name: "store.get",
            target: "lite_store",
            context: TraceContext {
                trace_id: TraceId::new(0xabc).unwrap(),
                span_id: SpanId::new(0x12).unwrap(),
                sampled: true,
            },
            parent: Parent::Local(SpanId::new(0x34).unwrap()),
            correlation_id: Some("c1".into()),
            start: UNIX_EPOCH + Duration::from_nanos(5),
            end: UNIX_EPOCH + Duration::from_nanos(9),
            attributes: vec![("pk", "X".into())],
            error: false,
        };
        let body = request_body("amazon-lite", &[span]);
        let s = &body["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(s["traceId"], "00000000000000000000000000000abc");
        assert_eq!(s["spanId"], "0000000000000012");
        assert_eq!(s["parentSpanId"], "0000000000000034");
        assert_eq!(s["startTimeUnixNano"], "5");
        assert_eq!(s["endTimeUnixNano"], "9");
        assert_eq!(s["attributes"][0]["key"], "pk");
        assert_eq!(
            body["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"],
            "amazon-lite"
        );
    }
}
