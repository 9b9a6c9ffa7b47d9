//! The trace context: a 128-bit trace id, a 64-bit span id and the sampled
//! flag, with its two wire forms: W3C `traceparent`
//! (`00-<32 hex>-<16 hex>-<2 hex flags>`, the one form the project writes:
//! HTTP headers, event envelopes, saga input) and the X-Ray trace header
//! (`Root=1-<8 hex epoch>-<24 hex>;Parent=<16 hex>;Sampled=1`, what Lambda
//! and Step Functions hand a function). The two trace ids are the same 128
//! bits: X-Ray's `1-aaaaaaaa-bbbbbbbbbbbbbbbbbbbbbbbb` is W3C's
//! `aaaaaaaabbbbbbbbbbbbbbbbbbbbbbbb`.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Why a header could not be read as a trace context.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("traceparent: {0}")]
    Traceparent(&'static str),
    #[error("X-Ray trace header: {0}")]
    Xray(&'static str),
}

/// A trace id: 128 bits, never zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId(u128);

/// A span id: 64 bits, never zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanId(u64);

impl TraceId {
    /// `None` for zero (invalid in both formats).
    pub fn new(bits: u128) -> Option<Self> {
        (bits != 0).then_some(Self(bits))
    }

    /// A new trace id whose first 32 bits are the epoch seconds: X-Ray
    /// refuses ids whose time is not recent, and W3C ids may carry it.
    pub fn random(now: SystemTime) -> Self {
        let secs = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0) as u32;
        let low: u128 = rand::random::<u128>() & ((1u128 << 96) - 1);
        Self((u128::from(secs) << 96) | low | 1)
    }

    pub fn bits(self) -> u128 {
        self.0
    }

    /// 32 lowercase hex digits (W3C, OTLP, the logs' `traceId`).
    pub fn to_hex(self) -> String {
        format!("{:032x}", self.0)
    }

    /// `1-<8 hex>-<24 hex>`.
    pub fn to_xray(self) -> String {
        format!(
            "1-{:08x}-{:024x}",
            (self.0 >> 96) as u32,
            self.0 & ((1u128 << 96) - 1)
        )
    }

    /// Reads `1-<8 hex>-<24 hex>`.
    pub fn from_xray(s: &str) -> Result<Self, ParseError> {
        let bad = ParseError::Xray("Root is not 1-<8 hex>-<24 hex>");
        let rest = s.strip_prefix("1-").ok_or(bad.clone())?;
        let (time, random) = rest.split_once('-').ok_or(bad.clone())?;
        if time.len() != 8 || random.len() != 24 {
            return Err(bad);
        }
        let bits = (u128::from(hex_u64(time).ok_or(bad.clone())?) << 96)
            | hex_u128(random).ok_or(bad.clone())?;
        Self::new(bits).ok_or(ParseError::Xray("the trace id is zero"))
    }

    fn from_hex(s: &str) -> Option<Self> {
        (s.len() == 32)
            .then(|| hex_u128(s))
            .flatten()
            .and_then(Self::new)
    }
}

impl SpanId {
    /// `None` for zero (invalid in both formats).
    pub fn new(bits: u64) -> Option<Self> {
        (bits != 0).then_some(Self(bits))
    }

    pub fn random() -> Self {
        loop {
            if let Some(id) = Self::new(rand::random()) {
                return id;
            }
        }
    }

    pub fn bits(self) -> u64 {
        self.0
    }

    /// 16 lowercase hex digits (W3C, OTLP, X-Ray segment ids).
    pub fn to_hex(self) -> String {
        format!("{:016x}", self.0)
    }

