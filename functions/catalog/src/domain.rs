//! Products and the newtypes their fields are parsed into.

use chrono::{DateTime, Utc};
use lite_core::{Currency, Money, Problem, Sku, Violations};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

lite_core::define_id!(ProductId, "prd");

/// The catalog sells in one currency so that price sorting is meaningful.
pub const CATALOG_CURRENCY: Currency = Currency::USD;
pub const MAX_PRICE: i64 = 100_000_000;
const MAX_IMAGES: usize = 10;
const MAX_ATTRIBUTES: usize = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rating {
    /// Mean of approved review ratings, one decimal (0 when none).
    pub average: f64,
    pub count: u32,
}

impl Rating {
    pub fn none() -> Self {
        Self {
            average: 0.0,
            count: 0,
        }
    }
}

/// A product as stored and as published in events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    #[schema(value_type = String, example = "prd_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C")]
    pub id: ProductId,
    #[schema(value_type = String, example = "LAP-NW-AERO14-001")]
    pub sku: Sku,
    pub name: String,
    pub description: String,
    /// Lower-case slug, e.g. `laptops`.
    pub category: String,
    pub brand: String,
    pub price: Money,
    pub images: Vec<String>,
    pub attributes: BTreeMap<String, String>,
    pub rating: Rating,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StockView {
    /// Units free to sell now.
    pub available: i64,
}

/// A product as the API shows it: with its current stock.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProductView {
    #[serde(flatten)]
    pub product: Product,
    pub stock: StockView,
}

/// Listing orders of `GET /v1/products`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Newest,
    PriceAsc,
    PriceDesc,
    Rating,
}

/// The body of `POST /v1/products`, before parsing.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductInput {
    /// 1 to 32 letters, digits or inner hyphens; stored upper-case, so
    /// `lap-001` and `LAP-001` are the same sku.
    #[schema(schema_with = schema::sku, example = "LAP-NW-AERO14-001")]
    pub sku: String,
    #[schema(schema_with = schema::name, example = "Aero 14 Laptop")]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = schema::description)]
    pub description: String,
    #[schema(schema_with = schema::category, example = "laptops")]
    pub category: String,
    #[schema(schema_with = schema::brand, example = "Northwind")]
    pub brand: String,
    #[schema(schema_with = schema::price)]
    pub price: Money,
    #[serde(default)]
    #[schema(schema_with = schema::images)]
    pub images: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = schema::attributes)]
    pub attributes: BTreeMap<String, String>,
}

/// The schemas of product fields, built from the numbers the parsers below
/// check.
pub mod schema {
    use super::{CATALOG_CURRENCY, MAX_ATTRIBUTES, MAX_IMAGES, MAX_PRICE};
    use lite_http::schema::{integer, or_null, trimmed, trimmed_text, Chars};
    use utoipa::openapi::schema::{
        AdditionalProperties, ArrayBuilder, Object, ObjectBuilder, Schema, SchemaType, Type,
    };
    use utoipa::openapi::{Array, RefOr};

    pub fn sku() -> Object {
        lite_http::schema::sku()
    }

    pub fn name() -> Object {
        trimmed_text(1, 200, Chars::NoControlsButNewlines)
    }

    pub fn description() -> Object {
        let mut o = trimmed_text(0, 5000, Chars::NoControlsButNewlines);
        o.default = Some("".into());
        o
    }

    pub fn brand() -> Object {
        trimmed_text(1, 100, Chars::NoControlsButNewlines)
    }

    /// A lower-case slug (`parse_category`).
    pub fn category() -> Object {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .description(Some("Lower-case slug, e.g. `smart-home`"))
            .pattern(Some(trimmed("[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?")))
            .build()
    }

    /// A price bound of a listing or search: minor units, `0..=MAX_PRICE`.
    pub fn price_bound() -> Object {
        let mut o = integer(0, MAX_PRICE);
        o.description =
            Some("Minor units, inclusive; `maxPrice` must not be below `minPrice`".into());
        o
    }

