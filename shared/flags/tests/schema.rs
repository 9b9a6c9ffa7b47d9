//! `infra/flags.json` (the default document CDK deploys) and
//! `infra/flags.schema.json` (the schema AppConfig validates deployments
//! against) agree with the parser: the default document is the defaults,
//! and the schema accepts exactly the documents `Flags::parse` accepts.

use lite_flags::Flags;
use serde_json::{json, Value};
use std::path::PathBuf;

fn infra(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../infra")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_deployed_default_document_is_the_defaults_and_names_every_flag() {
    let doc = infra("flags.json");
    assert_eq!(
        Flags::parse(doc.to_string().as_bytes()).unwrap(),
        Flags::default()
    );
    assert_eq!(doc, Flags::default().to_document());
}

#[test]
fn the_schema_accepts_exactly_what_the_parser_accepts() {
    let schema = infra("flags.schema.json");
    // AppConfig's JSON Schema validators are draft 4.
    jsonschema::draft4::meta::validate(&schema).expect("a draft 4 schema");
    let validator = jsonschema::draft4::new(&schema).unwrap();
    let cases = [
        json!({}),
        infra("flags.json"),
        json!({"searchCatalogFallback": true}),
        json!({"checkoutPaused": true, "checkoutRetryAfterSeconds": 1}),
        json!({"checkoutRetryAfterSeconds": 86400, "paymentTimeoutSeconds": 86400}),
        json!({"paymentTimeoutSeconds": null}),
        json!({"checkoutRetryAfterSeconds": null}),
        json!({"paymentTimeoutSeconds": 30}),
        // Refused by both:
        json!({"checkoutPause": true}),
        json!({"searchCatalogFallback": "true"}),
        json!({"checkoutPaused": 1}),
        json!({"checkoutRetryAfterSeconds": 0}),
        json!({"checkoutRetryAfterSeconds": 86401}),
        json!({"paymentTimeoutSeconds": 0}),
        json!({"paymentTimeoutSeconds": -5}),
        json!({"paymentTimeoutSeconds": 1.5}),
        json!({"paymentTimeoutSeconds": "60"}),
        json!([]),
        json!(null),
        json!("flags"),
    ];
    for case in cases {
        let parsed = Flags::parse(case.to_string().as_bytes());
        assert_eq!(
            validator.is_valid(&case),
            parsed.is_ok(),
            "schema and parser disagree on {case}: parser says {parsed:?}"
        );
    }
}
