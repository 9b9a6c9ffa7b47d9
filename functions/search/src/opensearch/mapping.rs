//! The index's settings and mappings (sent once by `ensure_index`).
//!
//! Field names are `SearchDoc`'s serde names (camelCase), so a document is
//! indexed as it serializes and `_source` parses straight back into it.
//! No shard or replica counts: OpenSearch Serverless manages those itself
//! and refuses them.

use serde_json::{json, Value};

use crate::relevance::MIN_PREFIX_LEN;

/// Analyzer of the free-text fields: lower case, accents folded, English
/// plurals reduced ("batteries" matches "battery") by the light
/// `minimal_english` stemmer, which leaves other word forms alone.
pub const TEXT_ANALYZER: &str = "product_text";
/// Index-time analyzer of the suggestion subfield: the text analyzer's
/// folding plus edge n-grams, so a typed prefix is a whole indexed term.
pub const AUTOCOMPLETE_ANALYZER: &str = "product_autocomplete";
/// Query-time analyzer of the suggestion subfield (no n-grams: the typed
/// prefix is matched as it is).
pub const AUTOCOMPLETE_SEARCH_ANALYZER: &str = "product_autocomplete_search";
/// Longest n-gram kept for suggestions; longer typed words still match
/// through the fuzzy clause and the main `name` field.
pub const MAX_NGRAM: usize = 20;

/// The exact-value subfield used by filters, facets and `name` display.
pub const KEYWORD: &str = "keyword";
/// The edge n-gram subfield of `name` used by suggestions.
pub const AUTOCOMPLETE: &str = "autocomplete";

/// `PUT /<index>` body.
pub fn index_body() -> Value {
    json!({
        "settings": {
            "analysis": {
                "filter": {
                    "english_plural": { "type": "stemmer", "language": "minimal_english" },
                    "english_possessive": { "type": "stemmer", "language": "possessive_english" },
                    "prefix_ngram": {
                        "type": "edge_ngram",
                        // Prefixes shorter than MIN_PREFIX_LEN are not
                        // suggested, as they are not searched as prefixes.
                        "min_gram": MIN_PREFIX_LEN,
                        "max_gram": MAX_NGRAM
                    }
                },
                "analyzer": {
                    TEXT_ANALYZER: {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": ["english_possessive", "lowercase", "asciifolding", "english_plural"]
                    },
                    AUTOCOMPLETE_ANALYZER: {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": ["lowercase", "asciifolding", "prefix_ngram"]
                    },
                    AUTOCOMPLETE_SEARCH_ANALYZER: {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": ["lowercase", "asciifolding"]
                    }
                }
            }
        },
        "mappings": {
            // A field the code does not know is a bug, not data to guess a
            // type for.
            "dynamic": "strict",
            "properties": {
                "id": { "type": "keyword" },
                "sku": { "type": "keyword" },
                "name": {
                    "type": "text",
                    "analyzer": TEXT_ANALYZER,
                    "fields": {
                        KEYWORD: { "type": "keyword", "ignore_above": 256 },
                        AUTOCOMPLETE: {
                            "type": "text",
                            "analyzer": AUTOCOMPLETE_ANALYZER,
                            "search_analyzer": AUTOCOMPLETE_SEARCH_ANALYZER
                        }
                    }
                },
                "description": { "type": "text", "analyzer": TEXT_ANALYZER },
                "category": text_with_keyword(),
                "brand": text_with_keyword(),
                "priceAmount": { "type": "long" },
                "currency": { "type": "keyword" },
                "ratingAverage": { "type": "double" },
                "ratingCount": { "type": "integer" },
                // Shown in result lists, never searched.
                "image": { "type": "keyword", "index": false, "doc_values": false },
                "createdAt": { "type": "date" },
                "updatedAt": { "type": "date" }
            }
        }
    })
}

/// Searched as text, filtered and counted by exact value (`<field>.keyword`).
fn text_with_keyword() -> Value {
    json!({
        "type": "text",
        "analyzer": TEXT_ANALYZER,
        "fields": { KEYWORD: { "type": "keyword", "ignore_above": 256 } }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::SearchDoc;
    use chrono::{TimeZone, Utc};

    #[test]
    fn every_document_field_is_mapped_and_nothing_else() {
        let doc = SearchDoc {
            id: "prd_1".into(),
            sku: "SKU-1".into(),
            name: "n".into(),
            description: "d".into(),
            category: "c".into(),
            brand: "b".into(),
            price_amount: 1,
            currency: "EUR".into(),
            rating_average: 0.0,
            rating_count: 0,
            image: Some("i".into()),
            created_at: Utc.timestamp_opt(0, 0).unwrap(),
            updated_at: Utc.timestamp_opt(0, 0).unwrap(),
        };
        let serialized = serde_json::to_value(&doc).unwrap();
        let mut doc_fields: Vec<&String> = serialized.as_object().unwrap().keys().collect();
        let body = index_body();
        let mut mapped: Vec<&String> = body["mappings"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        doc_fields.sort();
        mapped.sort();
        assert_eq!(doc_fields, mapped);
    }

    #[test]
    fn analyzers_fold_case_accents_and_plurals() {
        let body = index_body();
        let filters = &body["settings"]["analysis"]["analyzer"][TEXT_ANALYZER]["filter"];
        for f in ["lowercase", "asciifolding", "english_plural"] {
            assert!(filters.as_array().unwrap().contains(&json!(f)), "{f}");
        }
        assert_eq!(
            body["settings"]["analysis"]["filter"]["prefix_ngram"]["min_gram"],
            json!(MIN_PREFIX_LEN)
        );
        assert!(body["settings"].get("number_of_shards").is_none());
    }
}
