//! Retiring a route: a service declares the route's deprecation once, next
//! to its route table, and both the router and the OpenAPI document are
//! finished from that declaration.
//!
//! - [`layer`] adds to every response of a declared route
//!   `Deprecation: @<unix seconds>` (RFC 9745, a Structured Field Date; a
//!   date in the future announces the deprecation), `Sunset: <IMF-fixdate>`
//!   (RFC 8594: the route may stop answering after it) and
//!   `Link: <successor>; rel="successor-version"`.
//! - [`document`] marks the operation `deprecated: true`, says the dates and
//!   the successor in its description and documents the three headers on
//!   each of its responses; [`check_documented`] holds declarations and
//!   document equal.
//!
//! The lifecycle (README "API versions"): a successor is added beside the
//! route (`/v2/...` when the shape changes), the old route is declared here
//! with a deprecation date, clients see the headers and the OpenAPI flag,
//! and after the sunset the route leaves the route table.

use crate::routes::{operations, operations_mut};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use http::header::{HeaderName, HeaderValue, LINK};
use utoipa::openapi::path::Operation;
use utoipa::openapi::{Deprecated, OpenApi, RefOr};

/// RFC 9745.
pub const DEPRECATION: HeaderName = HeaderName::from_static("deprecation");
/// RFC 8594.
pub const SUNSET: HeaderName = HeaderName::from_static("sunset");

/// A calendar day, midnight UTC: the granularity a deprecation is announced in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Day {
    pub const fn new(year: i32, month: u32, day: u32) -> Self {
        Self { year, month, day }
    }

    /// Midnight UTC of the day; `None` for a day the calendar lacks.
    pub fn start(&self) -> Option<DateTime<Utc>> {
        NaiveDate::from_ymd_opt(self.year, self.month, self.day)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
    }
}

/// One route's retirement plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deprecation {
    /// As in the route table: `GET`.
    pub method: &'static str,
    /// The route template, as in the route table: `/v1/auth/validate`.
    pub path: &'static str,
    /// From when the route is deprecated (may be in the future).
    pub deprecated: Day,
    /// After when the route may answer 410 or not at all; after `deprecated`.
    pub sunset: Day,
    /// The route to use instead (a path, or an absolute URL).
    pub successor: &'static str,
}

impl Deprecation {
    /// Checks the declaration: real days, sunset after deprecation, a
    /// successor that is a path or an https URL.
    pub fn validate(&self) -> Result<(), String> {
        let name = format!("{} {}", self.method, self.path);
        let deprecated = self.deprecated.start().ok_or_else(|| {
            format!(
                "{name}: the deprecation day {:?} does not exist",
                self.deprecated
            )
        })?;
        let sunset = self
            .sunset
            .start()
            .ok_or_else(|| format!("{name}: the sunset day {:?} does not exist", self.sunset))?;
        if sunset <= deprecated {
            return Err(format!(
                "{name}: the sunset must come after the deprecation"
            ));
        }
        let s = self.successor;
        let path_like = s.starts_with('/') && !s.starts_with("//");
        if !(path_like || s.starts_with("https://")) || s.contains(['<', '>', '"', ' ']) {
            return Err(format!(
                "{name}: the successor {s:?} is not a path or an https URL"
            ));
        }
        Ok(())
    }

    /// `@<unix seconds>` (RFC 9745 §2.1: an sf-date).
    pub fn deprecation_value(&self) -> String {
        format!("@{}", self.start(self.deprecated).timestamp())
    }

    /// The IMF-fixdate of the sunset (RFC 8594 §3, RFC 9110 §5.6.7).
    pub fn sunset_value(&self) -> String {
        self.start(self.sunset)
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string()
    }

    /// `<successor>; rel="successor-version"` (RFC 5829).
    pub fn link_value(&self) -> String {
        format!("<{}>; rel=\"successor-version\"", self.successor)
    }

