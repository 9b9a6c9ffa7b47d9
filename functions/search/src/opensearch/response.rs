//! Parsers of OpenSearch's answers. A body that does not have the expected
//! shape is `Unavailable` (the engine misbehaved; the caller did nothing
//! wrong); a 400 is `Invalid` (the request was refused as built).

use serde::Deserialize;
use serde_json::Value;

use crate::index::{FacetCount, Facets, SearchDoc, SearchError, SearchResults};
use crate::opensearch::query::{BRAND_FACET, CATEGORY_FACET, FACET_VALUES, SUGGESTER};

/// The error of a non-success status, with OpenSearch's reason when it
/// gave one.
pub fn status_error(status: u16, body: &str) -> SearchError {
    let reason = error_reason(body).unwrap_or_else(|| truncate(body));
    match status {
        400 => SearchError::Invalid(format!("OpenSearch refused the request: {reason}")),
        _ => SearchError::Unavailable(format!("OpenSearch answered {status}: {reason}")),
    }
}

/// Whether a 404 says the index itself is missing (nothing indexed yet),
/// as opposed to a missing document.
pub fn is_index_missing(status: u16, body: &str) -> bool {
    status == 404 && error_type(body).as_deref() == Some("index_not_found_exception")
}

/// Whether a 400 of index creation says another writer created it first.
pub fn is_already_exists(status: u16, body: &str) -> bool {
    status == 400
        && matches!(
            error_type(body).as_deref(),
            Some("resource_already_exists_exception")
        )
}

fn error_type(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    v["error"]["type"].as_str().map(str::to_string)
}

fn error_reason(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    let error = &v["error"];
    match (error["type"].as_str(), error["reason"].as_str()) {
        (Some(t), Some(r)) => Some(format!("{t}: {r}")),
        (None, Some(r)) | (Some(r), None) => Some(r.to_string()),
        // Some proxies (and Serverless auth failures) answer {"message": ..}.
        (None, None) => v["message"].as_str().or(error.as_str()).map(str::to_string),
    }
}

fn truncate(body: &str) -> String {
    body.chars().take(200).collect()
}

fn malformed(what: &str, e: impl std::fmt::Display) -> SearchError {
    SearchError::Unavailable(format!("malformed OpenSearch {what} response: {e}"))
}

#[derive(Deserialize)]
struct SearchResponse {
    hits: Hits,
    #[serde(default)]
    aggregations: Option<Aggregations>,
}

#[derive(Deserialize)]
struct Hits {
    total: Total,
    hits: Vec<Hit>,
}

#[derive(Deserialize)]
struct Total {
    value: u64,
}

#[derive(Deserialize)]
struct Hit {
    #[serde(rename = "_source")]
    source: SearchDoc,
    sort: Vec<Value>,
}

#[derive(Deserialize)]
struct Aggregations {
    #[serde(rename = "category_facet")]
    category: FilteredFacet,
    #[serde(rename = "brand_facet")]
    brand: FilteredFacet,
}

#[derive(Deserialize)]
struct FilteredFacet {
    values: Terms,
}

#[derive(Deserialize)]
struct Terms {
    buckets: Vec<Bucket>,
}

#[derive(Deserialize)]
struct Bucket {
    key: String,
    doc_count: u64,
}

// The aggregation names are the builder's; keep the parser in step.
const _: () = {
    assert!(matches!(CATEGORY_FACET.as_bytes(), b"category_facet"));
    assert!(matches!(BRAND_FACET.as_bytes(), b"brand_facet"));
    assert!(matches!(FACET_VALUES.as_bytes(), b"values"));
};

/// A `_search` answer to `query::search_body` with page size `limit`: at
/// most `limit` hits in order; `next` (the last kept hit's sort values)
/// only when OpenSearch returned the extra hit that proves more exist.
pub fn parse_search(body: &[u8], limit: usize) -> Result<SearchResults, SearchError> {
    let response: SearchResponse =
        serde_json::from_slice(body).map_err(|e| malformed("search", e))?;
    let more = response.hits.hits.len() > limit;
    let mut hits = response.hits.hits;
    hits.truncate(limit);
    let next = if more {
        hits.last().map(|h| Value::Array(h.sort.clone()))
    } else {
        None
    };
    let aggregations = response
        .aggregations
        .ok_or_else(|| malformed("search", "no aggregations"))?;
    Ok(SearchResults {
        total: response.hits.total.value,
        facets: Facets {
            category: counts(aggregations.category),
            brand: counts(aggregations.brand),
        },
        hits: hits.into_iter().map(|h| h.source).collect(),
        next,
    })
}

fn counts(facet: FilteredFacet) -> Vec<FacetCount> {
    facet
        .values
        .buckets
        .into_iter()
        .map(|b| FacetCount {
            value: b.key,
            count: b.doc_count,
        })
        .collect()
}

#[derive(Deserialize)]
struct SuggestResponse {
    suggest: std::collections::HashMap<String, Vec<SuggestEntry>>,
}

#[derive(Deserialize)]
struct SuggestEntry {
    options: Vec<SuggestOption>,
}

#[derive(Deserialize)]
struct SuggestOption {
    text: String,
}

/// The completions of a suggest answer, in OpenSearch's order (exact
/// prefix matches before fuzzy ones, then by weight), without
/// case-insensitive duplicates, at most `limit`.
pub fn parse_suggest(body: &[u8], limit: usize) -> Result<Vec<String>, SearchError> {
    let response: SuggestResponse =
        serde_json::from_slice(body).map_err(|e| malformed("suggest", e))?;
    let entries = response
        .suggest
        .get(SUGGESTER)
        .ok_or_else(|| malformed("suggest", format!("no `{SUGGESTER}` suggestions")))?;
    let mut out: Vec<String> = Vec::new();
    for option in entries.iter().flat_map(|e| &e.options) {
        let lower = option.text.to_lowercase();
        if !out.iter().any(|s| s.to_lowercase() == lower) {
            out.push(option.text.clone());
        }
        if out.len() == limit {
            break;
        }
    }
    Ok(out)
}