    fn from_hex(s: &str) -> Option<Self> {
        (s.len() == 16)
            .then(|| hex_u64(s))
            .flatten()
            .and_then(Self::new)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Strict lowercase hex (W3C forbids upper case; X-Ray writes lower case).
fn is_lower_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn hex_u64(s: &str) -> Option<u64> {
    (is_lower_hex(s) && s.len() <= 16)
        .then(|| u64::from_str_radix(s, 16).ok())
        .flatten()
}

fn hex_u128(s: &str) -> Option<u128> {
    (is_lower_hex(s) && s.len() <= 32)
        .then(|| u128::from_str_radix(s, 16).ok())
        .flatten()
}

/// One span's place in a trace, as handed to the next hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub sampled: bool,
}

impl TraceContext {
    /// Reads a W3C `traceparent`. Version `00` must be exactly 55
    /// characters; a later version may append `-<more>` (read as 00, as the
    /// spec asks); `ff`, zero ids, upper case and wrong lengths are refused.
    pub fn from_traceparent(s: &str) -> Result<Self, ParseError> {
        let e = ParseError::Traceparent;
        let s = s.trim();
        if s.len() < 55 {
            return Err(e("shorter than 55 characters"));
        }
        let (version, rest) = s.split_at(2);
        if !is_lower_hex(version) {
            return Err(e("the version is not two lowercase hex digits"));
        }
        if version == "ff" {
            return Err(e("version ff is invalid"));
        }
        if version == "00" && s.len() != 55 {
            return Err(e("version 00 is exactly 55 characters"));
        }
        if s.len() > 55 && s.as_bytes()[55] != b'-' {
            return Err(e("a later version's extra fields must follow a dash"));
        }
        let b = rest.as_bytes();
        if b[0] != b'-' || b[33] != b'-' || b[50] != b'-' {
            return Err(e("not version-traceid-parentid-flags"));
        }
        let trace_id = TraceId::from_hex(&rest[1..33]).ok_or(e(
            "the trace id is not 32 lowercase hex digits, not all zero",
        ))?;
        let span_id = SpanId::from_hex(&rest[34..50]).ok_or(e(
            "the parent id is not 16 lowercase hex digits, not all zero",
        ))?;
        let flags = &rest[51..53];
        if !is_lower_hex(flags) {
            return Err(e("the flags are not two lowercase hex digits"));
        }
        let flags = u8::from_str_radix(flags, 16).map_err(|_| e("bad flags"))?;
        Ok(Self {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
        })
    }

    /// `00-<trace id>-<span id>-<01|00>`.
    pub fn to_traceparent(&self) -> String {
        format!(
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id.0,
            self.span_id.0,
            u8::from(self.sampled)
        )
    }

    /// `Root=...;Parent=...;Sampled=0|1` (Step Functions' `traceHeader`).
    pub fn to_xray_header(&self) -> String {
        format!(
            "Root={};Parent={:016x};Sampled={}",
            self.trace_id.to_xray(),
            self.span_id.0,
            u8::from(self.sampled)
        )
    }
}

/// The X-Ray trace header as Lambda gives it (`Lambda-Runtime-Trace-Id`,
/// `_X_AMZN_TRACE_ID`): the root is required, the parent (the facade
/// segment Lambda created) and the sampling decision may be absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XrayHeader {
    pub trace_id: TraceId,
    pub parent: Option<SpanId>,
    /// `None` for `Sampled=?` or no decision.
    pub sampled: Option<bool>,
}

