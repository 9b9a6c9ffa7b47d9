//! The index's settings and mappings (sent once by `ensure_index`).
//!
//! Field names are `SearchDoc`'s serde names (camelCase), so a document is
//! indexed as it serializes and `_source` parses straight back into it.
//! No shard or replica counts: OpenSearch Serverless manages those itself
//! and refuses them.

use serde_json::{json, Value};

/// Analyzer of the free-text fields: lower case, accents folded, English
/// plurals reduced ("batteries" matches "battery") by the light
/// `minimal_english` stemmer, which leaves other word forms alone.
pub const TEXT_ANALYZER: &str = "product_text";
/// Analyzer of the suggestion inputs: the text analyzer without stemming
/// (a suggestion is shown as typed), keeping digits ("xps 13").
pub const FOLDED_ANALYZER: &str = "product_folded";

/// The exact-value subfield used by filters and facets.
pub const KEYWORD: &str = "keyword";
/// The completion field the adapter adds to each document (see
/// `document::IndexedDoc`): the words and the name of the product.
pub const SUGGEST: &str = "suggest";

/// `PUT /<index>` body.
pub fn index_body() -> Value {
    json!({
        "settings": {
            "analysis": {
                "filter": {
                    "english_plural": { "type": "stemmer", "language": "minimal_english" },
                    "english_possessive": { "type": "stemmer", "language": "possessive_english" }
                },
                "analyzer": {
                    TEXT_ANALYZER: {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": ["english_possessive", "lowercase", "asciifolding", "english_plural"]
                    },
                    FOLDED_ANALYZER: {
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
                "name": text_with_keyword(),
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
                "updatedAt": { "type": "date" },
                SUGGEST: {
                    "type": "completion",
                    "analyzer": FOLDED_ANALYZER,
                    "preserve_separators": true,
                    "max_input_length": 100
                }
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
    use crate::opensearch::document::{tests::sample, IndexedDoc};

    #[test]
    fn every_indexed_field_is_mapped_and_nothing_else() {
        let doc = sample("prd_1");
        let serialized = serde_json::to_value(IndexedDoc::of(&doc)).unwrap();
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
            body["settings"]["analysis"]["filter"]["english_plural"]["language"],
            json!("minimal_english")
        );
        for facet in ["category", "brand"] {
            assert_eq!(
                body["mappings"]["properties"][facet]["fields"][KEYWORD]["type"],
                json!("keyword")
            );
        }
        assert!(body["settings"].get("number_of_shards").is_none());
    }
}
