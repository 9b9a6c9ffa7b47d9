//! Completions: every product contributes its name's words and two-word
//! phrases, its brand and its category words (lower-cased, ASCII-folded,
//! unstemmed) as raw terms of the `suggest` field. A suggestion's weight is
//! how many live products hold it; the term list is read back from the
//! index once per index generation, and `complete` ranks it in memory.

use crate::index::SearchDoc;
use crate::relevance::edit_distance;
use crate::tantivy_index::schema::plain_words;
use std::collections::{BTreeSet, HashMap};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocSet, Searcher, TERMINATED};

const FILLER: &[&str] = &[
    "a", "an", "and", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with",
];

/// The completion candidates of one product.
pub fn candidates(d: &SearchDoc) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let name: Vec<String> = plain_words(&d.name);
    let wordlike = |w: &str| w.chars().count() >= 2 && w.starts_with(|c: char| c.is_alphabetic());
    for w in &name {
        if wordlike(w) {
            out.insert(w.clone());
        }
    }
    // Phrases that end or start on a filler word ("laptop with") are no
    // completion anyone wants.
    let phrase_word = |w: &str| wordlike(w) && !FILLER.contains(&w);
    for pair in name.windows(2) {
        if phrase_word(&pair[0]) && phrase_word(&pair[1]) {
            out.insert(format!("{} {}", pair[0], pair[1]));
        }
    }
    let brand = plain_words(&d.brand).join(" ");
    if !brand.is_empty() {
        out.insert(brand);
    }
    for w in plain_words(&d.category.replace('-', " ")) {
        if wordlike(&w) {
            out.insert(w);
        }
    }
    out
}

/// Every candidate with its live-document count, sorted by text.
pub struct Dictionary {
    entries: Vec<(String, u64)>,
}

impl Dictionary {
    pub fn read(searcher: &Searcher, field: Field) -> tantivy::Result<Dictionary> {
        let mut counts: HashMap<String, u64> = HashMap::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(field)?;
            let alive = segment.alive_bitset();
            let mut stream = inverted.terms().stream()?;
            while stream.advance() {
                let Ok(term) = std::str::from_utf8(stream.key()) else {
                    continue;
                };
                let info = stream.value();
                // Deleted documents keep counting in `doc_freq` until their
                // segment is merged: count only live ones where it matters.
                let live = match alive {
                    None => u64::from(info.doc_freq),
                    Some(bits) => {
                        let mut postings =
                            inverted.read_postings_from_terminfo(info, IndexRecordOption::Basic)?;
                        let mut n = 0;
                        let mut doc = postings.doc();
                        while doc != TERMINATED {
                            if bits.is_alive(doc) {
                                n += 1;
                            }
                            doc = postings.advance();
                        }
                        n
                    }
                };
                if live > 0 {
                    *counts.entry(term.to_owned()).or_default() += live;
                }
            }
        }
        let mut entries: Vec<(String, u64)> = counts.into_iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(Dictionary { entries })
    }

    /// Up to `limit` completions of `input`: those that start with it
    /// (most products first), then, when that leaves room and the input is
    /// long enough to allow typos, those within the typo allowance of one
    /// of their prefixes (closest first). Typos in the first letter are not
    /// tolerated: that keeps the scan to one letter's slice.
    pub fn complete(&self, input: &str, limit: usize) -> Vec<String> {
        let query = plain_words(input).join(" ");
        if query.is_empty() || limit == 0 {
            return Vec::new();
        }
        let start = self
            .entries
            .partition_point(|(t, _)| t.as_str() < query.as_str());
        let mut exact: Vec<&(String, u64)> = self.entries[start..]
            .iter()
            .take_while(|(t, _)| t.starts_with(&query))
            .collect();
        exact.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then(a.0.len().cmp(&b.0.len()))
                .then(a.0.cmp(&b.0))
        });
        let mut out: Vec<String> = exact.iter().take(limit).map(|(t, _)| t.clone()).collect();
        let allowed = edit_distance(query.chars().count());
        if out.len() < limit && allowed > 0 {
            let q: Vec<char> = query.chars().collect();
            let first = q[0];
            let lo = self
                .entries
                .partition_point(|(t, _)| t.chars().next().is_some_and(|c| c < first));
            let mut fuzzy: Vec<(u8, &(String, u64))> = self.entries[lo..]
                .iter()
                .take_while(|(t, _)| t.starts_with(first))
                .filter(|(t, _)| !t.starts_with(&query))
                .filter_map(|e| prefix_distance(&q, &e.0, allowed).map(|d| (d, e)))
                .collect();
            fuzzy.sort_by(|a, b| {
                a.0.cmp(&b.0)
                    .then(b.1 .1.cmp(&a.1 .1))
                    .then(a.1 .0.len().cmp(&b.1 .0.len()))
                    .then(a.1 .0.cmp(&b.1 .0))
            });
            out.extend(
                fuzzy
                    .into_iter()
                    .take(limit - out.len())
                    .map(|(_, (t, _))| t.clone()),
            );
        }
        out
    }
}

/// The fewest edits (insert, delete, substitute, swap adjacent) that turn
/// `query` into some prefix of `term`, if at most `max`.
fn prefix_distance(query: &[char], term: &str, max: u8) -> Option<u8> {
    let t: Vec<char> = term.chars().collect();
    let max = usize::from(max);
    let m = query.len();
    // Rows over the term's characters; columns over the query's.
    let mut prev2: Vec<usize> = vec![0; m + 1];
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut best = prev[m];
    for j in 1..=t.len() {
        let mut cur = vec![j; m + 1];
        for i in 1..=m {
            let cost = usize::from(query[i - 1] != t[j - 1]);
            let mut v = (prev[i - 1] + cost).min(prev[i] + 1).min(cur[i - 1] + 1);
            if i > 1 && j > 1 && query[i - 1] == t[j - 2] && query[i - 2] == t[j - 1] {
                v = v.min(prev2[i - 2] + 1);
            }
            cur[i] = v;
        }
        best = best.min(cur[m]);
        if cur.iter().min().copied().unwrap_or(0) > max {
            break;
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    (best <= max).then_some(best as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(q: &str, t: &str) -> Option<u8> {
        prefix_distance(&q.chars().collect::<Vec<_>>(), t, 2)
    }

    #[test]
    fn prefix_distance_counts_edits_against_the_best_prefix() {
        assert_eq!(dist("lap", "laptop"), Some(0));
        assert_eq!(dist("labt", "laptop"), Some(1));
        assert_eq!(dist("hedphon", "headphones"), Some(1));
        assert_eq!(dist("lpatop", "laptop"), Some(1));
        assert_eq!(dist("zzzz", "laptop"), None);
    }

    #[test]
    fn complete_ranks_prefixes_by_frequency_then_typos() {
        let d = Dictionary {
            entries: vec![
                ("lamp".into(), 3),
                ("laptop".into(), 20),
                ("laptop stand".into(), 2),
                ("lapel".into(), 1),
                ("latte".into(), 5),
            ],
        };
        assert_eq!(d.complete("LAP", 10), ["laptop", "laptop stand", "lapel"]);
        assert_eq!(d.complete("labto", 10), ["laptop", "laptop stand"]);
        assert_eq!(d.complete("lap", 1), ["laptop"]);
        assert!(d.complete("   ", 5).is_empty());
    }
}