    /// The three headers, in the order they are added.
    pub fn headers(&self) -> [(HeaderName, HeaderValue); 3] {
        let value =
            |s: String| HeaderValue::try_from(s).expect("validated: ASCII without controls");
        [
            (DEPRECATION, value(self.deprecation_value())),
            (SUNSET, value(self.sunset_value())),
            (LINK, value(self.link_value())),
        ]
    }

    fn start(&self, day: Day) -> DateTime<Utc> {
        day.start().unwrap_or_else(|| {
            panic!(
                "{} {}: invalid day {day:?} (validate() first)",
                self.method, self.path
            )
        })
    }

    fn matches(&self, method: &http::Method, path: &str) -> bool {
        self.path == path && self.method.eq_ignore_ascii_case(method.as_str())
    }
}

/// Adds the headers of `declared` to the responses of the routes they name.
/// Apply it to the service's unfinished router (before `finish`), so the
/// matched route template is known.
///
/// Panics when a declaration is invalid: a wrong date is a programming
/// error, caught by the first test that builds the router.
pub fn layer(router: Router, declared: &'static [Deprecation]) -> Router {
    for d in declared {
        if let Err(e) = d.validate() {
            panic!("invalid deprecation: {e}");
        }
    }
    if declared.is_empty() {
        return router;
    }
    router.layer(axum::middleware::from_fn_with_state(declared, add_headers))
}

async fn add_headers(
    State(declared): State<&'static [Deprecation]>,
    request: Request,
    next: Next,
) -> Response {
    let found = request.extensions().get::<MatchedPath>().and_then(|p| {
        declared
            .iter()
            .find(|d| d.matches(request.method(), p.as_str()))
    });
    let Some(d) = found else {
        return next.run(request).await;
    };
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in d.headers() {
        if name == LINK {
            // A route may link to other things too: keep them.
            headers.append(name, value);
        } else {
            headers.insert(name, value);
        }
    }
    response
}

fn operation_mut<'a>(doc: &'a mut OpenApi, method: &str, path: &str) -> Option<&'a mut Operation> {
    operations_mut(doc.paths.paths.get_mut(path)?)
        .find(|(m, _)| m.eq_ignore_ascii_case(method))
        .map(|(_, op)| op)
}

/// Marks each declared operation of `doc` deprecated, says when and what
/// replaces it, and documents the headers on each of its responses.
/// Operations the document lacks are left to [`check_documented`].
pub fn document(doc: &mut OpenApi, declared: &[Deprecation]) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::{ObjectBuilder, Type};
    for d in declared {
        let Some(op) = operation_mut(doc, d.method, d.path) else {
            continue;
        };
        op.deprecated = Some(Deprecated::True);
        let note = format!(
            "Deprecated from {} (header `Deprecation: {}`), may be removed after {} (header `Sunset`); \
             use `{}` instead (header `Link: {}`).",
            d.deprecated_day(),
            d.deprecation_value(),
            d.sunset_day(),
            d.successor,
            d.link_value(),
        );
        // Idempotent: a service's document is finished again when merged.
        op.description = Some(match op.description.take() {
            Some(text) if text.contains(&note) => text,
            Some(text) if !text.is_empty() => format!("{text}\n\n{note}"),
            _ => note,
        });
        let text = |example: String| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .examples([example])
        };
        for response in op.responses.responses.values_mut() {
            let RefOr::T(response) = response else {
                continue;
            };
            response.headers.insert(
                "Deprecation".to_owned(),
                HeaderBuilder::new()
                    .schema(text(d.deprecation_value()))
                    .description(Some(
                        "RFC 9745: when the route is (or will be) deprecated, `@` and Unix seconds",
                    ))
                    .build(),
            );
            response.headers.insert(
                "Sunset".to_owned(),
                HeaderBuilder::new()
                    .schema(text(d.sunset_value()))
                    .description(Some(
                        "RFC 8594: after this HTTP-date the route may stop answering",
                    ))
                    .build(),
            );
            response.headers.insert(
                "Link".to_owned(),
                HeaderBuilder::new()
                    .schema(text(d.link_value()))
                    .description(Some("the successor route, `rel=\"successor-version\"`"))
                    .build(),
            );
        }
    }
}

