//! The event schemas in `events/schemas/` and the contract types in
//! `lite_events::contracts` describe the same events:
//! - every schema is a valid draft 2020-12 document named after its
//!   detail-type, and every detail-type of the public contract has one;
//! - a sample of every contract type, in its envelope, validates against
//!   its schema, and the same sample broken (a required field missing, a
//!   field of the wrong type) does not;
//! - the evolution rule holds: a consumer that declares v1 and v2 takes
//!   both, an optional field added to v1 breaks no v1 consumer.

use chrono::{DateTime, TimeZone, Utc};
use jsonschema::Validator;
use lite_core::{Currency, Ids, Money, Sku, SystemIds};
use lite_events::contracts::{self, *};
use lite_events::{Envelope, HandlerError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::{Path, PathBuf};

/// The detail-types the public contract (API.md, "Events") promises.
const API_DETAIL_TYPES: &[&str] = &[
    "user.registered.v1",
    "product.created.v1",
    "product.updated.v1",
    "product.deleted.v1",
    "inventory.reserved.v1",
    "inventory.released.v1",
    "inventory.low.v1",
    "cart.checked_out.v1",
    "order.created.v1",
    "order.confirmed.v1",
    "order.failed.v1",
    "order.cancelled.v1",
    "order.shipped.v1",
    "payment.authorized.v1",
    "payment.failed.v1",
    "payment.refunded.v1",
    "review.approved.v1",
];

const ENVELOPE_FIELDS: [&str; 7] = [
    "id",
    "type",
    "version",
    "source",
    "time",
    "correlationId",
    "data",
];
/// Envelope fields an event may lack (older events have none).
const OPTIONAL_ENVELOPE_FIELDS: [&str; 1] = ["traceparent"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every schema file: detail-type (file stem) → document.
fn schemas() -> BTreeMap<String, Value> {
    let dir = repo_root().join("events/schemas");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let stem = name
            .strip_suffix(".json")
            .unwrap_or_else(|| panic!("{name}: only .json files belong in events/schemas"));
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
        out.insert(stem.to_owned(), doc);
    }
    out
}

fn validator(schema: &Value) -> Validator {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("{}: does not compile: {e}", schema["title"]))
}

