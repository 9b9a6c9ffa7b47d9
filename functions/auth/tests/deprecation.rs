//! `GET /v1/auth/validate` is declared deprecated (`auth::DEPRECATED`): over
//! the router production assembles, its answers carry `Deprecation`
//! (RFC 9745), `Sunset` (RFC 8594) and the successor link, and routes that
//! are not deprecated carry none of them.

mod common;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Utc};
use common::{app, str_of};

#[tokio::test]
async fn validate_announces_its_deprecation_sunset_and_successor() {
    let app = app();
    let r = app.signup("dee@example.com", "Dee").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let token = str_of(&r.body, "accessToken").to_owned();

    let v = app.validate(&token).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.body);

    // RFC 9745: an sf-date, "@" and integer seconds since the epoch.
    let deprecation = v.header("deprecation").expect("a Deprecation header");
    let seconds: i64 = deprecation
        .strip_prefix('@')
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("Deprecation {deprecation:?} is not @<seconds>"));
    let deprecated = DateTime::<Utc>::from_timestamp(seconds, 0).unwrap();
    assert_eq!(deprecated.to_rfc3339(), "2028-01-01T00:00:00+00:00");

    // RFC 8594: an HTTP-date, which must be an IMF-fixdate when sent.
    let sunset = v.header("sunset").expect("a Sunset header");
    assert_eq!(sunset, "Mon, 01 Jan 2029 00:00:00 GMT");
    let parsed = DateTime::parse_from_rfc2822(sunset).expect("an IMF-fixdate parses as RFC 2822");
    assert!(
        parsed > deprecated,
        "the sunset comes after the deprecation"
    );

    assert_eq!(
        v.header("link"),
        Some("</v1/me>; rel=\"successor-version\"")
    );

    // A bad token is still refused on the deprecated route.
    let revoked = app
        .call(Method::GET, "/v1/auth/validate")
        .bearer("not-a-token")
        .send()
        .await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);

    // Other routes of the same router are not deprecated.
    for r in [
        app.call(Method::GET, "/.well-known/jwks.json").send().await,
        app.login("dee@example.com", common::PASSWORD).await,
    ] {
        assert!(r.status.is_success(), "{} {}", r.status, r.body);
        for h in ["deprecation", "sunset", "link"] {
            assert_eq!(r.header(h), None, "{h} on a route that is not deprecated");
        }
    }
}
