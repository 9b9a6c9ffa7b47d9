//! Profiles, addresses and preferences, and the newtypes request bodies are
//! parsed into. Nothing here touches the store.

use crate::body::Body;
use crate::country::CountryCode;
use chrono::{DateTime, Utc};
use lite_core::{Currency, Problem, Violations};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::fmt;
use utoipa::ToSchema;

lite_core::define_id!(AddressId, "adr");

/// The most addresses one account may hold.
pub const MAX_ADDRESSES: i64 = 20;

/// Trimmed text of `min..=max` characters without control characters.
fn bounded_text(raw: &str, min: usize, max: usize) -> Result<String, String> {
    let t = raw.trim();
    let n = t.chars().count();
    if n < min || n > max {
        return Err(format!("must be {min} to {max} characters"));
    }
    if t.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(t.to_owned())
}

fn text(v: &mut Violations, field: &str, raw: &str, min: usize, max: usize) -> Option<String> {
    v.check(field, bounded_text(raw, min, max))
}

/// Optional text: absent, `null` and blank all mean "none".
fn optional_text(
    v: &mut Violations,
    field: &str,
    raw: Option<String>,
    max: usize,
) -> Option<Option<String>> {
    match raw {
        Some(s) if !s.trim().is_empty() => text(v, field, &s, 1, max).map(Some),
        _ => Some(None),
    }
}

/// A person's name as shown on the profile: 1 to 100 characters, trimmed,
/// no control characters. Auth checks signup names with the same rule.
pub fn parse_name(raw: &str) -> Result<String, String> {
    bounded_text(raw, 1, 100)
}

/// Implements `Display`, string serde and `as_str` for a string newtype
/// whose only constructor is `parse`.
macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A phone number in E.164 form: `+`, then 8 to 15 digits, the first not 0.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let digits = raw.strip_prefix('+').unwrap_or_default();
        let ok = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if ok {
            Ok(Phone(raw.to_owned()))
        } else {
            Err("must be E.164: + and 8 to 15 digits without spaces, e.g. +14155550123")
        }
    }
}
string_newtype!(Phone);

/// A BCP 47 language tag of the common shapes: a language (`en`), with an
/// optional script (`zh-Hant`) and region (`en-US`, `es-419`). Parsing
/// gives the canonical case (`EN-us` → `en-US`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Language(String);

impl Language {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        const ERR: &str = "must be a language tag such as en, en-US, es-419 or zh-Hant-TW";
        let alpha = |s: &str| s.bytes().all(|b| b.is_ascii_alphabetic());
        let mut parts = raw.split('-');
        let lang = parts.next().unwrap_or_default();
        if !(2..=3).contains(&lang.len()) || !alpha(lang) {
            return Err(ERR);
        }
        let mut tag = lang.to_ascii_lowercase();
        let mut rest: Vec<&str> = parts.collect();
        if rest.first().is_some_and(|s| s.len() == 4 && alpha(s)) {
            let script = rest.remove(0);
            tag.push('-');
            tag.push_str(&script[..1].to_ascii_uppercase());
            tag.push_str(&script[1..].to_ascii_lowercase());
        }
        match rest.as_slice() {
            [] => {}
            [region] if region.len() == 2 && alpha(region) => {
                tag.push('-');
                tag.push_str(&region.to_ascii_uppercase());
            }
            [region] if region.len() == 3 && region.bytes().all(|b| b.is_ascii_digit()) => {
                tag.push('-');
                tag.push_str(region);
            }
            _ => return Err(ERR),
        }
        Ok(Language(tag))
    }
}
string_newtype!(Language);

/// The schemas of body fields, from the bounds the parsers below check.
mod schema {
    use lite_http::schema::{or_null, trimmed, trimmed_text, Chars};
    use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

    pub fn name() -> Object {
        trimmed_text(1, 100, Chars::NoControls)
    }
    pub fn label() -> Object {
        trimmed_text(1, 50, Chars::NoControls)
    }
    pub fn line1() -> Object {
        trimmed_text(1, 200, Chars::NoControls)
    }
    /// Optional text: blank and `null` mean none.
    pub fn line2() -> Object {
        or_null(trimmed_text(0, 200, Chars::NoControls))
    }
    pub fn city() -> Object {
        trimmed_text(1, 100, Chars::NoControls)
    }
    pub fn region() -> Object {
        or_null(trimmed_text(0, 100, Chars::NoControls))
    }
    /// `postal_code` below: the trimmed code is 1 to 20 ASCII letters,
    /// digits, spaces or hyphens.
    pub fn postal_code() -> Object {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .pattern(Some(trimmed(
                "[A-Za-z0-9-](?:[A-Za-z0-9 -]{0,18}[A-Za-z0-9-])?",
            )))
            .build()
    }
}

