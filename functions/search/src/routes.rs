//! `GET /v1/search` and `GET /v1/search/suggest`.

use crate::error::RouteError;
use crate::index::{FacetCount, SearchDoc, SearchError, SearchIndex, SearchQuery, Sort};
use axum::extract::State;
use lite_core::{CursorError, Problem, Violations};
use lite_http::paging::{DEFAULT_PAGE, MAX_PAGE};
use lite_http::{Access, Json, Query, RouteSpec, TableAccess};
use lite_ports::Context;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes as utoipa_routes};

pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/v1/search",
        service: "search",
        function: "search-query",
        auth: Access::Public,
        // Reads the catalog listing when the engine is down.
        table: TableAccess::Read,
    },
    RouteSpec {
        method: "GET",
        path: "/v1/search/suggest",
        service: "search",
        function: "search-suggest",
        auth: Access::Public,
        table: TableAccess::None,
    },
];

/// What the search routes need: the context (cursor key), the index and
/// the runtime flags.
#[derive(Clone)]
pub struct SearchState {
    pub ctx: Context,
    pub index: Arc<dyn SearchIndex>,
    pub flags: lite_flags::SharedFlags,
}

pub fn routes() -> OpenApiRouter<SearchState> {
    OpenApiRouter::new()
        .routes(utoipa_routes!(search))
        .routes(utoipa_routes!(suggest))
}