    /// A product's price: minor units in the catalog's one currency.
    pub fn price() -> Object {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Object))
            .property("amount", price_bound())
            .required("amount")
            .property(
                "currency",
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::String))
                    .enum_values(Some([CATALOG_CURRENCY.as_str()])),
            )
            .required("currency")
            .build()
    }

    pub fn images() -> Array {
        ArrayBuilder::new()
            .items(
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::String))
                    .pattern(Some(r"^https://\S*$"))
                    .max_length(Some(2048)),
            )
            .max_items(Some(MAX_IMAGES))
            .default(Some(serde_json::json!([])))
            .build()
    }

    pub fn attributes() -> Object {
        let mut o = ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Object))
            .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(Schema::Object(
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::String))
                    .max_length(Some(500))
                    .build(),
            )))))
            .max_properties(Some(MAX_ATTRIBUTES))
            .property_names(Some(
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::String))
                    .pattern(Some("^[A-Za-z0-9]{1,50}$")),
            ))
            .default(Some(serde_json::json!({})))
            .build();
        o.description = Some("Up to 50 `key: value` pairs; keys are letters or digits".into());
        o
    }

    // `PATCH` reads `null` as "unchanged".
    pub fn name_patch() -> Object {
        or_null(name())
    }
    pub fn description_patch() -> Object {
        or_null(trimmed_text(0, 5000, Chars::NoControlsButNewlines))
    }
    pub fn category_patch() -> Object {
        or_null(category())
    }
    pub fn brand_patch() -> Object {
        or_null(brand())
    }
    pub fn price_patch() -> Object {
        or_null(price())
    }
    pub fn images_patch() -> Array {
        let mut a = images();
        a.schema_type = SchemaType::from_iter([Type::Array, Type::Null]);
        a.default = None;
        a
    }
    pub fn attributes_patch() -> Object {
        let mut o = or_null(attributes());
        o.default = None;
        o
    }
}

/// A product to create, every field parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProduct {
    pub sku: Sku,
    pub fields: Fields,
}

/// The mutable fields of a product, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Fields {
    pub name: String,
    pub description: String,
    pub category: String,
    pub brand: String,
    pub price: Money,
    pub images: Vec<String>,
    pub attributes: BTreeMap<String, String>,
}

/// The body of `PATCH /v1/products/{id}`: only the fields to change
/// (`null` is the same as absent). The sku is immutable: sending one is a
/// 400.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductPatch {
    #[schema(ignore)]
    pub sku: Option<serde_json::Value>,
    #[schema(schema_with = schema::name_patch)]
    pub name: Option<String>,
    #[schema(schema_with = schema::description_patch)]
    pub description: Option<String>,
    #[schema(schema_with = schema::category_patch)]
    pub category: Option<String>,
    #[schema(schema_with = schema::brand_patch)]
    pub brand: Option<String>,
    #[schema(schema_with = schema::price_patch)]
    pub price: Option<Money>,
    #[schema(schema_with = schema::images_patch)]
    pub images: Option<Vec<String>>,
    #[schema(schema_with = schema::attributes_patch)]
    pub attributes: Option<BTreeMap<String, String>>,
}

fn text(v: &mut Violations, field: &str, raw: &str, min: usize, max: usize) -> Option<String> {
    let t = raw.trim();
    let n = t.chars().count();
    if n < min || n > max {
        v.add(field, format!("must be {min} to {max} characters"));
        return None;
    }
    if t.chars().any(|c| c.is_control() && c != '\n') {
        v.add(field, "must not contain control characters");
        return None;
    }
    Some(t.to_owned())
}

/// A category slug: 1..=50 of `a-z`, `0-9`, inner `-`.
pub fn parse_category(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    let ok = (1..=50).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err("must be a lower-case slug such as `smart-home` (a-z, 0-9, inner hyphens; at most 50)")
    }
}

fn price(v: &mut Violations, p: Money) -> Option<Money> {
    if p.currency != CATALOG_CURRENCY {
        v.add(
            "price.currency",
            format!("the catalog sells in {CATALOG_CURRENCY}"),
        );
        return None;
    }
    if !(0..=MAX_PRICE).contains(&p.amount) {
        v.add(
            "price.amount",
            format!("must be 0 to {MAX_PRICE} minor units"),
        );
        return None;
    }
    Some(p)
}

fn images(v: &mut Violations, list: Vec<String>) -> Option<Vec<String>> {
    if list.len() > MAX_IMAGES {
        v.add("images", format!("at most {MAX_IMAGES} images"));
        return None;
    }
    let mut ok = true;
    for (i, url) in list.iter().enumerate() {
        if !url.starts_with("https://") || url.len() > 2048 || url.chars().any(char::is_whitespace)
        {
            v.add(
                format!("images[{i}]"),
                "must be an https URL of at most 2048 characters",
            );
            ok = false;
        }
    }
    ok.then_some(list)
}

