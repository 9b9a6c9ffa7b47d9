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
    pub sku: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub category: String,
    pub brand: String,
    pub price: Money,
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
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

/// The body of `PATCH /v1/products/{id}`: only the fields to change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductPatch {
    /// Skus are immutable; sending one is an error.
    #[schema(value_type = Option<String>)]
    pub sku: Option<serde_json::Value>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub price: Option<Money>,
    pub images: Option<Vec<String>>,
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
