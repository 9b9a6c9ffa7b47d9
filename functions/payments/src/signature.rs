//! `Payment-Signature: t=<unix>,v1=<hex hmac-sha256 of "t.body">`, the
//! provider's webhook signature (Stripe's scheme). The timestamp is signed
//! with the body, so a captured request cannot be replayed after the
//! tolerance; several `v1` entries may be present while the provider rolls
//! its secret, and any one matching is enough.

use crate::secret::SecretKey;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying the signature.
pub const HEADER: &str = "Payment-Signature";

/// How far the signed time may be from ours, either way (seconds).
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {HEADER} header is missing")]
    Missing,
    #[error("the {HEADER} header is malformed: {0}")]
    Malformed(&'static str),
    #[error("the signature is older than the tolerance")]
    Stale,
    #[error("the signature's time is in the future")]
    FromTheFuture,
    #[error("no signature matches the body")]
    Mismatch,
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &SecretKey, t: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(secret.bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value signing `body` at unix time `t`.
pub fn sign(secret: &SecretKey, t: i64, body: &[u8]) -> String {
    let digest = mac(secret, t, body).finalize().into_bytes();
    format!("t={t},v1={}", hex::encode(digest))
}

/// Checks `header` (the raw header value, `None` when absent) against the
/// exact request bytes, at unix time `now`.
pub fn verify(
    secret: &SecretKey,
    header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let (t, signatures) = parse(header)?;
    if now.saturating_sub(t) > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    if t.saturating_sub(now) > TOLERANCE_SECS {
        return Err(SignatureError::FromTheFuture);
    }
    let expected = mac(secret, t, body);
    // `verify_slice` compares in constant time.
    if signatures
        .iter()
        .any(|sig| expected.clone().verify_slice(sig).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// `t=<unix>` exactly once, at least one `v1=<64 hex>`; other schemes
/// (`v0=...`) are ignored, as the provider documents.
fn parse(header: &str) -> Result<(i64, Vec<Vec<u8>>), SignatureError> {
    let mut t = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed("expected key=value pairs"))?;
        match key {
            "t" => {
                if t.is_some() {
                    return Err(SignatureError::Malformed("t appears twice"));
                }
                let parsed: i64 = value
                    .parse()
                    .map_err(|_| SignatureError::Malformed("t is not a unix time"))?;
                t = Some(parsed);
            }
            "v1" => {
                let bytes =
                    hex::decode(value).map_err(|_| SignatureError::Malformed("v1 is not hex"))?;
                if bytes.len() != 32 {
                    return Err(SignatureError::Malformed("v1 is not a SHA-256 HMAC"));
                }
                signatures.push(bytes);
            }
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed("t is missing"))?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed("no v1 signature"));
    }
    Ok((t, signatures))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment.authorized"}"#;

    fn key(s: &str) -> SecretKey {
        SecretKey::parse(s).unwrap()
    }

    fn secret() -> SecretKey {
        key("whsec_test_0123456789abcdef")
    }

    #[test]
    fn accepts_its_own_signature_within_the_tolerance() {
        for t in [NOW, NOW - TOLERANCE_SECS, NOW + TOLERANCE_SECS] {
            let h = sign(&secret(), t, BODY);
            assert_eq!(verify(&secret(), Some(&h), BODY, NOW), Ok(()), "{t}");
        }
    }

    #[test]
    fn matches_the_documented_scheme() {
        // Computed independently: HMAC-SHA256("whsec_test_0123456789abcdef", "1790000000.{body}").
        let h = sign(&secret(), NOW, BODY);
        let mut m = HmacSha256::new_from_slice(b"whsec_test_0123456789abcdef").unwrap();
        m.update(format!("{NOW}.").as_bytes());
        m.update(BODY);
        assert_eq!(
            h,
            format!("t={NOW},v1={}", hex::encode(m.finalize().into_bytes()))
        );
    }

    #[test]
    fn refuses_a_wrong_secret_or_a_tampered_body() {
        let h = sign(&key("whsec_other_0123456789abcdef"), NOW, BODY);
        assert_eq!(
            verify(&secret(), Some(&h), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        let h = sign(&secret(), NOW, BODY);
        let tampered = br#"{"id":"evt_1","type":"payment.authorizeD"}"#;
        assert_eq!(
            verify(&secret(), Some(&h), tampered, NOW),
            Err(SignatureError::Mismatch)
        );
        // The timestamp is signed too: moving it breaks the signature.
        let moved = h.replace(&format!("t={NOW}"), &format!("t={}", NOW + 1));
        assert_eq!(
            verify(&secret(), Some(&moved), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn refuses_stale_and_future_timestamps() {
        let h = sign(&secret(), NOW - TOLERANCE_SECS - 1, BODY);
        assert_eq!(
            verify(&secret(), Some(&h), BODY, NOW),
            Err(SignatureError::Stale)
        );
        let h = sign(&secret(), NOW + TOLERANCE_SECS + 1, BODY);
        assert_eq!(
            verify(&secret(), Some(&h), BODY, NOW),
            Err(SignatureError::FromTheFuture)
        );
    }

    #[test]
    fn refuses_missing_and_garbled_headers() {
        assert_eq!(
            verify(&secret(), None, BODY, NOW),
            Err(SignatureError::Missing)
        );
        let good = sign(&secret(), NOW, BODY);
        let v1 = good.split_once(",v1=").unwrap().1;
        for bad in [
            "".to_owned(),
            "garbage".to_owned(),
            format!("v1={v1}"),
            format!("t={NOW}"),
            format!("t=yesterday,v1={v1}"),
            format!("t={NOW},t={NOW},v1={v1}"),
            format!("t={NOW},v1=zz{}", &v1[2..]),
            format!("t={NOW},v1={}", &v1[..20]),
        ] {
            assert!(
                matches!(
                    verify(&secret(), Some(&bad), BODY, NOW),
                    Err(SignatureError::Malformed(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn any_of_several_v1_signatures_may_match_during_rotation() {
        let old = sign(&key("whsec_old_0123456789abcdef"), NOW, BODY);
        let new = sign(&secret(), NOW, BODY);
        let both = format!("{},v1={},v0=legacy", old, new.split_once(",v1=").unwrap().1);
        assert_eq!(verify(&secret(), Some(&both), BODY, NOW), Ok(()));
    }
}