fn errors(v: &Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

// ---------------------------------------------------------------------------
// The schema files themselves
// ---------------------------------------------------------------------------

#[test]
fn every_schema_is_a_valid_draft_2020_12_document_named_after_its_detail_type() {
    let schemas = schemas();
    assert!(!schemas.is_empty());
    for (stem, doc) in &schemas {
        if let Err(e) = jsonschema::draft202012::meta::validate(doc) {
            panic!("{stem}: not a valid draft 2020-12 schema: {e}");
        }
        assert_eq!(
            doc["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{stem}"
        );
        assert_eq!(
            doc["$id"],
            format!("https://amazon-lite.dev/events/{stem}.json"),
            "{stem}"
        );
        assert_eq!(doc["title"], stem.as_str(), "{stem}");

        // The envelope: closed, every field required, type + version =
        // the file's detail-type, one source service.
        assert_eq!(doc["type"], "object", "{stem}");
        assert_eq!(doc["additionalProperties"], false, "{stem}");
        let required: BTreeSet<&str> = doc["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(required, BTreeSet::from(ENVELOPE_FIELDS), "{stem}");
        let props = doc["properties"].as_object().unwrap();
        let keys: BTreeSet<&str> = props.keys().map(String::as_str).collect();
        let mut declared = BTreeSet::from(ENVELOPE_FIELDS);
        declared.extend(OPTIONAL_ENVELOPE_FIELDS);
        assert_eq!(keys, declared, "{stem}");
        // The trace context: optional, the W3C form.
        assert_eq!(props["traceparent"]["type"], "string", "{stem}");
        assert!(props["traceparent"]["pattern"].is_string(), "{stem}");
        let (event_type, version) = stem.rsplit_once(".v").unwrap();
        assert_eq!(props["type"]["const"], event_type, "{stem}");
        assert_eq!(
            props["version"]["const"],
            version.parse::<u64>().unwrap(),
            "{stem}"
        );
        let source = props["source"]["const"].as_str().unwrap();
        assert!(source.starts_with("amazon-lite."), "{stem}: {source}");

        // The data: a closed object, every required field declared.
        let data = &props["data"];
        assert_eq!(data["type"], "object", "{stem}");
        assert_eq!(data["additionalProperties"], false, "{stem}");
        for r in data["required"].as_array().unwrap() {
            assert!(
                data["properties"].get(r.as_str().unwrap()).is_some(),
                "{stem}: required {r} is not a property"
            );
        }
        validator(doc);
    }
}

#[test]
fn every_detail_type_of_the_public_contract_has_a_schema() {
    let schemas = schemas();
    let missing: Vec<_> = API_DETAIL_TYPES
        .iter()
        .filter(|t| !schemas.contains_key(**t))
        .collect();
    assert!(missing.is_empty(), "no schema for {missing:?}");
}

/// API.md lives beside the repository (shared/API.md) where the brief is
/// checked out; when it is there, the list above must not lag behind it.
#[test]
fn the_list_above_covers_api_md_when_it_is_beside_the_repository() {
    let api = repo_root().join("../shared/API.md");
    let Ok(text) = std::fs::read_to_string(&api) else {
        return;
    };
    let section = text
        .split("## Events")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("API.md has an Events section");
    let listed: Vec<&str> = section
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.contains(".v") && !s.contains('{'))
        .collect();
    assert!(listed.len() >= 17, "{listed:?}");
    for t in listed {
        assert!(API_DETAIL_TYPES.contains(&t), "API.md lists {t}");
    }
}

#[test]
fn every_schema_has_a_contract_type_and_every_contract_type_a_schema() {
    let schemas: BTreeSet<String> = schemas().into_keys().collect();
    let contracts: BTreeSet<String> = contracts::ALL.iter().map(|s| s.to_string()).collect();
    assert_eq!(schemas, contracts);
    assert_eq!(contracts.len(), contracts::ALL.len(), "ALL has duplicates");
}

// ---------------------------------------------------------------------------
// Samples of every contract type
// ---------------------------------------------------------------------------

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 30, 0).unwrap()
}

fn usd(amount: i64) -> Money {
    Money::new(amount, Currency::USD)
}

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn id(ids: &SystemIds, prefix: &str) -> String {
    format!("{prefix}_{}", ids.next())
}

struct Ctx {
    ids: SystemIds,
    order: String,
    user: String,
    payment: String,
    product: String,
}

impl Ctx {
    fn new() -> Self {
        let ids = SystemIds::default();
        Self {
            order: id(&ids, "ord"),
            user: id(&ids, "usr"),
            payment: id(&ids, "pay"),
            product: id(&ids, "prd"),
            ids,
        }
    }

    fn lines(&self) -> Vec<LineItem> {
        vec![
            LineItem {
                product_id: self.product.clone(),
                sku: sku("LAP-NW-AERO14-001"),
                name: "Aero 14 Laptop".into(),
                quantity: 1,
                unit_price: usd(129_999),
            },
            LineItem {
                product_id: id(&self.ids, "prd"),
                sku: sku("USB-C-CABLE-2M"),
                name: "USB-C cable, 2 m".into(),
                quantity: 3,
                unit_price: usd(1_299),
            },
        ]
    }

    fn stock(&self) -> Vec<StockLine> {
        vec![
            StockLine {
                sku: sku("LAP-NW-AERO14-001"),
                quantity: 1,
            },
            StockLine {
                sku: sku("USB-C-CABLE-2M"),
                quantity: 3,
            },
        ]
    }

