//! Pure builders of the `_search` bodies, from `crate::relevance` so both
//! adapters rank alike.

use serde_json::{json, Map, Value};

use crate::index::{SearchError, SearchQuery, Sort};
use crate::opensearch::document::words;
use crate::opensearch::mapping::{KEYWORD, SUGGEST};
use crate::relevance::{
    edit_distance, BRAND_BOOST, CATEGORY_BOOST, DESCRIPTION_BOOST, EXACT_WEIGHT, FUZZY_WEIGHT,
    MIN_PREFIX_LEN, NAME_BOOST, PREFIX_WEIGHT, TIE_BREAKERS,
};

/// The free-text fields and their weights.
pub const TEXT_FIELDS: [(&str, f32); 4] = [
    ("name", NAME_BOOST),
    ("brand", BRAND_BOOST),
    ("category", CATEGORY_BOOST),
    ("description", DESCRIPTION_BOOST),
];

/// Facet values returned per facet (most frequent first).
pub const FACET_SIZE: usize = 50;
/// Query words beyond this are refused: each adds up to 12 clauses.
pub const MAX_WORDS: usize = 16;
/// Largest page the port allows.
pub const MAX_LIMIT: usize = 100;

/// Aggregation names (and the sub-aggregation holding the buckets).
pub const CATEGORY_FACET: &str = "category_facet";
pub const BRAND_FACET: &str = "brand_facet";
pub const FACET_VALUES: &str = "values";
/// The name of the completion suggester in the suggest body.
pub const SUGGESTER: &str = "product";

/// How the query words combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Words {
    /// Every word must match (the first try).
    All,
    /// Any word may match, ranked by how many do: the fallback when no
    /// product has all the words (as in the tantivy adapter).
    Any,
}

/// How many words the query text has (the fallback is only worth a second
/// request with more than one).
pub fn word_count(query: &SearchQuery) -> usize {
    query.text.as_deref().map(|t| words(t).len()).unwrap_or(0)
}

/// The `_search` body of `query`: one hit more than `limit`, so the parser
/// knows whether there is a next page without a second request.
pub fn search_body(query: &SearchQuery, combine: Words) -> Result<Value, SearchError> {
    if query.limit == 0 || query.limit > MAX_LIMIT {
        return Err(SearchError::Invalid(format!(
            "limit must be 1..={MAX_LIMIT}, got {}",
            query.limit
        )));
    }
    if let (Some(min), Some(max)) = (query.min_price, query.max_price) {
        if min > max {
            return Err(SearchError::Invalid(format!(
                "minPrice {min} is above maxPrice {max}"
            )));
        }
    }
    let sort = sort_clauses(query.sort);

    let words = query.text.as_deref().map(words).unwrap_or_default();
    if words.len() > MAX_WORDS {
        return Err(SearchError::Invalid(format!(
            "at most {MAX_WORDS} words can be searched, got {}",
            words.len()
        )));
    }
    let mut main = Map::new();
    if !words.is_empty() {
        let clauses = Value::Array(words.iter().map(|w| word_query(w)).collect());
        match combine {
            Words::All => {
                main.insert("must".into(), clauses);
            }
            Words::Any => {
                main.insert("should".into(), clauses);
                main.insert("minimum_should_match".into(), json!(1));
            }
        }
    }
    // The price range narrows the results and both facets alike.
    if let Some(range) = price_range(query.min_price, query.max_price) {
        main.insert("filter".into(), json!([range]));
    }

    let category = query
        .category
        .as_deref()
        .map(|c| keyword_term("category", c));
    let brand = query.brand.as_deref().map(|b| keyword_term("brand", b));

    let mut body = json!({
        "size": query.limit + 1,
        "track_total_hits": true,
        "query": { "bool": main },
        // Aggregations see the query's matches before `post_filter`, so
        // each facet applies only the OTHER facet's filter: the brand
        // counts ignore the brand filter, so shoppers can switch brands.
        "aggs": {
            CATEGORY_FACET: facet("category", brand.iter()),
            BRAND_FACET: facet("brand", category.iter()),
        },
        "sort": sort,
    });
    let post: Vec<&Value> = category.iter().chain(brand.iter()).collect();
    if !post.is_empty() {
        body["post_filter"] = json!({ "bool": { "filter": post } });
    }
    if let Some(after) = &query.after {
        body["search_after"] = search_after(after, query.sort)?;
    }
    Ok(body)
}

/// The clauses of one query word: exact, prefix (long enough words) and
/// fuzzy (as many typos as `edit_distance` allows), on every text field.
/// The word matches when any clause does; all words must match.
pub fn word_query(word: &str) -> Value {
    let len = word.chars().count();
    let typos = edit_distance(len);
    let mut should = Vec::new();
    for (field, boost) in TEXT_FIELDS {
        should.push(json!({ "match": { field: {
            "query": word,
            "boost": boost * EXACT_WEIGHT
        }}}));
        if len >= MIN_PREFIX_LEN {
            should.push(json!({ "match_phrase_prefix": { field: {
                "query": word,
                "boost": boost * PREFIX_WEIGHT
            }}}));
        }
        if typos > 0 {
            should.push(json!({ "match": { field: {
                "query": word,
                "fuzziness": typos,
                // Typos may be anywhere, the first letter included, as in
                // the tantivy adapter's fuzzy term queries.
                "prefix_length": 0,
                "fuzzy_transpositions": true,
                "boost": boost * FUZZY_WEIGHT
            }}}));
        }
    }
    json!({ "bool": { "should": should, "minimum_should_match": 1 } })
}

