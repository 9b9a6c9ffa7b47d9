//! Builds tantivy queries from a `SearchQuery`, with the weights of
//! `crate::relevance`.

use crate::index::SearchQuery;
use crate::relevance::{
    edit_distance, BRAND_BOOST, CATEGORY_BOOST, DESCRIPTION_BOOST, EXACT_WEIGHT, FUZZY_WEIGHT,
    MIN_PREFIX_LEN, NAME_BOOST, PREFIX_WEIGHT,
};
use crate::tantivy_index::schema::{plain_words, stem, Fields};
use std::ops::Bound;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{Facet, IndexRecordOption};
use tantivy::Term;

/// Which filters a query applies (facets drop their own).
#[derive(Clone, Copy)]
pub struct Filters {
    pub category: bool,
    pub brand: bool,
}

/// How the words of the text combine.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Words {
    /// Every word must match (the first try).
    All,
    /// Any word may (when every-word matching finds nothing).
    Any,
}

/// Prefix and typo matching build a Levenshtein automaton per word and
/// field, at about 1 KiB per state, and the states grow with the word's
/// length and much faster with non-ASCII characters: at two typos a word of
/// 20 bytes takes at most 551 states, a 19-letter Cyrillic word (38 bytes,
/// within the analyzer's 40-byte token limit) 3,702, so 14 MiB for its four
/// fields, and a 200-character query holds ten such words. So only words of
/// at most this many UTF-8 bytes get them (no product word is longer;
/// longer words still match exactly)...
pub const MAX_AUTOMATON_WORD_BYTES: usize = 20;
/// ...and only the first this-many words of a query: at most
/// 5 × 4 fields × (551 + 28) states, about 11 MiB per query.
pub const MAX_AUTOMATON_WORDS: usize = 5;

/// The free-text part: per query word, the best of an exact match of its
/// stem, a prefix match and a fuzzy match, on each text field (prefix and
/// fuzzy within the automaton bounds above).
fn text_query(f: &Fields, text: &str, words: Words) -> Option<Box<dyn Query>> {
    let fields = [
        (f.name, NAME_BOOST),
        (f.brand_text, BRAND_BOOST),
        (f.category_text, CATEGORY_BOOST),
        (f.description, DESCRIPTION_BOOST),
    ];
    let mut per_word: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (n, word) in plain_words(text).into_iter().enumerate() {
        let automata = n < MAX_AUTOMATON_WORDS && word.len() <= MAX_AUTOMATON_WORD_BYTES;
        let len = word.chars().count();
        let stemmed = stem(&word);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, boost) in fields {
            let exact = Term::from_field_text(field, &stemmed);
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(exact.clone(), IndexRecordOption::WithFreqs)),
                    boost * EXACT_WEIGHT,
                )),
            ));
            if automata && len >= MIN_PREFIX_LEN {
                // The unstemmed word as a prefix ("lapt" → "laptop").
                let prefix = Term::from_field_text(field, &word);
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(FuzzyTermQuery::new_prefix(prefix, 0, true)),
                        boost * PREFIX_WEIGHT,
                    )),
                ));
            }
            let distance = edit_distance(len);
            if automata && distance > 0 {
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(FuzzyTermQuery::new(exact, distance, true)),
                        boost * FUZZY_WEIGHT,
                    )),
                ));
            }
        }
        let occur = match words {
            Words::All => Occur::Must,
            Words::Any => Occur::Should,
        };
        per_word.push((occur, Box::new(BooleanQuery::new(clauses))));
    }
    if per_word.is_empty() {
        None
    } else {
        Some(Box::new(BooleanQuery::new(per_word)))
    }
}

/// Filters contribute no score: they only restrict.
fn filter(q: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
}

pub fn build(f: &Fields, q: &SearchQuery, filters: Filters, words: Words) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    match q.text.as_deref().and_then(|t| text_query(f, t, words)) {
        Some(text) => clauses.push((Occur::Must, text)),
        None => clauses.push((Occur::Must, Box::new(AllQuery))),
    }
    if filters.category {
        if let Some(c) = &q.category {
            let term = Term::from_facet(f.category, &Facet::from_path([c.as_str()]));
            clauses.push(filter(Box::new(TermQuery::new(
                term,
                IndexRecordOption::Basic,
            ))));
        }
    }
    if filters.brand {
        if let Some(b) = &q.brand {
            let term = Term::from_facet(f.brand, &Facet::from_path([b.as_str()]));
            clauses.push(filter(Box::new(TermQuery::new(
                term,
                IndexRecordOption::Basic,
            ))));
        }
    }
    if q.min_price.is_some() || q.max_price.is_some() {
        let bound = |v: Option<i64>| match v {
            Some(v) => Bound::Included(Term::from_field_i64(f.price, v)),
            None => Bound::Unbounded,
        };
        clauses.push(filter(Box::new(RangeQuery::new(
            bound(q.min_price),
            bound(q.max_price),
        ))));
    }
    Box::new(BooleanQuery::new(clauses))
}