impl XrayHeader {
    /// Reads `Root=1-...;Parent=...;Sampled=1` (any order; `Lineage` and
    /// unknown keys ignored; a key without `=` refused).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let e = ParseError::Xray;
        let mut root = None;
        let mut parent = None;
        let mut sampled = None;
        for field in s.split(';').map(str::trim).filter(|f| !f.is_empty()) {
            let (key, value) = field.split_once('=').ok_or(e("a field without `=`"))?;
            match key.trim() {
                "Root" => root = Some(TraceId::from_xray(value.trim())?),
                "Parent" => {
                    parent = Some(
                        SpanId::from_hex(value.trim())
                            .ok_or(e("Parent is not 16 lowercase hex digits, not all zero"))?,
                    )
                }
                "Sampled" => {
                    sampled = match value.trim() {
                        "1" => Some(true),
                        "0" => Some(false),
                        "?" => None,
                        _ => return Err(e("Sampled is not 0, 1 or ?")),
                    }
                }
                _ => {}
            }
        }
        Ok(Self {
            trace_id: root.ok_or(e("no Root"))?,
            parent,
            sampled,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn traceparent_round_trips() {
        let c = TraceContext::from_traceparent(TP).unwrap();
        assert_eq!(c.trace_id.to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(c.span_id.to_hex(), "00f067aa0ba902b7");
        assert!(c.sampled);
        assert_eq!(c.to_traceparent(), TP);
        let unsampled = TraceContext::from_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        )
        .unwrap();
        assert!(!unsampled.sampled);
    }

    #[test]
    fn a_later_version_is_read_as_00() {
        let c = TraceContext::from_traceparent(&format!("01{}-extra", &TP[2..])).unwrap();
        assert_eq!(c.to_traceparent(), TP);
    }

    #[test]
    fn bad_traceparents_are_refused() {
        for bad in [
            "",
            "garbage",
            &TP[..54],
            &format!("{TP}0"), // 00 too long
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // version ff
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero span
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", // not hex
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // separator
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x", // flags
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", // no dash
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // version
            "00-4bf92f3577b34da6a3ce929d0e0e4736-+0f067aa0ba902b7-01", // sign
        ] {
            assert!(
                matches!(
                    TraceContext::from_traceparent(bad),
                    Err(ParseError::Traceparent(_))
                ),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn xray_and_w3c_ids_are_the_same_bits() {
        let id = TraceId::from_xray("1-5e9f0c65-1de4d666d4dd26aced652b6c").unwrap();
        assert_eq!(id.to_hex(), "5e9f0c651de4d666d4dd26aced652b6c");
        assert_eq!(id.to_xray(), "1-5e9f0c65-1de4d666d4dd26aced652b6c");
        let c = TraceContext {
            trace_id: id,
            span_id: SpanId::new(0x53995c3f42cd8ad8).unwrap(),
            sampled: true,
        };
        assert_eq!(
            c.to_xray_header(),
            "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c;Parent=53995c3f42cd8ad8;Sampled=1"
        );
        let back = XrayHeader::parse(&c.to_xray_header()).unwrap();
        assert_eq!(back.trace_id, id);
        assert_eq!(back.parent, Some(c.span_id));
        assert_eq!(back.sampled, Some(true));
        assert_eq!(
            TraceContext::from_traceparent(&c.to_traceparent())
                .unwrap()
                .trace_id
                .to_xray(),
            "1-5e9f0c65-1de4d666d4dd26aced652b6c"
        );
    }

    #[test]
    fn the_lambda_header_forms_are_read() {
        let h = XrayHeader::parse("Root=1-5e9f0c65-1de4d666d4dd26aced652b6c").unwrap();
        assert_eq!(h.parent, None);
        assert_eq!(h.sampled, None);
        let h = XrayHeader::parse(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=a87bd80c:1|68fd508a:5",
        )
        .unwrap();
        assert_eq!(h.sampled, Some(false));
        assert_eq!(h.parent.unwrap().to_hex(), "53995c3f42cd8ad8");
    }

    #[test]
    fn bad_xray_headers_are_refused() {
        for bad in [
            "",
            "Parent=53995c3f42cd8ad8",                  // no root
            "Root=2-5e9f0c65-1de4d666d4dd26aced652b6c", // version
            "Root=1-5e9f0c6-1de4d666d4dd26aced652b6c",  // short time
            "Root=1-5e9f0c65-1de4d666d4dd26aced652b6",  // short random
            "Root=1-5e9f0c65-1de4d666d4dd26aced652b6z", // not hex
            "Root=1-00000000-000000000000000000000000", // zero
            "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c;Parent=xyz", // parent
            "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c;Sampled=yes", // sampled
            "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c;Parent", // no =
        ] {
            assert!(XrayHeader::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn new_trace_ids_carry_the_time_for_xray() {
        let now = UNIX_EPOCH + std::time::Duration::from_secs(0x5e9f0c65);
        let id = TraceId::random(now);
        assert!(id.to_xray().starts_with("1-5e9f0c65-"));
        assert_ne!(TraceId::random(now), id);
    }
}
