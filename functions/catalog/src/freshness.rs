//! How fresh the public catalog reads are: `Cache-Control`, a strong `ETag`
//! and `304 Not Modified` for `GET /v1/products` and `GET /v1/products/{id}`.
//!
//! The tag is a hash of the exact JSON body, not the product's `updatedAt`:
//! the answer also carries the stock (inventory's) and the rating (copied
//! from reviews), which change without the product's own version moving.
//! Hashing the bytes makes "same tag" mean "same body", for one product and
//! for a listing page alike (a page's cursor is an HMAC of its position, so
//! it is stable too).

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rapidhash::v3::{rapidhash_v3_seeded, RapidSecrets};
use serde::Serialize;

/// Freshness of a catalog read a shared cache (the shop's data cache,
/// CloudFront, a browser) may keep without asking again.
///
/// Admins edit products (names, prices) and every sale moves stock, so the
/// window is short: 30 s fresh, then up to 30 s more served stale while one
/// request revalidates in the background. A change is visible everywhere
/// within a minute; checkout re-prices against the catalog and reserves
/// stock itself, so a price or stock figure shown a minute late cannot be
/// sold at (the order answers `409 price_changed` or fails out of stock).
/// In exchange, a popular product page costs the API one read per cache per
/// 30 s instead of one per view.
pub const MAX_AGE_SECS: u32 = 30;
pub const STALE_WHILE_REVALIDATE_SECS: u32 = 30;

/// `Cache-Control` of a public catalog read: formatted once, then shared
/// (every product page and listing answer carries it).
pub fn public_cache_control() -> HeaderValue {
    static VALUE: std::sync::LazyLock<HeaderValue> = std::sync::LazyLock::new(|| {
        HeaderValue::from_str(&format!(
            "public, max-age={MAX_AGE_SECS}, stale-while-revalidate={STALE_WHILE_REVALIDATE_SECS}"
        ))
        .expect("an ASCII header value")
    });
    VALUE.clone()
}

/// `Cache-Control` when the request carried credentials: the body is the
/// same as anyone's, but a shared cache must never store an answer to an
/// authenticated request; the caller may keep it and revalidate (`ETag`).
pub const PRIVATE_CACHE_CONTROL: &str = "private, no-cache";

/// The two seeds of [`etag_of`]'s 128 bits.
static SEEDS: [RapidSecrets; 2] = [
    RapidSecrets::seed(0x6574_6167),
    RapidSecrets::seed(0x626f_6479),
];

/// The strong entity tag of `body`: 128 bits of hash, hex (rapidhash v3
/// under two seeds). A tag is only ever compared with the tags of the same
/// URL's earlier bodies, which are written by the catalog, not by whoever
/// sends `If-None-Match`, so a fast hash serves as well as a cryptographic
/// one: SHA-256 was 4.6 % of a 20-item listing's CPU under load.
pub fn etag_of(body: &[u8]) -> HeaderValue {
    let [a, b] = SEEDS.each_ref().map(|seed| rapidhash_v3_seeded(body, seed));
    HeaderValue::from_str(&format!("\"{a:016x}{b:016x}\"")).expect("an ASCII header value")
}

/// Whether `If-None-Match` (any of its values) names `etag`, or is `*`.
/// RFC 9110 §13.1.2: `If-None-Match` uses the weak comparison, so `W/"x"`
/// matches `"x"`.
fn none_match(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.to_str().unwrap_or_default();
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == ours)
}

/// `value` as JSON with its `ETag` and `Cache-Control`, or `304` with the
/// same two headers and no body when the request's `If-None-Match` names
/// the current tag.
pub fn cached_json<T: Serialize>(request: &HeaderMap, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => cached_body(request, body),
        Err(e) => {
            tracing::error!(error = %e, "a catalog answer did not serialize");
            lite_http::error::problem_response(&lite_core::Problem::internal())
        }
    }
}

/// [`cached_json`] for a body that is JSON already.
pub fn cached_body(request: &HeaderMap, body: Vec<u8>) -> Response {
    let etag = etag_of(&body);
    let cache_control = if request.contains_key(header::AUTHORIZATION) {
        HeaderValue::from_static(PRIVATE_CACHE_CONTROL)
    } else {
        public_cache_control()
    };
    let headers = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, cache_control),
    ];
    if none_match(request, &etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (
        headers,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(if_none_match: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in if_none_match {
            h.append(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_tag_follows_the_bytes() {
        assert_eq!(etag_of(b"{\"a\":1}"), etag_of(b"{\"a\":1}"));
        assert_ne!(etag_of(b"{\"a\":1}"), etag_of(b"{\"a\":2}"));
        let tag = etag_of(b"x");
        let s = tag.to_str().unwrap();
        assert!(
            s.starts_with('"') && s.ends_with('"') && s.len() == 34,
            "{s}"
        );
    }

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists_and_star() {
        let tag = etag_of(b"x");
        let t = tag.to_str().unwrap();
        assert!(none_match(&request(&[t]), &tag));
        assert!(none_match(&request(&[&format!("W/{t}")]), &tag));
        assert!(none_match(&request(&[&format!("\"other\", {t}")]), &tag));
        assert!(none_match(&request(&["\"other\"", t]), &tag));
        assert!(none_match(&request(&["*"]), &tag));
        assert!(!none_match(&request(&["\"other\""]), &tag));
        assert!(!none_match(&request(&[]), &tag));
    }

    #[test]
    fn cache_control_is_public_and_short() {
        assert_eq!(
            public_cache_control(),
            "public, max-age=30, stale-while-revalidate=30"
        );
    }
}