/// A postal code: 1 to 20 letters, digits, spaces or hyphens (trimmed).
fn postal_code(raw: &str) -> Result<String, &'static str> {
    let t = raw.trim();
    let ok = (1..=20).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-');
    if ok {
        Ok(t.to_owned())
    } else {
        Err("must be 1 to 20 letters, digits, spaces or hyphens")
    }
}

/// A user's profile. The user id is the auth service's (`claims.sub`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: String,
    pub email: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `GET/PATCH /v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    #[schema(example = "usr_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C")]
    pub id: String,
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "Ada Lovelace")]
    pub name: String,
    /// E.164, or `null` when none is set.
    #[schema(value_type = Option<String>, example = "+14155550123")]
    pub phone: Option<Phone>,
    pub created_at: DateTime<Utc>,
}

impl From<Profile> for ProfileView {
    fn from(p: Profile) -> Self {
        Self {
            id: p.id,
            email: p.email,
            name: p.name,
            phone: p.phone,
            created_at: p.created_at,
        }
    }
}

/// The body of `PATCH /v1/me`: only the fields to change. The email
/// belongs to the sign-in credentials and cannot be changed here; sending
/// `email` (or any other field) is a 400 that names it.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documentation only: bodies are read by `ProfileChanges::parse`.
pub struct ProfilePatch {
    #[schema(schema_with = schema::name)]
    name: Option<String>,
    /// E.164 (`+` and 8 to 15 digits); `null` clears it.
    #[schema(example = "+14155550123", pattern = r"^\+[1-9][0-9]{7,14}$")]
    phone: Option<String>,
}

/// A parsed `PATCH /v1/me`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChanges {
    pub name: Option<String>,
    /// `Some(None)` clears the phone.
    pub phone: Option<Option<Phone>>,
}

impl ProfileChanges {
    pub const FIELDS: [&'static str; 2] = ["name", "phone"];

    pub fn parse(map: Map<String, Value>) -> Result<Self, Problem> {
        let mut body = Body::new(map);
        let mut v = Violations::new();
        let mut changes = ProfileChanges::default();
        match body.take("name") {
            None => {}
            Some(Value::String(s)) => changes.name = text(&mut v, "name", &s, 1, 100),
            Some(_) => v.add("name", "must be a string"),
        }
        match body.take("phone") {
            None => {}
            Some(Value::Null) => changes.phone = Some(None),
            Some(Value::String(s)) => {
                changes.phone = v.check("phone", Phone::parse(&s)).map(Some);
            }
            Some(_) => v.add("phone", "must be an E.164 string or null"),
        }
        if body.take("email").is_some() {
            v.add(
                "email",
                "cannot be changed here; it is the sign-in email of the account",
            );
        }
        body.reject_unknown(&mut v);
        v.into_result().map(|()| changes)
    }

    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.phone.is_none()
    }
}

/// An address in a user's address book. Whether it is the default is a
/// fact about the address book (the profile's `defaultAddressId`), not
/// about the address, so it is not a field here (`AddressView` adds it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    #[schema(value_type = String, example = "adr_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C")]
    pub id: AddressId,
    #[schema(example = "Home")]
    pub label: String,
    #[schema(example = "1 Infinite Loop")]
    pub line1: String,
    pub line2: Option<String>,
    #[schema(example = "Cupertino")]
    pub city: String,
    #[schema(example = "CA")]
    pub region: Option<String>,
    #[schema(example = "95014")]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    #[schema(value_type = String, example = "US", pattern = "^[A-Z]{2}$")]
    pub country: CountryCode,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An address as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressView {
    #[serde(flatten)]
    pub address: Address,
    /// Exactly one address of a non-empty address book is the default.
    pub is_default: bool,
}

/// The body of `POST /v1/me/addresses` and `PUT /v1/me/addresses/{id}`.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)] // Documentation only: bodies are read by `AddressFields::parse`.
pub struct AddressInput {
    #[schema(schema_with = schema::label, example = "Home")]
    label: String,
    #[schema(schema_with = schema::line1, example = "1 Infinite Loop")]
    line1: String,
    /// Up to 200 characters; blank or `null` means none.
    #[schema(schema_with = schema::line2)]
    line2: Option<String>,
    #[schema(schema_with = schema::city, example = "Cupertino")]
    city: String,
    /// State, province or county; up to 100 characters.
    #[schema(schema_with = schema::region, example = "CA")]
    region: Option<String>,
    /// 1 to 20 letters, digits, spaces or hyphens.
    #[schema(schema_with = schema::postal_code, example = "95014")]
    postal_code: String,
    /// ISO 3166-1 alpha-2, upper case.
    #[schema(schema_with = CountryCode::schema, example = "US")]
    country: String,
    /// Make this the default address (default `false`). The first address
    /// is the default whatever this says; on `PUT`, `false` for the current
    /// default is a 409 (make another address the default instead).
    #[schema(nullable = false, default = false)]
    is_default: Option<bool>,
}

/// A parsed address body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressFields {
    pub label: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country: CountryCode,
    pub is_default: bool,
}

impl AddressFields {
    pub const FIELDS: [&'static str; 8] = [
        "label",
        "line1",
        "line2",
        "city",
        "region",
        "postalCode",
        "country",
        "isDefault",
    ];

    pub fn parse(map: Map<String, Value>) -> Result<Self, Problem> {
        let mut body = Body::new(map);
        let mut v = Violations::new();
        let label = required_text(&mut body, &mut v, "label", 50);
        let line1 = required_text(&mut body, &mut v, "line1", 200);
        let line2 = body
            .optional_str(&mut v, "line2")
            .and_then(|s| optional_text(&mut v, "line2", s, 200));
        let city = required_text(&mut body, &mut v, "city", 100);
        let region = body
            .optional_str(&mut v, "region")
            .and_then(|s| optional_text(&mut v, "region", s, 100));
        let postal_code = body
            .required_str(&mut v, "postalCode")
            .and_then(|s| v.check("postalCode", postal_code(&s)));
        let country = body
            .required_str(&mut v, "country")
            .and_then(|s| v.check("country", CountryCode::parse(&s)));
        let is_default = body.bool(&mut v, "isDefault", Some(false));
        body.reject_unknown(&mut v);
        v.into_result()?;
        match (
            label,
            line1,
            line2,
            city,
            region,
            postal_code,
            country,
            is_default,
        ) {
            (
                Some(label),
                Some(line1),
                Some(line2),
                Some(city),
                Some(region),
                Some(postal_code),
                Some(country),
                Some(is_default),
            ) => Ok(AddressFields {
                label,
                line1,
                line2,
                city,
                region,
                postal_code,
                country,
                is_default,
            }),
            // Every `None` above recorded a violation, so this is unreachable.
            _ => Err(Problem::internal()),
        }
    }

    /// The address these fields describe.
    pub fn into_address(
        self,
        id: AddressId,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> Address {
        Address {
            id,
            label: self.label,
            line1: self.line1,
            line2: self.line2,
            city: self.city,
            region: self.region,
            postal_code: self.postal_code,
            country: self.country,
            created_at,
            updated_at,
        }
    }
}

fn required_text(body: &mut Body, v: &mut Violations, field: &str, max: usize) -> Option<String> {
    body.required_str(v, field)
        .and_then(|s| text(v, field, &s, 1, max))
}

/// A user's communication and display preferences. `PUT` replaces all of
/// them, so every field is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    /// Promotional email.
    pub marketing_emails: bool,
    /// Email about the user's orders (confirmation, shipping).
    pub order_updates: bool,
    /// ISO 4217 code, upper case.
    #[schema(value_type = String, example = "USD", pattern = "^[A-Z]{3}$")]
    pub currency: Currency,
    /// BCP 47 language tag: `en`, `en-US`, `es-419`, `zh-Hant-TW`.
    #[schema(
        value_type = String,
        example = "en-US",
        pattern = "^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?$"
    )]
    pub language: Language,
}

impl Default for Preferences {
    /// What a new account starts with.
    fn default() -> Self {
        Self {
            marketing_emails: false,
            order_updates: true,
            currency: Currency::USD,
            language: Language("en".into()),
        }
    }
}

impl Preferences {
    pub const FIELDS: [&'static str; 4] =
        ["marketingEmails", "orderUpdates", "currency", "language"];

    pub fn parse(map: Map<String, Value>) -> Result<Self, Problem> {
        let mut body = Body::new(map);
        let mut v = Violations::new();
        let marketing_emails = body.bool(&mut v, "marketingEmails", None);
        let order_updates = body.bool(&mut v, "orderUpdates", None);
        let currency = body
            .required_str(&mut v, "currency")
            .and_then(|s| v.check("currency", Currency::parse(&s)));
        let language = body
            .required_str(&mut v, "language")
            .and_then(|s| v.check("language", Language::parse(&s)));
        body.reject_unknown(&mut v);
        v.into_result()?;
        match (marketing_emails, order_updates, currency, language) {
            (Some(marketing_emails), Some(order_updates), Some(currency), Some(language)) => {
                Ok(Preferences {
                    marketing_emails,
                    order_updates,
                    currency,
                    language,
                })
            }
            // Every `None` above recorded a violation, so this is unreachable.
            _ => Err(Problem::internal()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn fields(p: Problem) -> Vec<String> {
        p.errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn phones_are_e164() {
        for ok in [
            "+14155550123",
            "+49301234567",
            "+12345678",
            "+123456789012345",
        ] {
            assert_eq!(Phone::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "14155550123",
            "+1 415 555 0123",
            "+1234567",
            "+1234567890123456",
            "+04155550123",
            "+1415555012a",
            "",
            "+",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn language_tags_parse_to_canonical_case() {
        for (raw, canonical) in [
            ("en", "en"),
            ("EN-us", "en-US"),
            ("es-419", "es-419"),
            ("zh-hant-tw", "zh-Hant-TW"),
            ("sr-Latn", "sr-Latn"),
            ("fil", "fil"),
        ] {
            assert_eq!(Language::parse(raw).unwrap().as_str(), canonical);
        }
        for bad in [
            "", "e", "english", "en-", "en-USA", "en-US-x", "en_US", "12", "en-1234",
        ] {
            assert!(Language::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn postal_codes_are_letters_digits_spaces_and_hyphens() {
        assert_eq!(postal_code(" SW1A 1AA ").unwrap(), "SW1A 1AA");
        assert!(postal_code("12345-6789").is_ok());
        for bad in ["", "   ", "123_45", "12345678901234567890X", "ü123"] {
            assert!(postal_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("  Ada ").unwrap(), "Ada");
        assert!(parse_name(" ").is_err());
        assert!(parse_name(&"x".repeat(101)).is_err());
        assert!(parse_name("a\u{7}b").is_err());
    }

    #[test]
    fn a_valid_address_parses_and_blank_optionals_are_none() {
        let a = AddressFields::parse(map(json!({
            "label": " Home ", "line1": "1 Main St", "line2": "  ", "city": "Springfield",
            "postalCode": "12345", "country": "US"
        })))
        .unwrap();
        assert_eq!(a.label, "Home");
        assert_eq!((a.line2, a.region, a.is_default), (None, None, false));
    }

    #[test]
    fn every_bad_address_field_is_named() {
        let p = AddressFields::parse(map(json!({
            "label": "", "line1": 7, "line2": "x".repeat(201), "region": false,
            "postalCode": "12_34", "country": "us", "isDefault": "yes", "zip": "1"
        })))
        .unwrap_err();
        assert_eq!(
            fields(p),
            [
                "label",
                "line1",
                "line2",
                "city",
                "region",
                "postalCode",
                "country",
                "isDefault",
                "zip"
            ]
        );
    }

    #[test]
    fn profile_patches_distinguish_absent_null_and_value() {
        assert!(ProfileChanges::parse(map(json!({}))).unwrap().is_empty());
        let c = ProfileChanges::parse(map(json!({"phone": null}))).unwrap();
        assert_eq!(c.phone, Some(None));
        let c =
            ProfileChanges::parse(map(json!({"name": " Ada ", "phone": "+14155550123"}))).unwrap();
        assert_eq!(c.name.as_deref(), Some("Ada"));
        assert_eq!(c.phone.unwrap().unwrap().as_str(), "+14155550123");
        let p = ProfileChanges::parse(map(
            json!({"name": "", "phone": "555", "email": "x@y.z", "role": "admin"}),
        ))
        .unwrap_err();
        assert_eq!(fields(p), ["name", "phone", "email", "role"]);
    }

    #[test]
    fn preferences_need_every_field() {
        let p = Preferences::parse(map(json!({"language": "en-us"}))).unwrap_err();
        assert_eq!(fields(p), ["marketingEmails", "orderUpdates", "currency"]);
        let p = Preferences::parse(map(json!({
            "marketingEmails": 1, "orderUpdates": true, "currency": "usd", "language": "english", "x": 1
        })))
        .unwrap_err();
        assert_eq!(fields(p), ["marketingEmails", "currency", "language", "x"]);
        let ok = Preferences::parse(map(json!({
            "marketingEmails": true, "orderUpdates": false, "currency": "EUR", "language": "de-de"
        })))
        .unwrap();
        assert_eq!(ok.language.as_str(), "de-DE");
    }

    /// The documented request bodies name exactly the fields the parsers read.
    #[test]
    fn documented_bodies_match_the_parsers() {
        use utoipa::openapi::{RefOr, Schema};
        use utoipa::PartialSchema;
        fn properties(schema: RefOr<Schema>) -> Vec<String> {
            match schema {
                RefOr::T(Schema::Object(o)) => o.properties.keys().cloned().collect(),
                _ => panic!("not an object schema"),
            }
        }
        let sorted = |fields: &[&str]| {
            let mut f: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
            f.sort();
            f
        };
        assert_eq!(
            properties(AddressInput::schema()),
            sorted(&AddressFields::FIELDS)
        );
        assert_eq!(
            properties(ProfilePatch::schema()),
            sorted(&ProfileChanges::FIELDS)
        );
        assert_eq!(
            properties(Preferences::schema()),
            sorted(&Preferences::FIELDS)
        );
    }
}