pub fn router(state: SearchState) -> axum::Router {
    routes().with_state(state).split_for_parts().0
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

pub const MAX_QUERY_CHARS: usize = 200;
/// The catalog's own price bound (minor units).
const MAX_PRICE: i64 = catalog::MAX_PRICE;
/// Suggestions a request may ask for, and how many it gets by default.
pub const MAX_SUGGESTIONS: usize = 20;
pub const DEFAULT_SUGGESTIONS: usize = 8;

/// The schemas of the parameters, from the numbers the parsers check.
mod schema {
    use super::{DEFAULT_SUGGESTIONS, MAX_QUERY_CHARS, MAX_SUGGESTIONS};
    use lite_http::schema::{trimmed_text, Chars};
    use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

    /// Free text: blank is the same as absent.
    pub fn query() -> Object {
        trimmed_text(0, MAX_QUERY_CHARS, Chars::Any)
    }

    pub fn required_query() -> Object {
        trimmed_text(1, MAX_QUERY_CHARS, Chars::Any)
    }

    pub fn sort() -> Object {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .enum_values(Some(super::SORTS))
            .default(Some("relevance".into()))
            .build()
    }

    pub fn suggest_limit() -> Object {
        lite_http::paging::bounded_limit(MAX_SUGGESTIONS, DEFAULT_SUGGESTIONS)
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SearchParams {
    /// Free text (at most 200 characters); typo tolerant.
    #[param(schema_with = schema::query)]
    q: Option<String>,
    /// Category slug, exact.
    category: Option<String>,
    /// Brand, exact (as the brand facet shows it).
    brand: Option<String>,
    /// Lowest price, inclusive, in minor units.
    #[param(schema_with = catalog::schema::price_bound)]
    min_price: Option<i64>,
    /// Highest price, inclusive, in minor units; not below `minPrice`.
    #[param(schema_with = catalog::schema::price_bound)]
    max_price: Option<i64>,
    /// `relevance` (default), `price_asc`, `price_desc`, `rating` or `newest`.
    #[param(schema_with = schema::sort)]
    sort: Option<String>,
    /// Page size, 1..=100 (default 20).
    #[param(schema_with = lite_http::paging::limit_schema)]
    limit: Option<u32>,
    /// Opaque cursor from a previous page's `nextCursor`.
    cursor: Option<String>,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

const SORTS: [&str; 5] = ["relevance", "price_asc", "price_desc", "rating", "newest"];

fn parse_sort(raw: &str) -> Option<Sort> {
    Some(match raw {
        "relevance" => Sort::Relevance,
        "price_asc" => Sort::PriceAsc,
        "price_desc" => Sort::PriceDesc,
        "rating" => Sort::Rating,
        "newest" => Sort::Newest,
        _ => return None,
    })
}

impl SearchParams {
    fn parse(self) -> Result<(SearchQuery, Option<String>), Problem> {
        let mut v = Violations::new();
        let text = non_empty(self.q);
        if text
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_QUERY_CHARS)
        {
            v.add("q", format!("must be at most {MAX_QUERY_CHARS} characters"));
        }
        for (field, value) in [("minPrice", self.min_price), ("maxPrice", self.max_price)] {
            if value.is_some_and(|p| !(0..=MAX_PRICE).contains(&p)) {
                v.add(field, format!("must be 0 to {MAX_PRICE} minor units"));
            }
        }
        if let (Some(min), Some(max)) = (self.min_price, self.max_price) {
            if min > max {
                v.add("maxPrice", "must not be below minPrice");
            }
        }
        let sort = match self.sort.as_deref() {
            None => Sort::Relevance,
            Some(s) => parse_sort(s).unwrap_or_else(|| {
                v.add(
                    "sort",
                    "must be relevance, price_asc, price_desc, rating or newest",
                );
                Sort::Relevance
            }),
        };
        let limit = self.limit.map_or(DEFAULT_PAGE, |l| l as usize);
        if !(1..=MAX_PAGE).contains(&limit) {
            v.add("limit", format!("must be 1 to {MAX_PAGE}"));
        }
        v.into_result()?;
        let query = SearchQuery {
            text,
            category: non_empty(self.category),
            brand: non_empty(self.brand),
            min_price: self.min_price,
            max_price: self.max_price,
            sort,
            limit,
            after: None,
        };
        Ok((query, self.cursor))
    }
}

/// Binds a cursor to everything that shaped its result list.
fn cursor_scope(q: &SearchQuery) -> String {
    format!(
        "search|{}|{}|{}|{:?}|{:?}|{:?}",
        q.text.as_deref().unwrap_or(""),
        q.category.as_deref().unwrap_or(""),
        q.brand.as_deref().unwrap_or(""),
        q.min_price,
        q.max_price,
        q.sort
    )
}

fn cursor_problem(e: CursorError) -> Problem {
    Problem::field("cursor", format!("{e}; start again without it"))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Price {
    /// Minor units.
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    pub average: f64,
    pub count: u32,
}

/// A product as search results show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchItem {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub brand: String,
    pub price: Price,
    pub rating: RatingView,
    /// The first image, if any.
    pub image: Option<String>,
}

impl From<SearchDoc> for SearchItem {
    fn from(d: SearchDoc) -> Self {
        SearchItem {
            id: d.id,
            sku: d.sku,
            name: d.name,
            description: d.description,
            category: d.category,
            brand: d.brand,
            price: Price {
                amount: d.price_amount,
                currency: d.currency,
            },
            rating: RatingView {
                average: d.rating_average,
                count: d.rating_count,
            },
            image: d.image,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FacetsView {
    pub category: Vec<FacetValue>,
    pub brand: Vec<FacetValue>,
}

fn facet_values(v: Vec<FacetCount>) -> Vec<FacetValue> {
    v.into_iter()
        .map(|f| FacetValue {
            value: f.value,
            count: f.count,
        })
        .collect()
}

/// A page of search results.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    pub items: Vec<SearchItem>,
    /// Every match of the text and filters.
    pub total: u64,
    /// Counts over every match; each facet ignores its own filter.
    pub facets: FacetsView,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Full-text product search with filters, facets and sorts.
#[utoipa::path(
    get, path = "/v1/search", tag = "search",
    params(SearchParams),
    responses(
        (status = 200, body = SearchPage),
        (status = 400, description = "Invalid parameter or cursor, or `maxPrice` below `minPrice`"),
        (status = 503, description = "Search unavailable"),
    )
)]
async fn search(
    State(state): State<SearchState>,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchPage>, RouteError> {
    let (mut query, cursor) = params.parse()?;
    if state.flags.flags().await.search_catalog_fallback {
        // Switched to the catalog by the operator: the engine is not
        // called, as if it were down (a search cursor is foreign there).
        return match browse_params(&query, cursor) {
            Some(params) => browse_catalog(&state.ctx, params).await,
            None => Err(SearchError::Unavailable(
                "text and brand search are switched off (flag searchCatalogFallback)".into(),
            )
            .into()),
        };
    }
    let codec = state.ctx.cursors.get().await?;
    let scope = cursor_scope(&query);
    if let Some(c) = cursor {
        match codec.decode(&scope, &c) {
            Ok(after) => query.after = Some(after),
            // Not a search cursor: a browse continues the catalog listing
            // it started on while the engine was down (a foreign or forged
            // cursor is refused there, by name).
            Err(e) => match browse_params(&query, Some(c)) {
                Some(params) => return browse_catalog(&state.ctx, params).await,
                None => return Err(cursor_problem(e).into()),
            },
        }
    }
    let results = match state.index.search(&query).await {
        Ok(results) => results,
        Err(SearchError::Unavailable(why)) => match browse_params(&query, None) {
            // The first page of a plain browse: the catalog can answer it.
            Some(params) if query.after.is_none() => {
                tracing::warn!(error = %why, "search engine unavailable: browsing from the catalog");
                return browse_catalog(&state.ctx, params).await;
            }
            _ => return Err(SearchError::Unavailable(why).into()),
        },
        Err(e) => return Err(e.into()),
    };
    Ok(Json(SearchPage {
        items: results.hits.into_iter().map(SearchItem::from).collect(),
        total: results.total,
        facets: FacetsView {
            category: facet_values(results.facets.category),
            brand: facet_values(results.facets.brand),
        },
        next_cursor: results.next.map(|p| codec.encode(&scope, &p)),
    }))
}

/// The catalog listing that answers `query` when the engine cannot: plain
/// browsing only (no text, no brand: the listing has neither), with the
/// category, price range and sort carried over. Without text, relevance
/// ranks by rating, then recency (`relevance::TIE_BREAKERS`), which is the
/// catalog's `rating` order.
fn browse_params(query: &SearchQuery, cursor: Option<String>) -> Option<catalog::ListParams> {
    if query.text.is_some() || query.brand.is_some() {
        return None;
    }
    let sort = match query.sort {
        Sort::Relevance | Sort::Rating => catalog::Sort::Rating,
        Sort::PriceAsc => catalog::Sort::PriceAsc,
        Sort::PriceDesc => catalog::Sort::PriceDesc,
        Sort::Newest => catalog::Sort::Newest,
    };
    Some(catalog::ListParams {
        category: query.category.clone(),
        min_price: query.min_price,
        max_price: query.max_price,
        sort,
        limit: query.limit,
        cursor,
    })
}

/// A search page from the catalog listing: the same items, no facets, and
/// `total` counting this page only (the listing does not count matches).
/// Its `nextCursor` continues the listing (see the cursor handling above).
async fn browse_catalog(
    ctx: &Context,
    params: catalog::ListParams,
) -> Result<Json<SearchPage>, RouteError> {
    let (views, next_cursor) = catalog::list(ctx, &params)
        .await
        .map_err(|e| RouteError::Invalid(lite_http::ApiError::from(e).0))?;
    let items: Vec<SearchItem> = views
        .iter()
        .map(|v| SearchItem::from(SearchDoc::from(&v.product)))
        .collect();
    Ok(Json(SearchPage {
        total: items.len() as u64,
        items,
        facets: FacetsView {
            category: Vec::new(),
            brand: Vec::new(),
        },
        next_cursor,
    }))
}

/// `q` is an `Option` so that its absence is the handler's field-named
/// 400, not serde's; the document says it is required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuggestParams {
    q: Option<String>,
    limit: Option<u32>,
}

impl IntoParams for SuggestParams {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::Required;
        let param = |name: &str, description: &str, required, schema| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .description(Some(description))
                .required(required)
                .schema(Some(schema))
                .build()
        };
        vec![
            param(
                "q",
                "What the shopper has typed so far (1..=200 characters).",
                Required::True,
                schema::required_query(),
            ),
            param(
                "limit",
                "How many suggestions, 1..=20 (default 8).",
                Required::False,
                schema::suggest_limit(),
            ),
        ]
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestions {
    /// Best first.
    pub suggestions: Vec<String>,
}

/// Completions of a partly typed query (prefix and typo tolerant).
#[utoipa::path(
    get, path = "/v1/search/suggest", tag = "search",
    params(SuggestParams),
    responses(
        (status = 200, body = Suggestions),
        (status = 400, description = "Missing or invalid parameter"),
        (status = 503, description = "Search unavailable"),
    )
)]
async fn suggest(
    State(state): State<SearchState>,
    Query(params): Query<SuggestParams>,
) -> Result<Json<Suggestions>, RouteError> {
    let mut v = Violations::new();
    let q = non_empty(params.q);
    match &q {
        None => v.add("q", "is required"),
        Some(t) if t.chars().count() > MAX_QUERY_CHARS => {
            v.add("q", format!("must be at most {MAX_QUERY_CHARS} characters"))
        }
        Some(_) => {}
    }
    let limit = params.limit.map_or(DEFAULT_SUGGESTIONS, |l| l as usize);
    if !(1..=MAX_SUGGESTIONS).contains(&limit) {
        v.add("limit", format!("must be 1 to {MAX_SUGGESTIONS}"));
    }
    v.into_result()?;
    let q = q.unwrap_or_default();
    let suggestions = state.index.suggest(&q, limit).await?;
    Ok(Json(Suggestions { suggestions }))
}