#[derive(Deserialize)]
struct GetResponse {
    found: bool,
    #[serde(rename = "_source")]
    source: Option<SearchDoc>,
}

/// A `GET /<index>/_doc/<id>` answer (200, or 404 with `found: false`).
pub fn parse_get(body: &[u8]) -> Result<Option<SearchDoc>, SearchError> {
    let response: GetResponse = serde_json::from_slice(body).map_err(|e| malformed("get", e))?;
    match (response.found, response.source) {
        (true, Some(doc)) => Ok(Some(doc)),
        (true, None) => Err(malformed("get", "found without _source")),
        (false, _) => Ok(None),
    }
}

#[derive(Deserialize)]
struct CountResponse {
    count: u64,
}

pub fn parse_count(body: &[u8]) -> Result<u64, SearchError> {
    serde_json::from_slice::<CountResponse>(body)
        .map(|c| c.count)
        .map_err(|e| malformed("count", e))
}

#[derive(Deserialize)]
struct BulkResponse {
    errors: bool,
    items: Vec<std::collections::HashMap<String, BulkItem>>,
}

#[derive(Deserialize)]
struct BulkItem {
    #[serde(rename = "_id", default)]
    id: Option<String>,
    status: u16,
    #[serde(default)]
    error: Option<Value>,
}

/// A `_bulk` answer: every item must have succeeded. Items refused as
/// malformed (4xx other than 429) make the whole call `Invalid` (retrying
/// would not help); throttled or failed ones make it `Unavailable`.
pub fn parse_bulk(body: &[u8], expected_items: usize) -> Result<(), SearchError> {
    let response: BulkResponse = serde_json::from_slice(body).map_err(|e| malformed("bulk", e))?;
    if response.items.len() != expected_items {
        return Err(malformed(
            "bulk",
            format!(
                "{} items for {expected_items} documents",
                response.items.len()
            ),
        ));
    }
    let failed: Vec<&BulkItem> = response
        .items
        .iter()
        .flat_map(|i| i.values())
        .filter(|i| !(200..300).contains(&i.status))
        .collect();
    if failed.is_empty() && !response.errors {
        return Ok(());
    }
    let describe = |i: &&BulkItem| {
        format!(
            "{} ({}: {})",
            i.id.as_deref().unwrap_or("?"),
            i.status,
            i.error.as_ref().map(Value::to_string).unwrap_or_default()
        )
    };
    let summary: Vec<String> = failed.iter().take(5).map(describe).collect();
    let message = format!(
        "{} of {expected_items} documents failed: {}",
        failed.len(),
        summary.join("; ")
    );
    if failed.iter().any(|i| i.status == 429 || i.status >= 500) || failed.is_empty() {
        Err(SearchError::Unavailable(message))
    } else {
        Err(SearchError::Invalid(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_map_to_invalid_or_unavailable() {
        let bad = r#"{"error":{"type":"parsing_exception","reason":"bad sort"},"status":400}"#;
        assert_eq!(
            status_error(400, bad),
            SearchError::Invalid(
                "OpenSearch refused the request: parsing_exception: bad sort".into()
            )
        );
        assert!(
            matches!(status_error(503, "down"), SearchError::Unavailable(m) if m.contains("503") && m.contains("down"))
        );
        assert!(
            matches!(status_error(403, r#"{"message":"denied"}"#), SearchError::Unavailable(m) if m.contains("denied"))
        );
    }

    #[test]
    fn index_missing_is_told_apart_from_document_missing() {
        let missing =
            json!({"error": {"type": "index_not_found_exception"}, "status": 404}).to_string();
        assert!(is_index_missing(404, &missing));
        assert!(!is_index_missing(404, r#"{"found":false}"#));
    }

    #[test]
    fn malformed_bodies_are_unavailable() {
        assert!(matches!(
            parse_search(b"{}", 10),
            Err(SearchError::Unavailable(_))
        ));
        assert!(matches!(
            parse_search(b"<html>", 10),
            Err(SearchError::Unavailable(_))
        ));
        assert!(matches!(
            parse_count(br#"{"count":"x"}"#),
            Err(SearchError::Unavailable(_))
        ));
        assert!(matches!(
            parse_suggest(br#"{"suggest":{}}"#, 3),
            Err(SearchError::Unavailable(_))
        ));
        assert!(matches!(
            parse_get(br#"{"found":true}"#),
            Err(SearchError::Unavailable(_))
        ));
    }

    #[test]
    fn bulk_item_failures_are_reported_by_kind() {
        let ok = json!({"errors": false, "items": [{"index": {"_id": "a", "status": 201}}]});
        assert_eq!(parse_bulk(ok.to_string().as_bytes(), 1), Ok(()));
        assert!(matches!(
            parse_bulk(ok.to_string().as_bytes(), 2),
            Err(SearchError::Unavailable(_))
        ));
        let mapping = json!({"errors": true, "items": [
            {"index": {"_id": "a", "status": 201}},
            {"index": {"_id": "b", "status": 400, "error": {"type": "mapper_parsing_exception"}}}
        ]});
        assert!(
            matches!(parse_bulk(mapping.to_string().as_bytes(), 2), Err(SearchError::Invalid(m)) if m.contains("b (400"))
        );
        let throttled = json!({"errors": true, "items": [{"index": {"_id": "a", "status": 429}}]});
        assert!(matches!(
            parse_bulk(throttled.to_string().as_bytes(), 1),
            Err(SearchError::Unavailable(_))
        ));
    }
}
