//! `GET /v1/search` and `GET /v1/search/suggest`.

use crate::error::RouteError;
use crate::index::{FacetCount, SearchDoc, SearchIndex, SearchQuery, Sort};
use axum::extract::State;
use lite_core::{CursorError, Problem, Violations};
use lite_http::{Access, Context, Json, Query, RouteSpec, TableAccess};
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
        table: TableAccess::None,
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

/// What the search routes need: the context (cursor key) and the index.
#[derive(Clone)]
pub struct SearchState {
    pub ctx: Context,
    pub index: Arc<dyn SearchIndex>,
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
const MAX_PRICE: i64 = 100_000_000;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SearchParams {
    /// Free text (at most 200 characters); typo tolerant.
    q: Option<String>,
    /// Category slug, exact.
    category: Option<String>,
    /// Brand, exact (as the brand facet shows it).
    brand: Option<String>,
    /// Lowest price, inclusive, in minor units.
    min_price: Option<i64>,
    /// Highest price, inclusive, in minor units.
    max_price: Option<i64>,
    /// `relevance` (default), `price_asc`, `price_desc`, `rating` or `newest`.
    sort: Option<String>,
    /// Page size, 1..=100 (default 20).
    limit: Option<u32>,
    /// Opaque cursor from a previous page's `nextCursor`.
    cursor: Option<String>,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

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
        let limit = self.limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            v.add("limit", "must be 1 to 100");
        }
        v.into_result()?;
        let query = SearchQuery {
            text,
            category: non_empty(self.category),
            brand: non_empty(self.brand),
            min_price: self.min_price,
            max_price: self.max_price,
            sort,
            limit: limit as usize,
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
        (status = 400, description = "Invalid parameter or cursor", content_type = "application/problem+json"),
        (status = 503, description = "Search unavailable", content_type = "application/problem+json"),
    )
)]
async fn search(
    State(state): State<SearchState>,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchPage>, RouteError> {
    let (mut query, cursor) = params.parse()?;
    let codec = state.ctx.cursors.get().await?;
    let scope = cursor_scope(&query);
    if let Some(c) = cursor {
        query.after = Some(codec.decode(&scope, &c).map_err(cursor_problem)?);
    }
    let results = state.index.search(&query).await?;
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SuggestParams {
    /// What the shopper has typed so far (1..=200 characters).
    q: Option<String>,
    /// How many suggestions, 1..=20 (default 8).
    limit: Option<u32>,
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
        (status = 400, description = "Missing or invalid parameter", content_type = "application/problem+json"),
        (status = 503, description = "Search unavailable", content_type = "application/problem+json"),
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
    let limit = params.limit.unwrap_or(8);
    if !(1..=20).contains(&limit) {
        v.add("limit", "must be 1 to 20");
    }
    v.into_result()?;
    let q = q.unwrap_or_default();
    let suggestions = state.index.suggest(&q, limit as usize).await?;
    Ok(Json(Suggestions { suggestions }))
}
