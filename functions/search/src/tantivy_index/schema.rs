//! The tantivy schema and analyzers: what is indexed and how.

use crate::index::SearchDoc;
use tantivy::schema::{
    Facet, FacetOptions, Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing,
    TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer,
};
use tantivy::{Index, TantivyDocument};

/// The analyzer of the free-text fields: words, lower-cased, folded to
/// ASCII ("café" finds "cafe") and stemmed ("laptops" finds "laptop").
pub const TEXT_ANALYZER: &str = "product_text";

/// Every field, resolved once.
#[derive(Clone, Copy)]
pub struct Fields {
    /// `prd_<ULID>`: exact term (get, delete) and fast (tie-breaker).
    pub id: Field,
    pub name: Field,
    pub brand_text: Field,
    pub category_text: Field,
    pub description: Field,
    /// Exact values as facets: the filters and the facet counts.
    pub category: Field,
    pub brand: Field,
    pub price: Field,
    pub rating_average: Field,
    pub rating_count: Field,
    /// Microseconds since the epoch.
    pub created_at: Field,
    /// Completion candidates (see `suggest`), one raw term each.
    pub suggest: Field,
    /// The whole `SearchDoc` as JSON: what results are read back from.
    pub doc: Field,
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TEXT_ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fast_num = NumericOptions::default() | FAST;
    let fields = Fields {
        id: b.add_text_field("id", STRING | FAST),
        name: b.add_text_field("name", text.clone()),
        brand_text: b.add_text_field("brand_text", text.clone()),
        category_text: b.add_text_field("category_text", text.clone()),
        description: b.add_text_field("description", text),
        category: b.add_facet_field("category", FacetOptions::default()),
        brand: b.add_facet_field("brand", FacetOptions::default()),
        price: b.add_i64_field("price", fast_num.clone() | INDEXED),
        rating_average: b.add_f64_field("rating_average", fast_num.clone()),
        rating_count: b.add_u64_field("rating_count", fast_num.clone()),
        created_at: b.add_i64_field("created_at", fast_num),
        suggest: b.add_text_field("suggest", STRING),
        doc: b.add_text_field("doc", STORED),
    };
    (b.build(), fields)
}

pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// Lower-cased, ASCII-folded words, unstemmed (what suggestions show and
/// what query words are measured by).
pub fn plain_words(text: &str) -> Vec<String> {
    let mut analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build();
    let mut stream = analyzer.token_stream(text);
    let mut words = Vec::new();
    while let Some(t) = stream.next() {
        words.push(t.text.clone());
    }
    words
}

/// The stem of one plain word, as the text fields index it.
pub fn stem(word: &str) -> String {
    let mut analyzer = text_analyzer();
    let mut stream = analyzer.token_stream(word);
    stream
        .next()
        .map(|t| t.text.clone())
        .unwrap_or_else(|| word.to_owned())
}

pub fn register(index: &Index) {
    index.tokenizers().register(TEXT_ANALYZER, text_analyzer());
}

pub fn to_document(f: &Fields, d: &SearchDoc) -> Result<TantivyDocument, serde_json::Error> {
    let mut doc = TantivyDocument::default();
    doc.add_text(f.id, &d.id);
    doc.add_text(f.name, &d.name);
    doc.add_text(f.brand_text, &d.brand);
    // Slugs are hyphenated ("smart-home"): index them as words too.
    doc.add_text(f.category_text, d.category.replace('-', " "));
    doc.add_text(f.description, &d.description);
    doc.add_facet(f.category, Facet::from_path([d.category.as_str()]));
    doc.add_facet(f.brand, Facet::from_path([d.brand.as_str()]));
    doc.add_i64(f.price, d.price_amount);
    doc.add_f64(f.rating_average, d.rating_average);
    doc.add_u64(f.rating_count, u64::from(d.rating_count));
    doc.add_i64(f.created_at, d.created_at.timestamp_micros());
    for s in crate::tantivy_index::suggest::candidates(d) {
        doc.add_text(f.suggest, s);
    }
    doc.add_text(f.doc, serde_json::to_string(d)?);
    Ok(doc)
}