    fn product(&self) -> ProductSnapshot {
        ProductSnapshot {
            id: self.product.clone(),
            sku: sku("LAP-NW-AERO14-001"),
            name: "Aero 14 Laptop".into(),
            description: "A light laptop.".into(),
            category: "laptops".into(),
            brand: "Northwind".into(),
            price: usd(129_999),
            images: vec!["https://images.example.com/aero14.jpg".into()],
            attributes: BTreeMap::from([("color".into(), "Silver".into())]),
            rating: RatingSummary {
                average: 4.5,
                count: 12,
            },
            created_at: at(),
            updated_at: at() + chrono::Duration::milliseconds(1_234),
        }
    }

    /// The envelope of `data` as JSON, after checking that it decodes back
    /// to `data` (so the Rust type reads what it writes).
    fn envelope<C: Contract + PartialEq + Debug>(&self, data: C) -> (&'static str, Value) {
        let e = Envelope::of(&self.ids, at(), "req-7f3a", &data);
        assert_eq!(e.source, format!("amazon-lite.{}", C::SERVICE));
        let back: C = contracts::decode(&e).unwrap();
        assert_eq!(back, data, "{} does not round-trip", C::DETAIL_TYPE);
        (C::DETAIL_TYPE, serde_json::to_value(&e).unwrap())
    }
}

/// One sample per contract type, every optional field set, so that the
/// sample's data keys are exactly the schema's data properties.
fn samples() -> Vec<(&'static str, Value)> {
    let c = Ctx::new();
    vec![
        c.envelope(UserRegisteredV1 {
            user_id: c.user.clone(),
            email: "ada@example.com".into(),
            name: "Ada Lovelace".into(),
        }),
        c.envelope(ProductCreatedV1 {
            product: c.product(),
        }),
        c.envelope(ProductUpdatedV1 {
            product: c.product(),
        }),
        c.envelope(ProductDeletedV1 {
            id: c.product.clone(),
            sku: sku("LAP-NW-AERO14-001"),
        }),
        c.envelope(InventoryReservedV1 {
            order_id: c.order.clone(),
            items: c.stock(),
        }),
        c.envelope(InventoryReleasedV1 {
            order_id: c.order.clone(),
            items: c.stock(),
            reason: ReleaseReason::PaymentTimeout,
        }),
        c.envelope(InventoryLowV1 {
            sku: sku("USB-C-CABLE-2M"),
            available: 4,
            threshold: 5,
        }),
        c.envelope(CartCheckedOutV1 {
            user_id: c.user.clone(),
            order_id: c.order.clone(),
            items: c.lines(),
            subtotal: usd(133_896),
            item_count: 4,
        }),
        c.envelope(OrderCreatedV1 {
            order_id: c.order.clone(),
            user_id: c.user.clone(),
            items: c.lines(),
            total: usd(133_896),
        }),
        c.envelope(OrderConfirmedV1 {
            order_id: c.order.clone(),
            user_id: c.user.clone(),
            items: c.lines(),
            total: usd(133_896),
            payment_id: c.payment.clone(),
        }),
        c.envelope(OrderFailedV1 {
            order_id: c.order.clone(),
            user_id: c.user.clone(),
            reason: FailureReason::OutOfStock,
            detail: Some("USB-C-CABLE-2M: only 2 left".into()),
        }),
        c.envelope(OrderCancelledV1 {
            order_id: c.order.clone(),
            user_id: c.user.clone(),
            items: c.lines(),
            total: usd(133_896),
            payment_id: Some(c.payment.clone()),
            cancelled_by: CancelledBy::Customer,
        }),
        c.envelope(OrderShippedV1 {
            order_id: c.order.clone(),
            user_id: c.user.clone(),
        }),
        c.envelope(PaymentAuthorizedV1 {
            payment_id: c.payment.clone(),
            order_id: c.order.clone(),
            amount: usd(133_896),
            provider: "sandbox".into(),
        }),
        c.envelope(PaymentFailedV1 {
            payment_id: c.payment.clone(),
            order_id: c.order.clone(),
            amount: usd(133_896),
            provider: "sandbox".into(),
            reason: PaymentFailureReason::InsufficientFunds,
        }),
        c.envelope(PaymentRefundedV1 {
            payment_id: c.payment.clone(),
            order_id: c.order.clone(),
            amount: usd(133_896),
            provider: "sandbox".into(),
            kind: RefundKind::Void,
            reason: RefundReason::OrderCancelled,
        }),
        c.envelope(ReviewApprovedV1 {
            review_id: id(&c.ids, "rev"),
            product_id: c.product.clone(),
            user_id: c.user.clone(),
            rating: 5,
            verified_purchase: true,
            product_rating: RatingSummary {
                average: 4.6,
                count: 13,
            },
            rating_version: Some(21),
        }),
        c.envelope(ReviewWithdrawnV1 {
            review_id: id(&c.ids, "rev"),
            product_id: c.product.clone(),
            user_id: c.user.clone(),
            product_rating: RatingSummary {
                average: 4.5,
                count: 12,
            },
            rating_version: 22,
            reason: WithdrawReason::Edited,
        }),
    ]
}

