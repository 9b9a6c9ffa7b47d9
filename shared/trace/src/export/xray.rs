//! The X-Ray daemon protocol: one UDP datagram per span to
//! `AWS_XRAY_DAEMON_ADDRESS` (on Lambda the daemon the service runs beside
//! each function with active tracing), `{"format":"json","version":1}\n`
//! then the segment document. Sent when the span closes, so nothing waits
//! in the process when Lambda freezes it after the response.
//!
//! Which document a span becomes:
//! - its parent is in this process, or is the segment Lambda made for the
//!   invocation (the X-Ray header's `Parent`): a subsegment of it
//!   (`"type":"subsegment"`, `parent_id`), so it hangs under the function
//!   in the trace map;
//! - its parent is in another process (an event's `traceparent`): a
//!   segment of this function with that `parent_id`, in the event's
//!   trace — one checkout, one trace, across the asynchronous hops;
//! - no parent: a segment of its own.

use super::{nanos, Exporter, FinishedSpan};
use crate::layer::Parent;
use serde_json::{json, Map, Value};
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};

/// The daemon header every datagram starts with.
pub const HEADER: &str = "{\"format\":\"json\",\"version\":1}\n";

pub struct XrayExporter {
    socket: UdpSocket,
    /// The segment name: the function's name.
    service: String,
}

impl XrayExporter {
    /// `address` as `AWS_XRAY_DAEMON_ADDRESS` writes it: `host:port`, or
    /// `tcp:host:port udp:host:port` (the UDP one is used).
    pub fn new(address: &str, service: &str) -> std::io::Result<Self> {
        let udp = address
            .split_whitespace()
            .find_map(|a| a.strip_prefix("udp:"))
            .unwrap_or(address.trim());
        let target: SocketAddr = udp.to_socket_addrs()?.next().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "no daemon address")
        })?;
        let local: SocketAddr = if target.is_ipv4() {
            "0.0.0.0:0".parse().expect("an address")
        } else {
            "[::]:0".parse().expect("an address")
        };
        let socket = UdpSocket::bind(local)?;
        socket.connect(target)?;
        socket.set_nonblocking(true)?;
        Ok(Self {
            socket,
            service: sanitize(service),
        })
    }

    /// The segment document of `span` (without the daemon header).
    pub fn document(&self, span: &FinishedSpan) -> Value {
        let mut doc = Map::new();
        doc.insert("trace_id".into(), span.context.trace_id.to_xray().into());
        doc.insert("id".into(), span.context.span_id.to_hex().into());
        doc.insert("start_time".into(), seconds(span.start).into());
        doc.insert("end_time".into(), seconds(span.end).into());
        let name = sanitize(span.name);
        match span.parent {
            Parent::Local(p) | Parent::Lambda(Some(p)) => {
                doc.insert("type".into(), "subsegment".into());
                doc.insert("parent_id".into(), p.to_hex().into());
                doc.insert("name".into(), name.clone().into());
            }
            Parent::Remote(p) => {
                doc.insert("name".into(), self.service.clone().into());
                doc.insert("parent_id".into(), p.to_hex().into());
                doc.insert("origin".into(), "AWS::Lambda::Function".into());
            }
            Parent::Root | Parent::Lambda(None) => {
                doc.insert("name".into(), self.service.clone().into());
                doc.insert("origin".into(), "AWS::Lambda::Function".into());
            }
        }
        let mut annotations = Map::new();
        annotations.insert("span".into(), name.into());
        if let Some(c) = &span.correlation_id {
            // Annotations are indexed: traces are found by correlation id.
            annotations.insert("correlation_id".into(), c.as_ref().into());
        }
        doc.insert("annotations".into(), annotations.into());
        if !span.attributes.is_empty() {
            let fields: Map<String, Value> = span
                .attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::from(v.as_str())))
                .collect();
            doc.insert("metadata".into(), json!({ "default": fields }));
        }
        if span.error {
            doc.insert("fault".into(), true.into());
        }
        Value::Object(doc)
    }
}

impl Exporter for XrayExporter {
    fn export(&self, span: FinishedSpan) {
        let datagram = format!("{HEADER}{}", self.document(&span));
        // Best effort, as every X-Ray SDK: a full buffer or a missing
        // daemon loses a span, never delays the function.
        let _ = self.socket.send(datagram.as_bytes());
    }
}

fn seconds(t: std::time::SystemTime) -> f64 {
    nanos(t) as f64 / 1e9
}

/// X-Ray names: at most 200 characters of `\w\s.:/%&#=+\-@`.
fn sanitize(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric() || " _.:/%&#=+-@".contains(*c))
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{SpanId, TraceContext, TraceId};
    use std::time::{Duration, UNIX_EPOCH};

    fn span(parent: Parent) -> FinishedSpan {
        FinishedSpan {
            name: "store.get",
            target: "t",
            context: TraceContext {
                trace_id: TraceId::from_xray("1-5e9f0c65-1de4d666d4dd26aced652b6c").unwrap(),
                span_id: SpanId::new(0xab).unwrap(),
                sampled: true,
            },
            parent,
            correlation_id: Some("corr-1".into()),
            start: UNIX_EPOCH + Duration::from_millis(1_500),
            end: UNIX_EPOCH + Duration::from_millis(2_250),
            attributes: vec![("pk", "ORDER#1".into())],
            error: true,
        }
    }

    #[test]
    fn documents_by_parent() {
        let x = XrayExporter::new("127.0.0.1:2000", "orders-place").unwrap();
        let local = x.document(&span(Parent::Local(SpanId::new(0xcd).unwrap())));
        assert_eq!(local["type"], "subsegment");
        assert_eq!(local["parent_id"], "00000000000000cd");
        assert_eq!(local["name"], "store.get");
        assert_eq!(local["trace_id"], "1-5e9f0c65-1de4d666d4dd26aced652b6c");
        assert_eq!(local["id"], "00000000000000ab");
        assert_eq!(local["start_time"], 1.5);
        assert_eq!(local["end_time"], 2.25);
        assert_eq!(local["annotations"]["correlation_id"], "corr-1");
        assert_eq!(local["metadata"]["default"]["pk"], "ORDER#1");
        assert_eq!(local["fault"], true);
        let remote = x.document(&span(Parent::Remote(SpanId::new(0xef).unwrap())));
        assert!(remote.get("type").is_none(), "a segment");
        assert_eq!(remote["name"], "orders-place");
        assert_eq!(remote["parent_id"], "00000000000000ef");
        let root = x.document(&span(Parent::Lambda(None)));
        assert!(root.get("parent_id").is_none());
    }

    #[test]
    fn the_udp_address_of_a_pair_is_used() {
        assert!(XrayExporter::new("tcp:127.0.0.1:2000 udp:127.0.0.1:2001", "f").is_ok());
        assert!(XrayExporter::new("not an address", "f").is_err());
    }
}
