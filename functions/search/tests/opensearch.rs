//! The OpenSearch adapter against a local HTTP server that records every
//! request and answers canned OpenSearch responses (no OpenSearch can run
//! here). What this proves and what it does not: see `src/opensearch/mod.rs`.
#![cfg(feature = "opensearch-adapter")]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{TimeZone, Utc};
use search::index::{Change, Outcome, SearchDoc, SearchError, SearchIndex, SearchQuery, Sort};
use search::opensearch::document::IndexedDoc;
use search::opensearch::query::{self, Words};
use search::opensearch::{mapping, OpenSearchIndex};
use serde_json::{json, Value};

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    /// Path and query string.
    uri: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Recorded {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON request body")
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone, Default)]
struct Fake {
    log: Arc<Mutex<Vec<Recorded>>>,
    replies: Arc<Mutex<VecDeque<(u16, String)>>>,
}

impl Fake {
    fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }
    fn reply(&self, status: u16, body: impl Into<String>) {
        self.replies
            .lock()
            .unwrap()
            .push_back((status, body.into()));
    }
}

async fn record(State(fake): State<Fake>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 16 * 1024 * 1024).await.unwrap_or_default();
    fake.log.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        headers: parts.headers,
        body: body.to_vec(),
    });
    let next = fake.replies.lock().unwrap().pop_front();
    let (status, body) = next.unwrap_or((599, "no canned reply left".into()));
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json")],
        Body::from(body),
    )
        .into_response()
}

/// A fake OpenSearch on 127.0.0.1 and an unsigned adapter pointing at it.
async fn start() -> (Fake, OpenSearchIndex, String) {
    let fake = Fake::default();
    let app = axum::Router::new()
        .fallback(record)
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let index = OpenSearchIndex::new(&url, "products", None).unwrap();
    (fake, index, url)
}

fn doc(id: &str, name: &str, rating: f64) -> SearchDoc {
    SearchDoc {
        id: id.into(),
        sku: format!("SKU-{id}"),
        name: name.into(),
        description: format!("{name}, described"),
        category: "computers".into(),
        brand: "Acme".into(),
        price_amount: 99_900,
        currency: "EUR".into(),
        rating_average: rating,
        rating_count: 3,
        image: None,
        created_at: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
        updated_at: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
    }
}

fn query(text: Option<&str>, limit: usize) -> SearchQuery {
    SearchQuery {
        text: text.map(str::to_string),
        category: None,
        brand: None,
        min_price: None,
        max_price: None,
        sort: Sort::Relevance,
        limit,
        after: None,
    }
}

/// The sort values OpenSearch returns for a hit under the relevance sort.
fn sort_values(d: &SearchDoc, score: f64) -> Value {
    json!([
        score,
        d.rating_average,
        d.rating_count,
        d.created_at.timestamp_millis(),
        d.id
    ])
}

fn search_reply(docs: &[SearchDoc], total: u64) -> String {
    let hits: Vec<Value> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({
                "_index": "products",
                "_id": d.id,
                "_score": null,
                "_source": serde_json::to_value(IndexedDoc::of(d)).unwrap(),
                "sort": sort_values(d, 10.0 - i as f64),
            })
        })
        .collect();
    json!({
        "took": 3,
        "timed_out": false,
        "hits": { "total": { "value": total, "relation": "eq" }, "max_score": null, "hits": hits },
        "aggregations": {
            "category_facet": { "doc_count": total, "values": {
                "doc_count_error_upper_bound": 0, "sum_other_doc_count": 0,
                "buckets": [{ "key": "computers", "doc_count": 7 }, { "key": "audio", "doc_count": 2 }]
            }},
            "brand_facet": { "doc_count": total, "values": {
                "doc_count_error_upper_bound": 0, "sum_other_doc_count": 0,
                "buckets": [{ "key": "Acme", "doc_count": 5 }]
            }}
        }
    })
    .to_string()
}

const BULK_OK_2: &str = r#"{"took":5,"errors":false,"items":[
  {"index":{"_index":"products","_id":"prd_1","status":201,"result":"created"}},
  {"index":{"_index":"products","_id":"prd_2","status":200,"result":"updated"}}]}"#;