impl Deprecation {
    fn deprecated_day(&self) -> String {
        self.start(self.deprecated).format("%Y-%m-%d").to_string()
    }
    fn sunset_day(&self) -> String {
        self.start(self.sunset).format("%Y-%m-%d").to_string()
    }
}

/// Holds `declared` and `doc` equal: every declared route is a deprecated
/// operation with the three headers on each response, and every deprecated
/// operation is declared.
pub fn check_documented(declared: &[Deprecation], doc: &OpenApi) -> Result<(), String> {
    let mut problems = Vec::new();
    for d in declared {
        if let Err(e) = d.validate() {
            problems.push(e);
        }
    }
    let mut doc = doc.clone();
    for d in declared {
        let name = format!("{} {}", d.method, d.path);
        match operation_mut(&mut doc, d.method, d.path) {
            None => problems.push(format!(
                "{name}: declared deprecated but not in the document"
            )),
            Some(op) => {
                if !matches!(op.deprecated, Some(Deprecated::True)) {
                    problems.push(format!("{name}: not `deprecated: true` in the document"));
                }
                for (status, response) in &op.responses.responses {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    for header in ["Deprecation", "Sunset", "Link"] {
                        if !response.headers.contains_key(header) {
                            problems.push(format!(
                                "{name}: response {status} does not document {header}"
                            ));
                        }
                    }
                }
            }
        }
    }
    for (path, item) in &doc.paths.paths {
        for (method, op) in operations(item) {
            let declared_here = declared
                .iter()
                .any(|d| d.path == path && d.method.eq_ignore_ascii_case(method));
            if matches!(op.deprecated, Some(Deprecated::True)) && !declared_here {
                problems.push(format!(
                    "{method} {path}: deprecated in the document but not declared"
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: Deprecation = Deprecation {
        method: "GET",
        path: "/v1/things/{id}",
        deprecated: Day::new(2027, 1, 1),
        sunset: Day::new(2027, 7, 1),
        successor: "/v2/things/{id}",
    };

    #[test]
    fn header_values_follow_the_rfcs() {
        // 2027-01-01T00:00:00Z
        assert_eq!(PLAN.deprecation_value(), "@1798761600");
        // IMF-fixdate: day name, two-digit day, month name, GMT.
        assert_eq!(PLAN.sunset_value(), "Thu, 01 Jul 2027 00:00:00 GMT");
        assert_eq!(
            PLAN.link_value(),
            "</v2/things/{id}>; rel=\"successor-version\""
        );
    }

    #[test]
    fn declarations_are_checked() {
        assert_eq!(PLAN.validate(), Ok(()));
        let bad_day = Deprecation {
            sunset: Day::new(2027, 2, 30),
            ..PLAN
        };
        assert!(bad_day.validate().unwrap_err().contains("does not exist"));
        let backwards = Deprecation {
            sunset: Day::new(2026, 12, 31),
            ..PLAN
        };
        assert!(backwards
            .validate()
            .unwrap_err()
            .contains("after the deprecation"));
        let same_day = Deprecation {
            sunset: PLAN.deprecated,
            ..PLAN
        };
        assert!(same_day.validate().is_err());
        for successor in [
            "v2/things",
            "//evil.example/x",
            "http://plain.example/v2",
            "/v2/a b",
            "/v2/\">",
        ] {
            let bad = Deprecation { successor, ..PLAN };
            assert!(bad.validate().is_err(), "{successor} accepted");
        }
        let absolute = Deprecation {
            successor: "https://api.example.com/v2/things",
            ..PLAN
        };
        assert_eq!(absolute.validate(), Ok(()));
    }
}
