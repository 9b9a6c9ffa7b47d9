//! OpenAPI schemas of the input rules several services share, built from
//! the same numbers their parsers check (a service wraps them in a
//! zero-argument function for `#[schema(schema_with = ...)]`).
//!
//! The document must accept exactly what the parsers accept, so a generated
//! client or a fuzzer never sends a "valid" value that is refused: text that
//! the parser trims is described by a pattern over the whole raw string.

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// What `str::trim` removes (Unicode `White_Space`), as a class body.
pub const TRIMMED: &str = r"\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// A first or last character after trimming: neither white space nor a
/// control character.
const EDGE: &str = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// Which characters trimmed text may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chars {
    /// Anything.
    Any,
    /// No control characters.
    NoControls,
    /// No control characters but line feeds.
    NoControlsButNewlines,
}

/// The pattern of text that is trimmed and then must hold `min..=max`
/// characters (`min` is 0 or 1) of `chars`.
pub fn trimmed_text_pattern(min: usize, max: usize, chars: Chars) -> String {
    assert!(min <= 1 && max >= 1, "patterns for 0 or 1 to n characters");
    let (edge, inner) = match chars {
        Chars::Any => (format!("[^{TRIMMED}]"), r"[\s\S]"),
        Chars::NoControls => (EDGE.to_owned(), r"[^\x00-\x1f\x7f-\x9f]"),
        Chars::NoControlsButNewlines => (EDGE.to_owned(), r"[^\x00-\x09\x0b-\x1f\x7f-\x9f]"),
    };
    let body = if max == 1 {
        edge
    } else {
        format!("{edge}(?:{inner}{{0,{}}}{edge})?", max - 2)
    };
    let body = if min == 0 {
        format!("(?:{body})?")
    } else {
        body
    };
    trimmed(&body)
}

/// A string the parser trims, then bounds to `min..=max` characters of
/// `chars`.
pub fn trimmed_text(min: usize, max: usize, chars: Chars) -> Object {
    let rule = match chars {
        Chars::Any => "",
        Chars::NoControls => "; no control characters",
        Chars::NoControlsButNewlines => "; no control characters but line feeds",
    };
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some(trimmed_text_pattern(min, max, chars)))
        .description(Some(format!(
            "{min} to {max} characters after trimming white space{rule}"
        )))
        .build()
}

/// `^<body>$`, allowing around `body` what `str::trim` removes: the
/// pattern of a value its parser trims first.
pub fn trimmed(body: &str) -> String {
    format!("^[{TRIMMED}]*{body}[{TRIMMED}]*$")
}

/// `schema`, or `null` (an optional field whose parser reads `null` as
/// absent).
pub fn or_null(mut schema: Object) -> Object {
    if let SchemaType::Type(t) = schema.schema_type {
        schema.schema_type = SchemaType::from_iter([t, Type::Null]);
    }
    schema
}

/// A sku as `lite_core::Sku::parse` reads it: trimmed, then 1 to 32
/// letters (either case), digits or inner hyphens.
pub fn sku() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some(trimmed(
            "[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?",
        )))
        .description(Some(
            "1 to 32 letters, digits or inner hyphens; upper-cased, so `lap-001` is `LAP-001`",
        ))
        .examples([serde_json::json!("LAP-NW-AERO14-001")])
        .build()
}

/// An integer in `min..=max`.
pub fn integer(min: i64, max: i64) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Int64,
        )))
        .minimum(Some(min))
        .maximum(Some(max))
        .build()
}
