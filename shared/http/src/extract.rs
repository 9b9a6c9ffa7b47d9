//! Extractors whose rejections are problem+json: a client always learns
//! which field was wrong and why, and bad input is never a 5xx.

use crate::error::ApiError;
use crate::layers::BODY_LIMIT;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use lite_core::{ErrorCode, FieldError, Problem};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A JSON body (request) or a JSON response.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "Send the body as JSON with Content-Type: application/json.",
            ));
        }
        let bytes = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
            .await
            .map_err(|e| {
                if is_length_limit(&e) {
                    ApiError::new(
                        ErrorCode::PayloadTooLarge,
                        format!("The body exceeds {} KiB.", BODY_LIMIT / 1024),
                    )
                } else {
                    ApiError::new(ErrorCode::BadRequest, "The request body could not be read.")
                }
            })?;
        parse_json(&bytes).map(Json).map_err(ApiError)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// Parses JSON into `T`, naming the offending field on failure.
///
/// JSON has one number type, and JSON Schema (which the OpenAPI document
/// is written in) counts `2.0` as the integer 2: a whole number written
/// with a fraction is read as that integer wherever one is expected. A key
/// given twice in one object is refused, not "last one wins".
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let read: Result<JsonValue, _> = serde_path_to_error::deserialize(de);
    let value = read.map_err(|err| json_problem(&err))?.0;
    let result: Result<T, _> = serde_path_to_error::deserialize(value);
    result.map_err(|err| json_problem(&err))
}

fn json_problem(err: &serde_path_to_error::Error<serde_json::Error>) -> Problem {
    let inner = err.inner();
    if inner.is_syntax() || inner.is_eof() {
        return Problem::new(
            ErrorCode::BadRequest,
            format!("The body is not valid JSON: {inner}"),
        );
    }
    let path = err.path().to_string();
    let message = strip_position(&inner.to_string());
    Problem::validation(vec![FieldError::new(
        field_name(&path, &message, "body"),
        message,
    )])
}

/// A JSON value read the way [`parse_json`] describes.
struct JsonValue(serde_json::Value);

impl<'de> serde::Deserialize<'de> for JsonValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor).map(JsonValue)
    }
}

struct JsonVisitor;

/// Integers up to 2^53 are exact as floats; past it `2.0`-style spellings
/// are not integers anyone meant.
const EXACT_FLOAT_INTEGER: f64 = 9_007_199_254_740_992.0;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        if v.fract() == 0.0 && v.abs() <= EXACT_FLOAT_INTEGER {
            Ok((v as i64).into())
        } else {
            Ok(v.into())
        }
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(JsonValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(serde_json::Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate field `{key}`")));
            }
            let JsonValue(v) = map.next_value()?;
            object.insert(key, v);
        }
        Ok(serde_json::Value::Object(object))
    }
}

/// Query-string parameters, parsed into `T` with field-named 400s.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        parse_query(query).map(Query).map_err(ApiError)
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, Problem> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    let result: Result<T, _> = serde_path_to_error::deserialize(de);
    result.map_err(|err| {
        let path = err.path().to_string();
        let message = err.inner().to_string();
        Problem::validation(vec![FieldError::new(
            field_name(&path, &message, "query"),
            message,
        )])
    })
}

/// serde names a missing or duplicate field only in its message (an unknown
/// one is already the last segment of the path);
/// `top` names the whole input when no field is known.
fn field_name(path: &str, message: &str, top: &str) -> String {
    let named = ["missing field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next())
        .map(str::to_owned);
    match (path, named) {
        (".", Some(f)) | ("", Some(f)) => f,
        (p, Some(f)) => format!("{p}.{f}"),
        (".", None) | ("", None) => top.to_owned(),
        (p, None) => p.to_owned(),
    }
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// `201 Created` with the new resource's `Location` and its JSON body.
pub fn created<T: Serialize>(location: &str, body: T) -> Response {
    match axum::http::HeaderValue::from_str(location) {
        Ok(value) => (
            StatusCode::CREATED,
            [(header::LOCATION, value)],
            axum::Json(body),
        )
            .into_response(),
        Err(_) => (StatusCode::CREATED, axum::Json(body)).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        price: Price,
        kind: Kind,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Price {
        amount: i64,
    }
    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Book,
    }

    #[test]
    fn malformed_json_is_bad_request() {
        let p = parse_json::<Body>(b"{not json").unwrap_err();
        assert_eq!(p.code, ErrorCode::BadRequest);
    }

    #[test]
    fn wrong_types_name_the_field() {
        let p = parse_json::<Body>(br#"{"name":"a","price":{"amount":"x"},"kind":"book"}"#)
            .unwrap_err();
        assert_eq!(p.code, ErrorCode::ValidationFailed);
        assert_eq!(p.errors[0].field, "price.amount");
    }

    #[test]
    fn missing_and_unknown_values_name_the_field() {
        let p = parse_json::<Body>(br#"{"name":"a","kind":"book"}"#).unwrap_err();
        assert_eq!(p.errors[0].field, "price");
        let p =
            parse_json::<Body>(br#"{"name":"a","price":{"amount":1},"kind":"car"}"#).unwrap_err();
        assert_eq!(p.errors[0].field, "kind");
        assert!(p.errors[0].message.contains("unknown variant"));
    }

    #[test]
    fn whole_numbers_written_with_a_fraction_are_integers() {
        #[derive(Debug, Deserialize)]
        struct N {
            n: i64,
            items: Vec<u8>,
            price: Price,
        }
        let n: N =
            parse_json(br#"{"n": 12.0, "items": [1.0, 2], "price": {"amount": -5.0}}"#).unwrap();
        assert_eq!((n.n, n.items, n.price.amount), (12, vec![1, 2], -5));
        let p = parse_json::<N>(br#"{"n": 1.5, "items": [], "price": {"amount": 1}}"#).unwrap_err();
        assert_eq!(p.errors[0].field, "n");
        let f: f64 = parse_json(b"2.5").unwrap();
        assert_eq!(f, 2.5);
    }

    #[test]
    fn a_key_given_twice_is_refused_and_named() {
        let p =
            parse_json::<Body>(br#"{"name":"a","price":{"amount":1,"amount":2},"kind":"book"}"#)
                .unwrap_err();
        assert_eq!(p.code, ErrorCode::ValidationFailed);
        assert_eq!(p.errors[0].field, "price.amount");
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Q {
        limit: Option<u32>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let p = parse_query::<Q>("limit=abc").unwrap_err();
        assert_eq!(p.errors[0].field, "limit");
        assert!(parse_query::<Q>("limit=5").unwrap().limit == Some(5));
        let p = parse_query::<Q>("limit=5&limit=6").unwrap_err();
        assert_eq!(p.errors[0].field, "limit");
    }
}
