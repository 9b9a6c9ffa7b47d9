//! Reviews and the newtypes their input is parsed into.

use chrono::{DateTime, Utc};
use lite_core::{Problem, Violations};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

lite_core::define_id!(ReviewId, "rev");

pub const MAX_TITLE: usize = 120;
pub const MAX_BODY: usize = 5000;

/// Where a review is in moderation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Pending,
    Approved,
    Rejected,
}

impl ReviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Pending => "pending",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Rejected => "rejected",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(ReviewStatus::Pending),
            "approved" => Some(ReviewStatus::Approved),
            "rejected" => Some(ReviewStatus::Rejected),
            _ => None,
        }
    }
}

/// A rating, 1..=5 stars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Stars(u8);

impl Stars {
    pub fn parse(raw: i64) -> Result<Self, &'static str> {
        match u8::try_from(raw) {
            Ok(n @ 1..=5) => Ok(Stars(n)),
            _ => Err("must be an integer from 1 to 5"),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// A review as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    #[schema(value_type = String, example = "rev_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C")]
    pub id: ReviewId,
    #[schema(example = "prd_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C")]
    pub product_id: String,
    #[schema(example = "usr_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C")]
    pub user_id: String,
    #[schema(value_type = u8, minimum = 1, maximum = 5)]
    pub rating: Stars,
    pub title: String,
    pub body: String,
    pub status: ReviewStatus,
    /// The author had a confirmed order holding the product when the
    /// review was written or last edited.
    pub verified_purchase: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was last approved (its place in the product's listing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<DateTime<Utc>>,
}

/// The body of `POST /v1/products/{id}/reviews`, before parsing.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewInput {
    /// Stars, 1..=5.
    #[schema(schema_with = schema::rating)]
    pub rating: i64,
    #[schema(schema_with = schema::title)]
    pub title: String,
    #[schema(schema_with = schema::body)]
    pub body: String,
}

/// The body of `PATCH /v1/reviews/{id}`: only the fields to change
/// (`null` is the same as absent); at least one must be given.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewPatch {
    pub rating: Option<i64>,
    pub title: Option<String>,
    pub body: Option<String>,
}

impl utoipa::ToSchema for ReviewPatch {}

/// `{rating?, title?, body?}`, closed, and `anyOf` "this field is given and
/// not `null`" for each: what `ReviewPatch::apply` accepts.
impl utoipa::PartialSchema for ReviewPatch {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            AdditionalProperties, AllOfBuilder, AnyOfBuilder, ObjectBuilder, SchemaType, Type,
        };
        let fields = [
            ("rating", schema::rating_patch(), Type::Integer),
            ("title", schema::title_patch(), Type::String),
            ("body", schema::body_patch(), Type::String),
        ];
        let mut shape = ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Object))
            .additional_properties(Some(
                AdditionalProperties::<utoipa::openapi::Schema>::FreeForm(false),
            ));
        let mut given = AnyOfBuilder::new();
        for (name, schema, kind) in fields {
            shape = shape.property(name, schema);
            given = given.item(
                ObjectBuilder::new()
                    .property(
                        name,
                        ObjectBuilder::new().schema_type(SchemaType::Type(kind)),
                    )
                    .required(name),
            );
        }
        AllOfBuilder::new()
            .item(shape)
            .item(given)
            .description(Some(
                "Only the fields to change (`null` is the same as absent); at least one must be given.",
            ))
            .into()
    }
}

/// The schemas of a review's fields, from the rules `Content::parse` checks.
mod schema {
    use super::{MAX_BODY, MAX_TITLE};
    use lite_http::schema::{integer, or_null, trimmed_text, Chars};
    use utoipa::openapi::schema::Object;

    pub fn rating() -> Object {
        integer(1, 5)
    }
    pub fn title() -> Object {
        trimmed_text(1, MAX_TITLE, Chars::NoControls)
    }
    pub fn body() -> Object {
        trimmed_text(1, MAX_BODY, Chars::NoControlsButNewlines)
    }
    pub fn rating_patch() -> Object {
        or_null(rating())
    }
    pub fn title_patch() -> Object {
        or_null(title())
    }
    pub fn body_patch() -> Object {
        or_null(body())
    }
}

/// A review's content, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    pub rating: Stars,
    pub title: String,
    pub body: String,
}

fn text(v: &mut Violations, field: &str, raw: &str, max: usize, newlines: bool) -> Option<String> {
    let t = raw.trim();
    let n = t.chars().count();
    if n == 0 || n > max {
        v.add(field, format!("must be 1 to {max} characters"));
        return None;
    }
    if t.chars()
        .any(|c| c.is_control() && !(newlines && c == '\n'))
    {
        v.add(field, "must not contain control characters");
        return None;
    }
    Some(t.to_owned())
}

impl Content {
    pub fn parse(input: ReviewInput) -> Result<Self, Problem> {
        let mut v = Violations::new();
        let rating = v.check("rating", Stars::parse(input.rating));
        let title = text(&mut v, "title", &input.title, MAX_TITLE, false);
        let body = text(&mut v, "body", &input.body, MAX_BODY, true);
        match (rating, title, body) {
            (Some(rating), Some(title), Some(body)) if v.is_empty() => Ok(Content {
                rating,
                title,
                body,
            }),
            _ => Err(v.into_result().expect_err("a field failed to parse")),
        }
    }
}

impl ReviewPatch {
    /// The content after the patch, or every bad field.
    pub fn apply(self, current: &Review) -> Result<Content, Problem> {
        let mut v = Violations::new();
        if self.rating.is_none() && self.title.is_none() && self.body.is_none() {
            return Err(Problem::field(
                "body",
                "send at least one of rating, title, body",
            ));
        }
        let mut c = Content {
            rating: current.rating,
            title: current.title.clone(),
            body: current.body.clone(),
        };
        if let Some(r) = self.rating.and_then(|r| v.check("rating", Stars::parse(r))) {
            c.rating = r;
        }
        if let Some(t) = self
            .title
            .and_then(|t| text(&mut v, "title", &t, MAX_TITLE, false))
        {
            c.title = t;
        }
        if let Some(b) = self
            .body
            .and_then(|b| text(&mut v, "body", &b, MAX_BODY, true))
        {
            c.body = b;
        }
        v.into_result().map(|()| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(rating: i64, title: &str, body: &str) -> ReviewInput {
        ReviewInput {
            rating,
            title: title.into(),
            body: body.into(),
        }
    }

    #[test]
    fn parses_and_trims() {
        let c = Content::parse(input(4, " Solid ", "Works well.\nWould buy again.")).unwrap();
        assert_eq!((c.rating.get(), c.title.as_str()), (4, "Solid"));
    }

    #[test]
    fn reports_every_bad_field() {
        for (rating, title, body, fields) in [
            (0, "t", "b", vec!["rating"]),
            (6, "", "b", vec!["rating", "title"]),
            (3, &"x".repeat(121)[..], "", vec!["title", "body"]),
            (3, "a\tb", &"y".repeat(5001)[..], vec!["title", "body"]),
        ] {
            let p = Content::parse(input(rating, title, body)).unwrap_err();
            let got: Vec<_> = p.errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(got, fields);
        }
        assert!(Content::parse(input(5, &"x".repeat(120), &"y".repeat(5000))).is_ok());
    }
}
