//! The served document describes what the server accepts and answers: the
//! shared responses of every operation, the problem schema, and the bounds
//! of parameters taken from the constants the parsers check.

use api::document::{has_json_body, OPEN_BODIES, PROBLEM, PROBLEM_JSON};
use lite_http::Access;
use serde_json::Value;

fn doc() -> Value {
    serde_json::to_value(api::openapi()).unwrap()
}

/// Every operation: (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                ops.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    assert!(ops.len() > 40, "the whole API is documented");
    ops
}

fn statuses(op: &Value) -> Vec<&str> {
    op["responses"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

fn access(method: &str, path: &str) -> Access {
    api::route_table()
        .into_iter()
        .find(|r| r.method == method && r.path == path)
        .unwrap_or_else(|| panic!("{method} {path} is in the route table"))
        .auth
}

/// A component schema, or the schema itself when it is inline (an optional
/// body is `oneOf` `null` and the body).
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(one) = schema["oneOf"].as_array() {
        let body = one.iter().find(|s| s["type"] != "null").unwrap();
        return resolve(doc, body);
    }
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.strip_prefix("#/components/schemas/").unwrap();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn json_body(op: &Value) -> Option<&Value> {
    op["requestBody"]["content"]["application/json"]
        .get("schema")
        .filter(|s| !s.is_null())
}

#[test]
fn every_json_body_operation_documents_400_413_and_415() {
    let doc = doc();
    let typed = api::openapi();
    let mut checked = 0;
    for (method, path, op) in operations(&doc) {
        let typed_op = match method.as_str() {
            "GET" => typed.paths.paths[&path].get.as_ref(),
            "POST" => typed.paths.paths[&path].post.as_ref(),
            "PUT" => typed.paths.paths[&path].put.as_ref(),
            "PATCH" => typed.paths.paths[&path].patch.as_ref(),
            _ => typed.paths.paths[&path].delete.as_ref(),
        }
        .unwrap();
        if json_body(&op).is_none() {
            assert!(!has_json_body(typed_op));
            continue;
        }
        checked += 1;
        for status in ["400", "413", "415"] {
            assert!(
                statuses(&op).contains(&status),
                "{method} {path} lacks {status}"
            );
        }
    }
    assert!(checked >= 15, "{checked} operations take a JSON body");
}

#[test]
fn protected_operations_document_401_and_admin_ones_403() {
    let doc = doc();
    for (method, path, op) in operations(&doc) {
        let s = statuses(&op);
        match access(&method, &path) {
            Access::Public => {}
            Access::Bearer => assert!(s.contains(&"401"), "{method} {path}"),
            Access::Admin => {
                assert!(s.contains(&"401") && s.contains(&"403"), "{method} {path}")
            }
        }
        for status in ["500", "503"] {
            assert!(s.contains(&status), "{method} {path} lacks {status}");
        }
    }
}

#[test]
fn every_error_response_is_a_problem() {
    let doc = doc();
    let problem = &doc["components"]["schemas"][PROBLEM];
    let required: Vec<&str> = problem["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for field in [
        "type",
        "title",
        "status",
        "detail",
        "code",
        "correlationId",
        "errors",
    ] {
        assert!(required.contains(&field), "Problem.{field}");
    }
    let codes = problem["properties"]["code"]["enum"].as_array().unwrap();
    assert!(codes.contains(&Value::from("unsupported_media_type")));
    assert_eq!(
        problem["properties"]["errors"]["items"]["$ref"],
        "#/components/schemas/FieldError"
    );
    for (method, path, op) in operations(&doc) {
        for (status, response) in op["responses"].as_object().unwrap() {
            if status.starts_with('4') || status.starts_with('5') {
                let content = response["content"].as_object().unwrap();
                assert_eq!(content.len(), 1, "{method} {path} {status}");
                assert_eq!(
                    content[PROBLEM_JSON]["schema"]["$ref"],
                    format!("#/components/schemas/{PROBLEM}"),
                    "{method} {path} {status}"
                );
            }
        }
    }
}

/// Every `limit` parameter with the page bounds its parser checks.
#[test]
fn every_limit_has_the_bounds_the_server_enforces() {
    let doc = doc();
    let mut seen = 0;
    for (method, path, op) in operations(&doc) {
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        for p in params.iter().filter(|p| p["name"] == "limit") {
            seen += 1;
            let (max, default) = if path == "/v1/search/suggest" {
                (search::MAX_SUGGESTIONS, search::DEFAULT_SUGGESTIONS)
            } else {
                (lite_http::paging::MAX_PAGE, lite_http::paging::DEFAULT_PAGE)
            };
            let s = &p["schema"];
            assert_eq!(s["type"], "integer", "{method} {path}");
            assert_eq!(s["minimum"], 1, "{method} {path}");
            assert_eq!(s["maximum"], max, "{method} {path}");
            assert_eq!(s["default"], default, "{method} {path}");
        }
    }
    assert!(seen >= 6, "{seen} listings");
}

#[test]
fn price_filters_have_the_catalog_bounds() {
    let doc = doc();
    let mut seen = 0;
    for (method, path, op) in operations(&doc) {
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        for p in params
            .iter()
            .filter(|p| p["name"] == "minPrice" || p["name"] == "maxPrice")
        {
            seen += 1;
            assert_eq!(p["schema"]["type"], "integer", "{method} {path}");
            assert_eq!(p["schema"]["minimum"], 0, "{method} {path}");
            assert_eq!(
                p["schema"]["maximum"],
                catalog::MAX_PRICE,
                "{method} {path}"
            );
        }
    }
    assert_eq!(seen, 4, "products and search each filter by price");
}

#[test]
fn request_bodies_are_closed_and_integers_are_integers() {
    let doc = doc();
    for (method, path, op) in operations(&doc) {
        let Some(schema) = json_body(&op) else {
            continue;
        };
        let open = schema["$ref"]
            .as_str()
            .is_some_and(|r| OPEN_BODIES.iter().any(|n| r.ends_with(n)));
        let mut body = resolve(&doc, schema);
        // A body with a rule across fields: the shape, then the rule.
        if let Some(all) = body["allOf"].as_array() {
            body = &all[0];
        }
        if !open {
            assert_eq!(
                body["additionalProperties"],
                Value::Bool(false),
                "{method} {path}"
            );
        }
    }
    let schemas = &doc["components"]["schemas"];
    let rating = &schemas["ReviewInput"]["properties"]["rating"];
    assert_eq!(
        (rating["minimum"].clone(), rating["maximum"].clone()),
        (1.into(), 5.into())
    );
    assert_eq!(rating["type"], "integer");
    let available = &schemas["PutStock"]["properties"]["available"];
    assert_eq!(available["type"], "integer");
    assert_eq!(available["maximum"], inventory::MAX_UNITS);
}

#[test]
fn suggest_requires_q_and_orders_require_an_idempotency_key() {
    let doc = doc();
    let param = |path: &str, method: &str, name: &str| {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} {name}"))
            .clone()
    };
    assert_eq!(param("/v1/search/suggest", "get", "q")["required"], true);
    let key = param("/v1/orders", "post", "Idempotency-Key");
    assert_eq!(key["in"], "header");
    assert_eq!(key["required"], true);
    assert_eq!(key["schema"]["maxLength"], 255);
    assert_eq!(key["schema"]["pattern"], "^[!-~]+$");
    let sku = param("/v1/inventory/{sku}", "get", "sku");
    assert!(sku["schema"]["pattern"].is_string());
}

/// The patterns of trimmed text accept exactly what a parser that trims,
/// counts characters and refuses control characters accepts.
#[test]
fn trimmed_text_patterns_match_the_parsers() {
    use lite_http::schema::{trimmed_text_pattern, Chars};
    let samples = [
        "",
        " ",
        "a",
        " a ",
        "ab",
        "a b",
        "a\nb",
        "a\tb",
        "\ta\t",
        "\u{3000}a",
        "a\u{85}",
        "\u{a0}",
        "a\u{a0}b",
        "\u{7f}",
        "é",
        "abc",
        "abcd",
        " abcd ",
        "a\u{1}b",
        "\na\n",
        "日本語",
        "\u{1c}a",
        "a\u{9f}",
    ];
    for (min, max) in [(0, 3), (1, 3), (1, 1), (0, 1)] {
        for chars in [Chars::Any, Chars::NoControls, Chars::NoControlsButNewlines] {
            let re = regex::Regex::new(&trimmed_text_pattern(min, max, chars)).unwrap();
            for s in samples {
                let t = s.trim();
                let n = t.chars().count();
                let allowed = |c: char| match chars {
                    Chars::Any => true,
                    Chars::NoControls => !c.is_control(),
                    Chars::NoControlsButNewlines => !c.is_control() || c == '\n',
                };
                let parser = (min..=max).contains(&n) && t.chars().all(allowed);
                assert_eq!(re.is_match(s), parser, "{min}..={max} {chars:?} {s:?}");
            }
        }
    }
}