/// The sort of `sort` followed by the tie-breakers, ending on the unique
/// `id` so every position is a strict keyset position for `search_after`.
pub fn sort_clauses(sort: Sort) -> Vec<Value> {
    let primary: Vec<(&str, &str)> = match sort {
        Sort::Relevance => vec![("_score", "desc")],
        Sort::PriceAsc => vec![("priceAmount", "asc")],
        Sort::PriceDesc => vec![("priceAmount", "desc")],
        Sort::Rating => vec![("ratingAverage", "desc"), ("ratingCount", "desc")],
        Sort::Newest => vec![("createdAt", "desc")],
    };
    let mut keys = primary;
    // Text score breaks ties of the chosen order, then rating and recency.
    for field in std::iter::once("_score").chain(TIE_BREAKERS.iter().copied()) {
        if !keys.iter().any(|(f, _)| *f == field) {
            keys.push((field, "desc"));
        }
    }
    keys.push(("id", "asc"));
    keys.into_iter()
        .map(|(field, order)| json!({ field: { "order": order } }))
        .collect()
}

/// `after` is the sort array of the previous page's last hit (see
/// `response::parse_search`); one of another length or with non-scalar
/// values comes from another query.
fn search_after(after: &Value, sort: Sort) -> Result<Value, SearchError> {
    let expected = sort_clauses(sort).len();
    match after.as_array() {
        Some(values)
            if values.len() == expected
                && values.iter().all(|v| v.is_number() || v.is_string()) =>
        {
            Ok(after.clone())
        }
        _ => Err(SearchError::Invalid(
            "the cursor does not belong to this search".into(),
        )),
    }
}

fn price_range(min: Option<i64>, max: Option<i64>) -> Option<Value> {
    if min.is_none() && max.is_none() {
        return None;
    }
    let mut bounds = Map::new();
    if let Some(min) = min {
        bounds.insert("gte".into(), json!(min));
    }
    if let Some(max) = max {
        bounds.insert("lte".into(), json!(max));
    }
    Some(json!({ "range": { "priceAmount": bounds } }))
}

fn keyword_term(field: &str, value: &str) -> Value {
    json!({ "term": { format!("{field}.{KEYWORD}"): value } })
}

/// A `terms` aggregation of `field` under a `filter` aggregation holding
/// the other facets' filters (`match_all` when there are none).
fn facet<'a>(field: &str, other_filters: impl Iterator<Item = &'a Value>) -> Value {
    let filters: Vec<&Value> = other_filters.collect();
    json!({
        "filter": { "bool": { "filter": filters } },
        "aggs": { FACET_VALUES: { "terms": {
            "field": format!("{field}.{KEYWORD}"),
            "size": FACET_SIZE
        }}}
    })
}