fn attributes(
    v: &mut Violations,
    map: BTreeMap<String, String>,
) -> Option<BTreeMap<String, String>> {
    if map.len() > MAX_ATTRIBUTES {
        v.add("attributes", format!("at most {MAX_ATTRIBUTES} attributes"));
        return None;
    }
    let mut ok = true;
    for (k, val) in &map {
        if k.is_empty() || k.len() > 50 || !k.chars().all(|c| c.is_ascii_alphanumeric()) {
            v.add(
                format!("attributes.{k}"),
                "keys are 1 to 50 letters or digits",
            );
            ok = false;
        } else if val.chars().count() > 500 {
            v.add(
                format!("attributes.{k}"),
                "values are at most 500 characters",
            );
            ok = false;
        }
    }
    ok.then_some(map)
}

impl NewProduct {
    pub fn parse(input: ProductInput) -> Result<NewProduct, Problem> {
        let mut v = Violations::new();
        let sku = v.check("sku", Sku::parse(&input.sku));
        let name = text(&mut v, "name", &input.name, 1, 200);
        let description = text(&mut v, "description", &input.description, 0, 5000);
        let category = v.check("category", parse_category(&input.category));
        let brand = text(&mut v, "brand", &input.brand, 1, 100);
        let price = price(&mut v, input.price);
        let images = images(&mut v, input.images);
        let attributes = attributes(&mut v, input.attributes);
        match (
            sku,
            name,
            description,
            category,
            brand,
            price,
            images,
            attributes,
        ) {
            (
                Some(sku),
                Some(name),
                Some(description),
                Some(category),
                Some(brand),
                Some(price),
                Some(images),
                Some(attributes),
            ) if v.is_empty() => Ok(NewProduct {
                sku,
                fields: Fields {
                    name,
                    description,
                    category,
                    brand,
                    price,
                    images,
                    attributes,
                },
            }),
            _ => Err(v.into_result().expect_err("a field failed to parse")),
        }
    }
}

impl ProductPatch {
    /// Applies the patch to `current`'s fields, or says every bad field.
    pub fn apply(self, current: &Product) -> Result<Fields, Problem> {
        let mut v = Violations::new();
        if self.sku.is_some() {
            v.add("sku", "is immutable; create a new product instead");
        }
        let mut f = Fields {
            name: current.name.clone(),
            description: current.description.clone(),
            category: current.category.clone(),
            brand: current.brand.clone(),
            price: current.price,
            images: current.images.clone(),
            attributes: current.attributes.clone(),
        };
        if let Some(n) = self.name.and_then(|n| text(&mut v, "name", &n, 1, 200)) {
            f.name = n;
        }
        if let Some(d) = self
            .description
            .and_then(|d| text(&mut v, "description", &d, 0, 5000))
        {
            f.description = d;
        }
        if let Some(c) = self
            .category
            .and_then(|c| v.check("category", parse_category(&c)))
        {
            f.category = c;
        }
        if let Some(b) = self.brand.and_then(|b| text(&mut v, "brand", &b, 1, 100)) {
            f.brand = b;
        }
        if let Some(p) = self.price.and_then(|p| price(&mut v, p)) {
            f.price = p;
        }
        if let Some(i) = self.images.and_then(|i| images(&mut v, i)) {
            f.images = i;
        }
        if let Some(a) = self.attributes.and_then(|a| attributes(&mut v, a)) {
            f.attributes = a;
        }
        v.into_result().map(|()| f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ProductInput {
        serde_json::from_value(serde_json::json!({
            "sku": "lap-001", "name": " Aero 14 Laptop ", "category": "laptops", "brand": "Northwind",
            "price": {"amount": 129999, "currency": "USD"}, "images": ["https://img.example/1.jpg"],
            "attributes": {"color": "Silver"}
        }))
        .unwrap()
    }

    #[test]
    fn parses_and_normalises_a_valid_product() {
        let p = NewProduct::parse(input()).unwrap();
        assert_eq!(p.sku.as_str(), "LAP-001");
        assert_eq!(p.fields.name, "Aero 14 Laptop");
    }

    #[test]
    fn reports_every_bad_field() {
        let mut i = input();
        i.sku = "bad sku".into();
        i.name = "".into();
        i.category = "Laptops!".into();
        i.price = Money::new(-1, CATALOG_CURRENCY);
        i.images = vec!["http://insecure".into()];
        let p = NewProduct::parse(i).unwrap_err();
        let fields: Vec<_> = p.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["sku", "name", "category", "price.amount", "images[0]"]
        );
    }

    #[test]
    fn other_currencies_are_refused() {
        let mut i = input();
        i.price = Money::new(100, Currency::parse("EUR").unwrap());
        assert_eq!(
            NewProduct::parse(i).unwrap_err().errors[0].field,
            "price.currency"
        );
    }
}
