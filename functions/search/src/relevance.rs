//! The one definition of how search ranks, shared by both adapters (the
//! tantivy query builder and the OpenSearch query DSL are built from it).

/// Field weights of free-text matching.
pub const NAME_BOOST: f32 = 3.0;
pub const BRAND_BOOST: f32 = 2.0;
pub const CATEGORY_BOOST: f32 = 1.5;
pub const DESCRIPTION_BOOST: f32 = 0.5;

/// How much an exact term match outweighs a prefix match, and a prefix match
/// a fuzzy one, on the same field.
pub const EXACT_WEIGHT: f32 = 4.0;
pub const PREFIX_WEIGHT: f32 = 2.0;
pub const FUZZY_WEIGHT: f32 = 1.0;

/// Typos tolerated in a query word of `len` characters: none up to 3, one
/// up to 7, two beyond (like OpenSearch's `fuzziness: AUTO:4,8`).
pub fn edit_distance(len: usize) -> u8 {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// The shortest query word that is also matched as a prefix.
pub const MIN_PREFIX_LEN: usize = 2;

/// Ties of equal text score are broken by rating (average, then count),
/// then by recency: `(rating_average, rating_count, created_at)` descending.
pub const TIE_BREAKERS: &[&str] = &["ratingAverage", "ratingCount", "createdAt"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typo_allowance_grows_with_word_length() {
        assert_eq!(edit_distance(3), 0);
        assert_eq!(edit_distance(4), 1);
        assert_eq!(edit_distance(6), 1);
        assert_eq!(edit_distance(8), 2);
    }
}