// ---- ensure_index -------------------------------------------------------

#[tokio::test]
async fn ensure_index_creates_the_index_with_the_mapping_when_absent() {
    let (fake, index, _) = start().await;
    fake.reply(404, "");
    fake.reply(
        200,
        r#"{"acknowledged":true,"shards_acknowledged":true,"index":"products"}"#,
    );
    index.ensure_index().await.unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        (requests[0].method.as_str(), requests[0].uri.as_str()),
        ("HEAD", "/products")
    );
    assert_eq!(
        (requests[1].method.as_str(), requests[1].uri.as_str()),
        ("PUT", "/products")
    );
    assert_eq!(requests[1].json(), mapping::index_body());
}

#[tokio::test]
async fn ensure_index_does_nothing_when_the_index_exists() {
    let (fake, index, _) = start().await;
    fake.reply(200, "");
    index.ensure_index().await.unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "HEAD");
}

#[tokio::test]
async fn ensure_index_accepts_losing_a_creation_race_but_not_other_refusals() {
    let (fake, index, _) = start().await;
    fake.reply(404, "");
    fake.reply(
        400,
        r#"{"error":{"type":"resource_already_exists_exception","reason":"index [products] already exists"},"status":400}"#,
    );
    index.ensure_index().await.unwrap();

    fake.reply(404, "");
    fake.reply(
        400,
        r#"{"error":{"type":"illegal_argument_exception","reason":"unknown setting"},"status":400}"#,
    );
    let err = index.ensure_index().await.unwrap_err();
    assert!(matches!(err, SearchError::Invalid(m) if m.contains("unknown setting")));
}

// ---- upsert / delete / get / count --------------------------------------

#[tokio::test]
async fn upsert_ensures_the_index_once_then_sends_bulk_ndjson_by_id() {
    let (fake, index, _) = start().await;
    let docs = vec![
        doc("prd_1", "Laptop Pro", 4.5),
        doc("prd_2", "Laptop Air", 4.0),
    ];
    fake.reply(200, ""); // HEAD: exists
    fake.reply(200, BULK_OK_2);
    index.upsert(docs.clone()).await.unwrap();
    fake.reply(200, BULK_OK_2); // no second HEAD
    index.upsert(docs.clone()).await.unwrap();

    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].method, "HEAD");
    for bulk in &requests[1..] {
        assert_eq!(bulk.method, "POST");
        // No `refresh`: OpenSearch Serverless refuses it.
        assert_eq!(bulk.uri, "/products/_bulk");
        assert_eq!(bulk.header("content-type"), Some("application/x-ndjson"));
        let text = std::str::from_utf8(&bulk.body).unwrap();
        assert!(text.ends_with('\n'));
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is one JSON value"))
            .collect();
        assert_eq!(lines.len(), 4);
        for (pair, d) in lines.chunks(2).zip(&docs) {
            assert_eq!(pair[0], json!({ "index": { "_id": d.id } }));
            assert_eq!(pair[1], serde_json::to_value(IndexedDoc::of(d)).unwrap());
            let back: SearchDoc = serde_json::from_value(pair[1].clone()).unwrap();
            assert_eq!(&back, d);
        }
    }
}

#[tokio::test]
async fn upsert_of_nothing_sends_nothing_and_item_failures_are_errors() {
    let (fake, index, _) = start().await;
    index.upsert(Vec::new()).await.unwrap();
    assert!(fake.requests().is_empty());

    fake.reply(200, "");
    fake.reply(
        200,
        r#"{"errors":true,"items":[{"index":{"_id":"prd_1","status":400,"error":{"type":"mapper_parsing_exception"}}}]}"#,
    );
    let err = index
        .upsert(vec![doc("prd_1", "x", 1.0)])
        .await
        .unwrap_err();
    assert!(matches!(err, SearchError::Invalid(m) if m.contains("prd_1")));

    fake.reply(
        200,
        r#"{"errors":true,"items":[{"index":{"_id":"prd_1","status":429}}]}"#,
    );
    let err = index
        .upsert(vec![doc("prd_1", "x", 1.0)])
        .await
        .unwrap_err();
    assert!(matches!(err, SearchError::Unavailable(_)));
}