#[test]
fn there_is_a_sample_of_every_contract_type() {
    let sampled: BTreeSet<&str> = samples().iter().map(|(t, _)| *t).collect();
    let all: BTreeSet<&str> = contracts::ALL.iter().copied().collect();
    assert_eq!(sampled, all);
}

#[test]
fn detail_type_constants_are_type_dot_v_version() {
    fn check<C: Contract>() {
        assert_eq!(C::DETAIL_TYPE, format!("{}.v{}", C::TYPE, C::VERSION));
    }
    check::<UserRegisteredV1>();
    check::<ProductCreatedV1>();
    check::<ProductUpdatedV1>();
    check::<ProductDeletedV1>();
    check::<InventoryReservedV1>();
    check::<InventoryReleasedV1>();
    check::<InventoryLowV1>();
    check::<CartCheckedOutV1>();
    check::<OrderCreatedV1>();
    check::<OrderConfirmedV1>();
    check::<OrderFailedV1>();
    check::<OrderCancelledV1>();
    check::<OrderShippedV1>();
    check::<PaymentAuthorizedV1>();
    check::<PaymentFailedV1>();
    check::<PaymentRefundedV1>();
    check::<ReviewApprovedV1>();
    check::<ReviewWithdrawnV1>();
}

#[test]
fn every_contract_sample_validates_against_its_schema() {
    let schemas = schemas();
    for (detail_type, sample) in samples() {
        let schema = &schemas[detail_type];
        let errs = errors(&validator(schema), &sample);
        assert!(errs.is_empty(), "{detail_type}: {errs:#?}\n{sample:#}");

        // Field for field: the Rust type writes exactly the data properties
        // the schema declares (samples set every optional field).
        let written: BTreeSet<&String> = sample["data"].as_object().unwrap().keys().collect();
        let declared: BTreeSet<&String> = schema["properties"]["data"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(written, declared, "{detail_type}");
    }
}

#[test]
fn optional_fields_left_out_are_omitted_not_null() {
    let schemas = schemas();
    let ids = SystemIds::default();
    let failed = OrderFailedV1 {
        order_id: id(&ids, "ord"),
        user_id: id(&ids, "usr"),
        reason: FailureReason::PaymentDeclined,
        detail: None,
    };
    let cancelled = OrderCancelledV1 {
        order_id: id(&ids, "ord"),
        user_id: id(&ids, "usr"),
        items: Ctx::new().lines(),
        total: usd(1),
        payment_id: None,
        cancelled_by: CancelledBy::Admin,
    };
    for (t, e) in [
        (
            OrderFailedV1::DETAIL_TYPE,
            Envelope::of(&ids, at(), "c", &failed),
        ),
        (
            OrderCancelledV1::DETAIL_TYPE,
            Envelope::of(&ids, at(), "c", &cancelled),
        ),
    ] {
        let v = serde_json::to_value(&e).unwrap();
        assert!(!v["data"].to_string().contains("null"), "{v}");
        let errs = errors(&validator(&schemas[t]), &v);
        assert!(errs.is_empty(), "{t}: {errs:?}");
    }
}

/// A value of another JSON type than `v`.
fn wrong_type(v: &Value) -> Value {
    match v {
        Value::String(_) => json!(12345),
        Value::Number(_) => json!("12"),
        Value::Bool(_) => json!("true"),
        Value::Array(_) => json!({}),
        Value::Object(_) => json!([]),
        Value::Null => json!(1),
    }
}

/// JSON pointers to every value inside `v` (the first element of arrays).
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = format!("{at}/{k}");
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        Value::Array(a) => {
            if let Some(first) = a.first() {
                let p = format!("{at}/0");
                out.push(p.clone());
                pointers(first, p, out);
            }
        }
        _ => {}
    }
}