/// The body that completes `prefix`: the completion suggester, typo
/// tolerant by the prefix's length (as `edit_distance` says), exact
/// completions first. `None` when there is nothing to complete.
pub fn suggest_body(prefix: &str, limit: usize) -> Option<Value> {
    let prefix = prefix.trim().to_lowercase();
    let len = prefix.chars().count();
    if len == 0 || limit == 0 {
        return None;
    }
    let mut completion = json!({
        "field": SUGGEST,
        // Room for the case-insensitive duplicates the parser drops.
        "size": limit.min(MAX_LIMIT) * 2,
        "skip_duplicates": true
    });
    let typos = edit_distance(len);
    if typos > 0 {
        completion["fuzzy"] = json!({
            "fuzziness": typos,
            "transpositions": true,
            "prefix_length": 0,
            "min_length": 0
        });
    }
    Some(json!({
        // Only suggestions are wanted, not hits.
        "size": 0,
        "_source": false,
        "suggest": { SUGGESTER: { "prefix": prefix, "completion": completion } }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(text: Option<&str>) -> SearchQuery {
        SearchQuery {
            text: text.map(str::to_string),
            category: None,
            brand: None,
            min_price: None,
            max_price: None,
            sort: Sort::Relevance,
            limit: 10,
            after: None,
        }
    }

    fn clauses_of<'a>(word: &'a Value, kind: &str) -> Vec<&'a Value> {
        word["bool"]["should"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c.get(kind).is_some())
            .filter(|c| {
                kind != "match"
                    || c["match"]
                        .as_object()
                        .unwrap()
                        .values()
                        .all(|v| v.get("fuzziness").is_none())
            })
            .collect()
    }

    #[test]
    fn short_words_get_no_fuzziness_long_words_more() {
        let tv = word_query("tv");
        assert!(tv.to_string().find("fuzziness").is_none());
        assert_eq!(clauses_of(&tv, "match_phrase_prefix").len(), 4);
        let labtop = word_query("labtop");
        assert!(labtop.to_string().contains("\"fuzziness\":1"));
        let headphnes = word_query("headphnes");
        assert!(headphnes.to_string().contains("\"fuzziness\":2"));
        let single = word_query("a");
        assert!(clauses_of(&single, "match_phrase_prefix").is_empty());
    }

    #[test]
    fn field_boosts_times_match_weights() {
        let w = word_query("laptop");
        let exact = clauses_of(&w, "match");
        assert_eq!(
            exact[0]["match"]["name"]["boost"],
            json!(NAME_BOOST * EXACT_WEIGHT)
        );
        assert_eq!(
            exact[3]["match"]["description"]["boost"],
            json!(DESCRIPTION_BOOST * EXACT_WEIGHT)
        );
        let prefix = clauses_of(&w, "match_phrase_prefix");
        assert_eq!(
            prefix[1]["match_phrase_prefix"]["brand"]["boost"],
            json!(BRAND_BOOST * PREFIX_WEIGHT)
        );
    }

    #[test]
    fn every_sort_ends_with_the_tie_breakers_and_id() {
        for sort in [
            Sort::Relevance,
            Sort::PriceAsc,
            Sort::PriceDesc,
            Sort::Rating,
            Sort::Newest,
        ] {
            let clauses = sort_clauses(sort);
            let fields: Vec<&String> = clauses
                .iter()
                .map(|c| c.as_object().unwrap().keys().next().unwrap())
                .collect();
            assert_eq!(fields.last().unwrap().as_str(), "id");
            for tb in TIE_BREAKERS.iter().chain(std::iter::once(&"_score")) {
                assert_eq!(
                    fields.iter().filter(|f| f.as_str() == *tb).count(),
                    1,
                    "{sort:?} {tb}"
                );
            }
        }
        assert_eq!(
            sort_clauses(Sort::PriceAsc)[0],
            json!({"priceAmount": {"order": "asc"}})
        );
    }

    #[test]
    fn no_text_lists_everything_and_bad_limits_or_ranges_are_invalid() {
        let body = search_body(&query(None), Words::All).unwrap();
        assert_eq!(body["query"], json!({"bool": {}}));
        assert_eq!(body["size"], 11);
        assert!(body.get("post_filter").is_none());
        let mut q = query(None);
        q.limit = 0;
        assert!(matches!(
            search_body(&q, Words::All),
            Err(SearchError::Invalid(_))
        ));
        let mut q = query(None);
        q.min_price = Some(10);
        q.max_price = Some(5);
        assert!(matches!(
            search_body(&q, Words::All),
            Err(SearchError::Invalid(_))
        ));
        let q = query(Some(&"w ".repeat(MAX_WORDS + 1)));
        assert!(matches!(
            search_body(&q, Words::All),
            Err(SearchError::Invalid(_))
        ));
    }

    #[test]
    fn all_words_must_match_or_any_in_the_fallback() {
        let q = query(Some("Labtop, bag"));
        let all = search_body(&q, Words::All).unwrap();
        let must = all["query"]["bool"]["must"].as_array().unwrap();
        assert_eq!(must.len(), 2);
        assert_eq!(must[0], word_query("labtop"));
        let any = search_body(&q, Words::Any).unwrap();
        assert_eq!(any["query"]["bool"]["should"].as_array().unwrap().len(), 2);
        assert_eq!(any["query"]["bool"]["minimum_should_match"], 1);
        assert_eq!(word_count(&q), 2);
    }

    #[test]
    fn a_cursor_of_another_shape_is_invalid() {
        let mut q = query(None);
        q.after = Some(json!([1.0, 2]));
        assert!(matches!(
            search_body(&q, Words::All),
            Err(SearchError::Invalid(_))
        ));
        q.after = Some(json!({"x": 1}));
        assert!(matches!(
            search_body(&q, Words::All),
            Err(SearchError::Invalid(_))
        ));
        q.after = Some(json!([1.0, 4.5, 3, 1_700_000_000_000_i64, "prd_1"]));
        assert_eq!(
            search_body(&q, Words::All).unwrap()["search_after"],
            q.after.unwrap()
        );
    }

    #[test]
    fn suggest_is_fuzzy_only_for_longer_prefixes() {
        assert!(suggest_body("  ", 5).is_none());
        let lap = suggest_body("Lap", 5).unwrap();
        assert_eq!(lap["suggest"][SUGGESTER]["prefix"], "lap");
        assert!(lap["suggest"][SUGGESTER]["completion"]
            .get("fuzzy")
            .is_none());
        let labt = suggest_body("labt", 5).unwrap();
        assert_eq!(
            labt["suggest"][SUGGESTER]["completion"]["fuzzy"]["fuzziness"],
            1
        );
        assert_eq!(labt["suggest"][SUGGESTER]["completion"]["size"], 10);
    }
}
