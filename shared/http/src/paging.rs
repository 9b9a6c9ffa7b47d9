//! The query parameters of a listing that has no filters of its own: a page
//! size and the cursor of the previous page (`Cursors::resume` reads it).

use lite_core::Problem;
use serde::Deserialize;
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};
use utoipa::IntoParams;

pub const DEFAULT_PAGE: usize = 20;
pub const MAX_PAGE: usize = 100;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1..=100 (default 20).
    #[param(schema_with = limit_schema)]
    pub limit: Option<usize>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    /// The page size; outside 1..=100 it is a 400 naming `limit`.
    pub fn limit(&self) -> Result<usize, Problem> {
        let limit = self.limit.unwrap_or(DEFAULT_PAGE);
        if (1..=MAX_PAGE).contains(&limit) {
            Ok(limit)
        } else {
            Err(Problem::field(
                "limit",
                format!("must be between 1 and {MAX_PAGE}"),
            ))
        }
    }
}

/// The schema of a `limit` parameter: an integer 1..=`max`, `default` when
/// absent. Built from the constants the parsers check, so the document
/// cannot drift from them.
pub fn bounded_limit(max: usize, default: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .minimum(Some(1))
        .maximum(Some(max))
        .default(Some(default.into()))
        .description(Some(format!("1 to {max}, default {default}")))
        .build()
}

/// The schema of a listing's `limit`: 1..=[`MAX_PAGE`], default [`DEFAULT_PAGE`].
pub fn limit_schema() -> Object {
    bounded_limit(MAX_PAGE, DEFAULT_PAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_defaults_to_20_and_stays_within_1_to_100() {
        let page = |limit| PageParams {
            limit,
            cursor: None,
        };
        assert_eq!(page(None).limit().unwrap(), 20);
        assert_eq!(page(Some(1)).limit().unwrap(), 1);
        assert_eq!(page(Some(100)).limit().unwrap(), 100);
        for bad in [0, 101] {
            let p = page(Some(bad)).limit().unwrap_err();
            assert_eq!(p.status(), 400);
            assert_eq!(p.errors[0].field, "limit");
        }
    }
}