#[tokio::test]
async fn delete_by_id_accepts_absent_documents() {
    let (fake, index, _) = start().await;
    fake.reply(200, r#"{"_id":"prd_1","result":"deleted"}"#);
    fake.reply(404, r#"{"_id":"prd_2","result":"not_found"}"#);
    fake.reply(503, "unavailable");
    index.delete("prd_1").await.unwrap();
    index.delete("prd_2").await.unwrap();
    assert!(matches!(
        index.delete("prd_3").await,
        Err(SearchError::Unavailable(_))
    ));
    let requests = fake.requests();
    assert_eq!(requests[0].method, "DELETE");
    assert_eq!(requests[0].uri, "/products/_doc/prd_1");
}

#[tokio::test]
async fn a_change_reads_the_document_and_writes_only_what_it_changes() {
    let (fake, index, _) = start().await;
    let found = |d: &SearchDoc| {
        json!({"_index":"products","_id":d.id,"found":true,"_source": IndexedDoc::of(d)})
            .to_string()
    };
    let held = doc("prd_1", "Laptop Pro", 4.5);
    let mut newer = held.clone();
    newer.name = "Laptop Pro 2".into();
    newer.updated_at += chrono::Duration::minutes(1);
    let mut older = held.clone();
    older.name = "Laptop".into();
    older.updated_at -= chrono::Duration::minutes(1);
    // A newer version: read, then written (the index is ensured first).
    fake.reply(200, found(&held));
    fake.reply(200, "");
    fake.reply(
        200,
        r#"{"took":1,"errors":false,"items":[{"index":{"_id":"prd_1","status":200}}]}"#,
    );
    assert_eq!(
        index.apply(Change::Put(newer.clone())).await.unwrap(),
        Outcome::Written
    );
    // An older one and the one held: read, nothing written.
    fake.reply(200, found(&newer));
    fake.reply(200, found(&newer));
    assert_eq!(
        index.apply(Change::Put(older)).await.unwrap(),
        Outcome::Stale
    );
    assert_eq!(
        index.apply(Change::Put(newer)).await.unwrap(),
        Outcome::Unchanged
    );
    // A delete: no read, one request.
    fake.reply(200, r#"{"_id":"prd_1","result":"deleted"}"#);
    assert_eq!(
        index.apply(Change::Delete("prd_1".into())).await.unwrap(),
        Outcome::Removed
    );
    let sent: Vec<(String, String)> = fake
        .requests()
        .into_iter()
        .map(|r| (r.method, r.uri))
        .collect();
    let expected = [
        ("GET", "/products/_doc/prd_1"),
        ("HEAD", "/products"),
        ("POST", "/products/_bulk"),
        ("GET", "/products/_doc/prd_1"),
        ("GET", "/products/_doc/prd_1"),
        ("DELETE", "/products/_doc/prd_1"),
    ];
    assert_eq!(
        sent,
        expected.map(|(m, u)| (m.to_owned(), u.to_owned())).to_vec()
    );
}

#[tokio::test]
async fn get_parses_the_source_and_absence() {
    let (fake, index, _) = start().await;
    let d = doc("prd_1", "Laptop Pro", 4.5);
    fake.reply(
        200,
        json!({"_index":"products","_id":"prd_1","found":true,"_source": IndexedDoc::of(&d)})
            .to_string(),
    );
    fake.reply(404, r#"{"_index":"products","_id":"prd_9","found":false}"#);
    fake.reply(
        404,
        r#"{"error":{"type":"index_not_found_exception","reason":"no such index [products]"},"status":404}"#,
    );
    assert_eq!(index.get("prd_1").await.unwrap(), Some(d));
    assert_eq!(index.get("prd_9").await.unwrap(), None);
    assert_eq!(index.get("prd_1").await.unwrap(), None);
    let requests = fake.requests();
    assert_eq!(
        (requests[0].method.as_str(), requests[0].uri.as_str()),
        ("GET", "/products/_doc/prd_1")
    );
}

#[tokio::test]
async fn count_reads_the_count_and_a_missing_index_is_empty() {
    let (fake, index, _) = start().await;
    fake.reply(
        200,
        r#"{"count":42,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0}}"#,
    );
    fake.reply(
        404,
        r#"{"error":{"type":"index_not_found_exception"},"status":404}"#,
    );
    assert_eq!(index.count().await.unwrap(), 42);
    assert_eq!(index.count().await.unwrap(), 0);
    assert_eq!(fake.requests()[0].uri, "/products/_count");
}

// ---- search ---------------------------------------------------------------

#[tokio::test]
async fn text_with_typos_is_fuzzy_by_word_length() {
    let (fake, index, _) = start().await;
    fake.reply(200, search_reply(&[doc("prd_1", "Laptop Pro", 4.5)], 1));
    index
        .search(&query(Some("Labtop hedphones tv"), 10))
        .await
        .unwrap();
    let request = &fake.requests()[0];
    assert_eq!(
        (request.method.as_str(), request.uri.as_str()),
        ("POST", "/products/_search")
    );
    let body = request.json();
    assert_eq!(body["track_total_hits"], true);
    assert_eq!(body["size"], 11);
    let must = body["query"]["bool"]["must"].as_array().unwrap();
    assert_eq!(must.len(), 3);
    let fuzziness = |word: &Value| -> Vec<Value> {
        word["bool"]["should"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["match"].as_object())
            .flat_map(|m| m.values())
            .filter_map(|f| f.get("fuzziness").cloned())
            .collect()
    };
    // "labtop": 6 letters, one typo on each of the 4 fields.
    assert_eq!(fuzziness(&must[0]), vec![json!(1); 4]);
    assert_eq!(
        must[0]["bool"]["should"][0],
        json!({"match": {"name": {"query": "labtop", "boost": 12.0}}})
    );
    // "hedphones": 9 letters, two typos.
    assert_eq!(fuzziness(&must[1]), vec![json!(2); 4]);
    // "tv": exact and prefix only.
    assert!(fuzziness(&must[2]).is_empty());
    assert_eq!(must[2], query::word_query("tv"));
}

#[tokio::test]
async fn filters_narrow_the_hits_and_each_facet_ignores_its_own_filter() {
    let (fake, index, _) = start().await;
    fake.reply(200, search_reply(&[], 0));
    let mut q = query(None, 5);
    q.category = Some("computers".into());
    q.brand = Some("Acme".into());
    q.min_price = Some(1_000);
    q.max_price = Some(200_000);
    index.search(&q).await.unwrap();
    let body = fake.requests()[0].json();
    assert_eq!(
        body["query"]["bool"]["filter"],
        json!([{ "range": { "priceAmount": { "gte": 1_000, "lte": 200_000 } } }])
    );
    let category = json!({ "term": { "category.keyword": "computers" } });
    let brand = json!({ "term": { "brand.keyword": "Acme" } });
    assert_eq!(
        body["post_filter"],
        json!({ "bool": { "filter": [category, brand] } })
    );
    assert_eq!(
        body["aggs"]["category_facet"]["filter"],
        json!({ "bool": { "filter": [brand] } })
    );
    assert_eq!(
        body["aggs"]["brand_facet"]["filter"],
        json!({ "bool": { "filter": [category] } })
    );
    assert_eq!(
        body["aggs"]["category_facet"]["aggs"]["values"]["terms"]["field"],
        "category.keyword"
    );
    assert_eq!(
        body["aggs"]["brand_facet"]["aggs"]["values"]["terms"]["field"],
        "brand.keyword"
    );
    // One word-less query: no fallback request.
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn each_sort_is_sent_with_its_tie_breakers() {
    let (fake, index, _) = start().await;
    let expected = [
        (Sort::Relevance, json!({"_score": {"order": "desc"}}), 5),
        (Sort::PriceAsc, json!({"priceAmount": {"order": "asc"}}), 6),
        (
            Sort::PriceDesc,
            json!({"priceAmount": {"order": "desc"}}),
            6,
        ),
        (Sort::Rating, json!({"ratingAverage": {"order": "desc"}}), 5),
        (Sort::Newest, json!({"createdAt": {"order": "desc"}}), 5),
    ];
    for (sort, first, len) in &expected {
        fake.reply(200, search_reply(&[], 0));
        let mut q = query(Some("laptop"), 10);
        q.sort = *sort;
        index.search(&q).await.unwrap();
        let body = fake.requests().last().unwrap().json();
        let clauses = body["sort"].as_array().unwrap();
        assert_eq!(&clauses[0], first, "{sort:?}");
        assert_eq!(clauses.len(), *len, "{sort:?}");
        assert_eq!(clauses.last().unwrap(), &json!({"id": {"order": "asc"}}));
        for field in ["_score", "ratingAverage", "ratingCount", "createdAt"] {
            assert!(
                clauses.iter().any(|c| c.get(field).is_some()),
                "{sort:?} lacks {field}"
            );
        }
    }
    assert_eq!(
        fake.requests()[3].json()["sort"][1],
        json!({"ratingCount": {"order": "desc"}})
    );
}

#[tokio::test]
async fn hits_total_and_facets_are_parsed_and_next_comes_from_the_extra_hit() {
    let (fake, index, _) = start().await;
    let docs: Vec<SearchDoc> = (1..=3)
        .map(|i| doc(&format!("prd_{i}"), &format!("Laptop {i}"), 5.0 - i as f64))
        .collect();
    // limit 2: OpenSearch returns limit + 1 hits when there is more.
    fake.reply(200, search_reply(&docs, 17));
    let page = index.search(&query(Some("laptop"), 2)).await.unwrap();
    assert_eq!(page.hits, docs[..2].to_vec());
    assert_eq!(page.total, 17);
    assert_eq!(page.facets.category.len(), 2);
    assert_eq!(page.facets.category[0].value, "computers");
    assert_eq!(page.facets.category[0].count, 7);
    assert_eq!(page.facets.brand[0].value, "Acme");
    assert_eq!(page.facets.brand[0].count, 5);
    let next = page.next.expect("a next position");
    assert_eq!(next, sort_values(&docs[1], 9.0));

    // The next page starts after that position.
    fake.reply(200, search_reply(&docs[2..], 17));
    let mut q = query(Some("laptop"), 2);
    q.after = Some(next.clone());
    let last = index.search(&q).await.unwrap();
    assert_eq!(fake.requests()[1].json()["search_after"], next);
    assert_eq!(last.hits, docs[2..].to_vec());
    assert_eq!(last.next, None);
}

#[tokio::test]
async fn a_full_page_without_an_extra_hit_has_no_next() {
    let (fake, index, _) = start().await;
    let docs = vec![doc("prd_1", "Laptop", 4.0), doc("prd_2", "Laptop", 3.0)];
    fake.reply(200, search_reply(&docs, 2));
    let page = index.search(&query(Some("laptop"), 2)).await.unwrap();
    assert_eq!(page.hits.len(), 2);
    assert_eq!(page.next, None);
}

#[tokio::test]
async fn a_cursor_of_another_shape_is_invalid_without_a_request() {
    let (fake, index, _) = start().await;
    let mut q = query(Some("laptop"), 2);
    q.sort = Sort::PriceAsc;
    q.after = Some(json!([9.0, 4.5, 3, 1_700_000_000_000_i64, "prd_2"]));
    assert!(matches!(
        index.search(&q).await,
        Err(SearchError::Invalid(_))
    ));
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn words_that_never_meet_fall_back_to_any_word() {
    let (fake, index, _) = start().await;
    fake.reply(200, search_reply(&[], 0));
    fake.reply(200, search_reply(&[doc("prd_1", "Laptop", 4.0)], 1));
    let page = index
        .search(&query(Some("laptop zebra"), 10))
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].json(),
        query::search_body(&query(Some("laptop zebra"), 10), Words::All).unwrap()
    );
    let any = requests[1].json();
    assert_eq!(any["query"]["bool"]["should"].as_array().unwrap().len(), 2);
    assert_eq!(any["query"]["bool"]["minimum_should_match"], 1);
}

#[tokio::test]
async fn a_missing_index_searches_as_empty() {
    let (fake, index, _) = start().await;
    fake.reply(
        404,
        r#"{"error":{"type":"index_not_found_exception"},"status":404}"#,
    );
    let page = index.search(&query(None, 10)).await.unwrap();
    assert_eq!((page.hits.len(), page.total, page.next), (0, 0, None));
}

// ---- suggest --------------------------------------------------------------

#[tokio::test]
async fn suggestions_are_completions_without_duplicates() {
    let (fake, index, _) = start().await;
    fake.reply(
        200,
        json!({
            "took": 1,
            "hits": { "total": { "value": 0, "relation": "eq" }, "hits": [] },
            "suggest": { "product": [{
                "text": "labt", "offset": 0, "length": 4,
                "options": [
                    { "text": "laptop", "_score": 4.0 },
                    { "text": "Laptop", "_score": 3.0 },
                    { "text": "laptop pro", "_score": 2.0 },
                    { "text": "lab coat", "_score": 1.0 }
                ]
            }]}
        })
        .to_string(),
    );
    let got = index.suggest("Labt", 2).await.unwrap();
    assert_eq!(got, ["laptop", "laptop pro"]);
    let request = &fake.requests()[0];
    assert_eq!(request.uri, "/products/_search");
    let body = request.json();
    assert_eq!(body["size"], 0);
    let completion = &body["suggest"]["product"];
    assert_eq!(completion["prefix"], "labt");
    assert_eq!(completion["completion"]["field"], "suggest");
    assert_eq!(completion["completion"]["fuzzy"]["fuzziness"], 1);
    // Nothing to complete: no request.
    assert!(index.suggest("  ", 5).await.unwrap().is_empty());
    assert_eq!(fake.requests().len(), 1);
}

// ---- errors ---------------------------------------------------------------

#[tokio::test]
async fn server_errors_are_unavailable_and_refusals_invalid() {
    let (fake, index, _) = start().await;
    fake.reply(503, r#"{"message":"Service Unavailable"}"#);
    fake.reply(
        400,
        r#"{"error":{"type":"search_phase_execution_exception","reason":"failed to parse search_after"},"status":400}"#,
    );
    fake.reply(429, r#"{"message":"Too Many Requests"}"#);
    fake.reply(200, "<html>not json</html>");
    fake.reply(403, r#"{"message":"User does not have permissions"}"#);
    let q = query(Some("laptop"), 10);
    assert!(
        matches!(index.search(&q).await, Err(SearchError::Unavailable(m)) if m.contains("503"))
    );
    assert!(
        matches!(index.search(&q).await, Err(SearchError::Invalid(m)) if m.contains("search_after"))
    );
    assert!(
        matches!(index.search(&q).await, Err(SearchError::Unavailable(m)) if m.contains("429"))
    );
    assert!(
        matches!(index.search(&q).await, Err(SearchError::Unavailable(m)) if m.contains("malformed"))
    );
    assert!(
        matches!(index.count().await, Err(SearchError::Unavailable(m)) if m.contains("permissions"))
    );
}

#[tokio::test]
async fn an_unreachable_engine_is_unavailable() {
    // A port that was free a moment ago: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let index = OpenSearchIndex::new(&url, "products", None).unwrap();
    assert!(matches!(
        index.count().await,
        Err(SearchError::Unavailable(_))
    ));
}

// ---- signing --------------------------------------------------------------

#[tokio::test]
async fn requests_are_signed_with_sigv4_for_aoss_when_aws_config_is_given() {
    let (fake, unsigned, url) = start().await;
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .test_credentials()
        .region(aws_config::Region::new("eu-west-1"))
        .load()
        .await;
    let signed = OpenSearchIndex::new(&url, "products", Some(&config)).unwrap();
    fake.reply(200, r#"{"count":1}"#);
    fake.reply(200, r#"{"count":1}"#);
    signed.count().await.unwrap();
    unsigned.count().await.unwrap();
    let requests = fake.requests();

    let authorization = requests[0].header("authorization").expect("signed");
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential="),
        "{authorization}"
    );
    assert!(
        authorization.contains("/eu-west-1/aoss/aws4_request"),
        "{authorization}"
    );
    assert!(
        authorization.contains("x-amz-content-sha256"),
        "{authorization}"
    );
    // The SHA-256 of the empty body: Serverless requires the payload hash.
    assert_eq!(
        requests[0].header("x-amz-content-sha256"),
        Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert!(requests[0].header("x-amz-date").is_some());

    assert!(requests[1].header("authorization").is_none());
    assert!(requests[1].header("x-amz-content-sha256").is_none());
}
