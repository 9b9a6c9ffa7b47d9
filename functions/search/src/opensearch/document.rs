//! The document as OpenSearch stores it: a `SearchDoc` plus the inputs of
//! the completion field that suggestions read.

use serde::Serialize;

use crate::index::SearchDoc;
use crate::relevance::MIN_PREFIX_LEN;

/// What `_bulk` indexes for one product. `_source` parses back into a
/// `SearchDoc` (which ignores the extra `suggest` field).
#[derive(Debug, Serialize)]
pub struct IndexedDoc<'a> {
    #[serde(flatten)]
    pub doc: &'a SearchDoc,
    pub suggest: Completion,
}

/// A completion field value.
#[derive(Debug, PartialEq, Serialize)]
pub struct Completion {
    pub input: Vec<String>,
    /// Ranks completions of the same prefix: better-known products first,
    /// as the relevance tie-breakers do (rating count).
    pub weight: u32,
}

impl<'a> IndexedDoc<'a> {
    pub fn of(doc: &'a SearchDoc) -> Self {
        IndexedDoc {
            doc,
            suggest: Completion {
                input: suggest_inputs(doc),
                // Completion weights are positive Java ints.
                weight: doc.rating_count.saturating_add(1).min(i32::MAX as u32),
            },
        }
    }
}

/// Filler words that neither start nor end a suggested two-word phrase.
const FILLER: &[&str] = &[
    "a", "an", "and", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with",
];

/// The completions a product offers, as the tantivy adapter's: the words
/// of its name (from `MIN_PREFIX_LEN` characters, starting with a letter),
/// its two-word name phrases without filler words ("laptop pro"), its
/// brand and its category words; lower-cased, unstemmed, deduplicated.
pub fn suggest_inputs(doc: &SearchDoc) -> Vec<String> {
    let wordlike =
        |w: &str| w.chars().count() >= MIN_PREFIX_LEN && w.starts_with(|c: char| c.is_alphabetic());
    let phrase_word = |w: &str| wordlike(w) && !FILLER.contains(&w);
    let mut inputs: Vec<String> = Vec::new();
    let mut add = |s: String| {
        if !inputs.contains(&s) {
            inputs.push(s);
        }
    };
    let name = words(&doc.name);
    for w in name.iter().filter(|w| wordlike(w)) {
        add(w.clone());
    }
    for pair in name.windows(2) {
        if phrase_word(&pair[0]) && phrase_word(&pair[1]) {
            add(format!("{} {}", pair[0], pair[1]));
        }
    }
    let brand = words(&doc.brand).join(" ");
    if !brand.is_empty() {
        add(brand);
    }
    for w in words(&doc.category).into_iter().filter(|w| wordlike(w)) {
        add(w);
    }
    inputs
}

/// Lower-cased alphanumeric runs: the query words of `query::text_query`
/// and the suggestion words, split alike (slugs like `home-audio` give
/// `home` and `audio`).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    pub(crate) fn sample(id: &str) -> SearchDoc {
        SearchDoc {
            id: id.into(),
            sku: "SKU-1".into(),
            name: "Laptop Pro 14".into(),
            description: "A light laptop".into(),
            category: "computers".into(),
            brand: "Acme".into(),
            price_amount: 129_900,
            currency: "EUR".into(),
            rating_average: 4.5,
            rating_count: 12,
            image: Some("https://img/1.jpg".into()),
            created_at: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
            updated_at: Utc.timestamp_opt(1_700_000_100, 0).unwrap(),
        }
    }

    #[test]
    fn suggest_inputs_are_the_name_and_its_words() {
        let doc = sample("prd_1");
        assert_eq!(
            suggest_inputs(&doc),
            ["laptop", "pro", "laptop pro", "acme", "computers"]
        );
        assert_eq!(IndexedDoc::of(&doc).suggest.weight, 13);
    }

    #[test]
    fn indexed_source_parses_back_into_the_document() {
        let doc = sample("prd_1");
        let source = serde_json::to_value(IndexedDoc::of(&doc)).unwrap();
        assert_eq!(source["suggest"]["input"][0], "laptop");
        let back: SearchDoc = serde_json::from_value(source).unwrap();
        assert_eq!(back, doc);
    }

    #[test]
    fn fillers_end_no_phrase_and_category_slugs_split() {
        let mut doc = sample("prd_2");
        doc.name = "Case for Phone X2".into();
        doc.brand = "Big Co".into();
        doc.category = "phone-accessories".into();
        assert_eq!(
            suggest_inputs(&doc),
            [
                "case",
                "for",
                "phone",
                "x2",
                "phone x2",
                "big co",
                "accessories"
            ]
        );
    }

    #[test]
    fn words_split_on_punctuation_and_fold_case() {
        assert_eq!(words("Home-Audio  Sony!"), ["home", "audio", "sony"]);
        assert!(words(" ?! ").is_empty());
    }
}