#[test]
fn broken_samples_do_not_validate() {
    let schemas = schemas();
    for (detail_type, sample) in samples() {
        let v = validator(&schemas[detail_type]);
        let reject = |broken: Value, what: &str| {
            assert!(
                !v.is_valid(&broken),
                "{detail_type}: {what} was accepted:\n{broken:#}"
            );
        };

        // Every required data field, missing.
        for field in schemas[detail_type]["properties"]["data"]["required"]
            .as_array()
            .unwrap()
        {
            let mut broken = sample.clone();
            broken["data"]
                .as_object_mut()
                .unwrap()
                .remove(field.as_str().unwrap());
            reject(broken, &format!("data without {field}"));
        }
        // Every value, at any depth, of the wrong JSON type.
        let mut paths = Vec::new();
        pointers(&sample["data"], "/data".into(), &mut paths);
        for p in paths {
            let mut broken = sample.clone();
            let slot = broken.pointer_mut(&p).unwrap();
            *slot = wrong_type(slot);
            reject(broken, &format!("{p} of the wrong type"));
        }
        // Envelope and closedness.
        for (field, bad) in [
            ("version", json!(99)),
            ("type", json!("something.else")),
            ("source", json!("amazon-lite.elsewhere")),
            ("id", json!("not-an-event-id")),
            ("time", json!("yesterday")),
            ("correlationId", json!("")),
        ] {
            let mut broken = sample.clone();
            broken[field] = bad;
            reject(broken, field);
        }
        for field in ENVELOPE_FIELDS {
            let mut broken = sample.clone();
            broken.as_object_mut().unwrap().remove(field);
            reject(broken, &format!("envelope without {field}"));
        }
        let mut broken = sample.clone();
        broken["extra"] = json!(1);
        reject(broken, "an unknown envelope field");
        let mut broken = sample.clone();
        broken["data"]["surprise"] = json!(1);
        reject(broken, "an undeclared data field");
    }
}

#[test]
fn money_is_integer_minor_units_in_an_upper_case_currency() {
    let schemas = schemas();
    let (t, sample) = samples()
        .into_iter()
        .find(|(t, _)| *t == OrderCreatedV1::DETAIL_TYPE)
        .unwrap();
    let v = validator(&schemas[t]);
    for (pointer, bad) in [
        ("/data/total/amount", json!(1338.96)),
        ("/data/total/amount", json!(-1)),
        ("/data/total/currency", json!("usd")),
        ("/data/items/0/unitPrice/currency", json!("US")),
        ("/data/items/0/quantity", json!(0)),
        ("/data/items/0/sku", json!("lap 001")),
        ("/data/userId", json!("usr_not-a-ulid")),
        ("/data/items", json!([])),
    ] {
        let mut broken = sample.clone();
        *broken.pointer_mut(pointer).unwrap() = bad.clone();
        assert!(!v.is_valid(&broken), "{pointer} = {bad} was accepted");
    }
}

// ---------------------------------------------------------------------------
// Decoding, and the evolution rule
// ---------------------------------------------------------------------------

fn product_created_v1(c: &Ctx) -> Envelope {
    Envelope::of(
        &c.ids,
        at(),
        "c",
        &ProductCreatedV1 {
            product: c.product(),
        },
    )
}

