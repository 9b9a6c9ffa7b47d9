//! The route table is the one source of the CDK routes: the committed
//! `infra/routes.json` must be exactly what the code generates.

#[test]
fn infra_routes_json_matches_the_route_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/routes.json");
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("infra/routes.json exists"))
            .expect("it is JSON");
    let generated = serde_json::json!({ "routes": api::route_table() });
    assert_eq!(
        committed, generated,
        "infra/routes.json is stale: run `cargo run -p amazon-lite -- routes > infra/routes.json`"
    );
}
