//! The document and the routes' deprecation declarations agree: every
//! declared route is `deprecated: true` with `Deprecation`, `Sunset` and
//! `Link` documented on each of its answers, and nothing else is deprecated.

use lite_http::deprecation::check_documented;
use utoipa::openapi::Deprecated;

#[test]
fn declared_deprecations_and_the_document_agree() {
    let doc = api::openapi();
    let declared = api::deprecations();
    assert!(
        !declared.is_empty(),
        "one route is on its way out (README \"API versions\")"
    );
    check_documented(&declared, &doc).unwrap();

    // The declaration names a route of the table, and the description says
    // what replaces it.
    let table = api::route_table();
    for d in &declared {
        assert!(
            table
                .iter()
                .any(|r| r.method == d.method && r.path == d.path),
            "{} {} is not in the route table",
            d.method,
            d.path
        );
        let op = doc.paths.paths[d.path].get.as_ref().unwrap();
        assert!(matches!(op.deprecated, Some(Deprecated::True)));
        let text = op.description.as_deref().unwrap_or_default();
        assert!(text.contains(d.successor), "{text}");
        assert_eq!(text.matches("Deprecated from").count(), 1, "{text}");
    }
}

#[test]
fn a_deprecated_operation_without_a_declaration_is_caught() {
    let mut doc = api::openapi();
    let health = doc
        .paths
        .paths
        .get_mut("/v1/health")
        .unwrap()
        .get
        .as_mut()
        .unwrap();
    health.deprecated = Some(Deprecated::True);
    let err = check_documented(&api::deprecations(), &doc).unwrap_err();
    assert!(
        err.contains("GET /v1/health: deprecated in the document but not declared"),
        "{err}"
    );

    // And a declared one the document does not flag.
    let mut doc = api::openapi();
    let d = api::deprecations()[0];
    doc.paths
        .paths
        .get_mut(d.path)
        .unwrap()
        .get
        .as_mut()
        .unwrap()
        .deprecated = None;
    let err = check_documented(&api::deprecations(), &doc).unwrap_err();
    assert!(err.contains("not `deprecated: true`"), "{err}");
}