#[test]
fn decode_checks_type_and_version_and_data() {
    let c = Ctx::new();
    let e = product_created_v1(&c);
    assert_eq!(
        contracts::decode::<ProductCreatedV1>(&e)
            .unwrap()
            .product
            .id,
        c.product
    );
    assert_eq!(
        contracts::decode::<ProductUpdatedV1>(&e),
        Err(DecodeError::WrongType {
            expected: "product.updated.v1",
            found: "product.created.v1".into()
        })
    );
    let mut newer = e.clone();
    newer.version = 2;
    assert!(matches!(
        contracts::decode::<ProductCreatedV1>(&newer),
        Err(DecodeError::WrongType { .. })
    ));
    let mut garbled = e.clone();
    garbled.data["product"]["price"] = json!({"amount": 1.5, "currency": "USD"});
    let err = contracts::decode::<ProductCreatedV1>(&garbled).unwrap_err();
    assert!(matches!(err, DecodeError::Data { .. }), "{err}");
    // A consumer hands the error to its transport: straight to the DLQ.
    assert!(matches!(HandlerError::from(err), HandlerError::Poison(_)));
}

#[test]
fn envelopes_round_trip_through_json() {
    let c = Ctx::new();
    let e = product_created_v1(&c);
    let text = serde_json::to_string(&e).unwrap();
    assert!(
        text.contains(r#""time":"2026-03-01T12:30:00.000Z""#),
        "{text}"
    );
    let back: Envelope = serde_json::from_str(&text).unwrap();
    assert_eq!(back, e);
    assert_eq!(back.detail_type(), "product.created.v1");
    assert!(back.id.starts_with("evt_"));
}

/// A future `product.created.v2` (test-only): `price` renamed `listPrice`,
/// which is breaking, hence a new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductCreatedV2 {
    product: ProductSnapshotV2,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductSnapshotV2 {
    id: String,
    sku: Sku,
    name: String,
    description: String,
    category: String,
    brand: String,
    list_price: Money,
    images: Vec<String>,
    attributes: BTreeMap<String, String>,
    rating: RatingSummary,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Contract for ProductCreatedV2 {
    const TYPE: &'static str = "product.created";
    const VERSION: u32 = 2;
    const SERVICE: &'static str = "catalog";
    const DETAIL_TYPE: &'static str = "product.created.v2";
}

/// Its schema: the v1 schema with `price` renamed.
fn product_created_v2_schema(v1: &Value) -> Value {
    let mut s = v1.clone();
    s["$id"] = json!("https://amazon-lite.dev/events/product.created.v2.json");
    s["title"] = json!("product.created.v2");
    s["properties"]["version"] = json!({"const": 2});
    let product = &mut s["$defs"]["product"];
    let price = product["properties"]
        .as_object_mut()
        .unwrap()
        .remove("price")
        .unwrap();
    product["properties"]["listPrice"] = price;
    for r in product["required"].as_array_mut().unwrap() {
        if r == "price" {
            *r = json!("listPrice");
        }
    }
    s
}

lite_events::accepts! {
    /// What a search indexer mid-migration reads: both versions of
    /// `product.created` (N and N-1), and the other product events.
    #[derive(Debug)]
    enum SearchFeed {
        CreatedV2(ProductCreatedV2),
        CreatedV1(ProductCreatedV1),
        Updated(ProductUpdatedV1),
        Deleted(ProductDeletedV1),
    }
}

/// The consumer's subscription comes from the same declaration.
struct SearchIndexer;

#[async_trait::async_trait]
impl lite_events::Handler for SearchIndexer {
    fn name(&self) -> &'static str {
        "search-indexer"
    }
    fn detail_types(&self) -> &'static [&'static str] {
        SearchFeed::DETAIL_TYPES
    }
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        match SearchFeed::decode(event)? {
            SearchFeed::CreatedV2(e) => index(&e.product.id, e.product.list_price),
            SearchFeed::CreatedV1(e) => index(&e.product.id, e.product.price),
            SearchFeed::Updated(e) => index(&e.product.id, e.product.price),
            SearchFeed::Deleted(_) => Ok(()),
        }
    }
}

fn index(_id: &str, _price: Money) -> Result<(), HandlerError> {
    Ok(())
}

#[test]
fn a_consumer_accepts_the_current_and_the_previous_version() {
    let schemas = schemas();
    let v1_schema = &schemas["product.created.v1"];
    let v2_schema = product_created_v2_schema(v1_schema);
    assert!(jsonschema::draft202012::meta::is_valid(&v2_schema));
    let (v1_check, v2_check) = (validator(v1_schema), validator(&v2_schema));

    let c = Ctx::new();
    let old = product_created_v1(&c);
    let p = c.product();
    let new = Envelope::of(
        &c.ids,
        at(),
        "c",
        &ProductCreatedV2 {
            product: ProductSnapshotV2 {
                id: p.id,
                sku: p.sku,
                name: p.name,
                description: p.description,
                category: p.category,
                brand: p.brand,
                list_price: p.price,
                images: p.images,
                attributes: p.attributes,
                rating: p.rating,
                created_at: p.created_at,
                updated_at: p.updated_at,
            },
        },
    );
    let (old_json, new_json) = (
        serde_json::to_value(&old).unwrap(),
        serde_json::to_value(&new).unwrap(),
    );
    // Each is valid against its own version's schema only: the change is
    // breaking, so it had to be a new version.
    assert!(v1_check.is_valid(&old_json) && !v2_check.is_valid(&old_json));
    assert!(v2_check.is_valid(&new_json) && !v1_check.is_valid(&new_json));

    // The consumer reads both, and subscribes to both.
    assert!(matches!(
        SearchFeed::decode(&old),
        Ok(SearchFeed::CreatedV1(e)) if e.product.price.amount == 129_999
    ));
    assert!(matches!(
        SearchFeed::decode(&new),
        Ok(SearchFeed::CreatedV2(e)) if e.product.list_price.amount == 129_999
    ));
    use lite_events::Handler;
    assert_eq!(
        SearchIndexer.detail_types(),
        [
            "product.created.v2",
            "product.created.v1",
            "product.updated.v1",
            "product.deleted.v1"
        ]
    );
}

#[test]
fn a_version_the_consumer_did_not_declare_is_poison() {
    let c = Ctx::new();
    let mut v3 = product_created_v1(&c);
    v3.version = 3;
    let err = SearchFeed::decode(&v3).unwrap_err();
    assert_eq!(
        err,
        DecodeError::NotAccepted {
            found: "product.created.v3".into(),
            accepted: SearchFeed::DETAIL_TYPES,
        }
    );
    let other = Envelope::of(
        &c.ids,
        at(),
        "c",
        &InventoryLowV1 {
            sku: sku("A-1"),
            available: 0,
            threshold: 1,
        },
    );
    assert!(matches!(
        HandlerError::from(SearchFeed::decode(&other).unwrap_err()),
        HandlerError::Poison(m) if m.contains("inventory.low.v1")
    ));
}

#[test]
fn an_added_optional_field_keeps_the_version() {
    // The producer adds an optional `detail`-like field to product.created.v1
    // (and declares it in the same schema file, not required).
    let schemas = schemas();
    let mut amended = schemas["product.created.v1"].clone();
    amended["$defs"]["product"]["properties"]["subtitle"] = json!({"type": "string"});
    let amended_check = validator(&amended);

    let c = Ctx::new();
    let old = product_created_v1(&c);
    let mut new = old.clone();
    new.data["product"]["subtitle"] = json!("Now lighter");

    // Events written before the change are still valid v1 events...
    assert!(amended_check.is_valid(&serde_json::to_value(&old).unwrap()));
    assert!(amended_check.is_valid(&serde_json::to_value(&new).unwrap()));
    // ...and a consumer built before the change still reads the new ones.
    let read: ProductCreatedV1 = contracts::decode(&new).unwrap();
    assert_eq!(read.product, c.product());
    assert!(matches!(
        SearchFeed::decode(&new),
        Ok(SearchFeed::CreatedV1(_))
    ));
}
