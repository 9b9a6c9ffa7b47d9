//! What shoppers know of the shop before they start: its products (read
//! once through the public listing), from which they pick what to look at
//! and buy, and the words they search for, typed with mistakes.

use super::LoadError;
use rand::seq::SliceRandom;
use rand::Rng;
use reqwest13::{Client, Url};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Product {
    pub id: String,
    pub category: String,
    pub name: String,
    pub available: i64,
}

pub struct Catalog {
    pub products: Vec<Product>,
    pub categories: Vec<String>,
}

/// The listing's sort orders (API.md).
pub const SORTS: [&str; 4] = ["newest", "price_asc", "price_desc", "rating"];

impl Catalog {
    /// Walks every page of `GET /v1/products`.
    pub async fn load(client: &Client, host: &Url) -> Result<Catalog, LoadError> {
        let mut products = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = host.join("/v1/products").expect("a base URL joins a path");
            url.query_pairs_mut().append_pair("limit", "100");
            if let Some(c) = &cursor {
                url.query_pairs_mut().append_pair("cursor", c);
            }
            let r = client.get(url).send().await?;
            if !r.status().is_success() {
                return Err(LoadError::Setup(format!(
                    "GET /v1/products answered {}",
                    r.status()
                )));
            }
            let page: Value = r.json().await?;
            for p in page["items"].as_array().into_iter().flatten() {
                if let (Some(id), Some(category), Some(name)) =
                    (p["id"].as_str(), p["category"].as_str(), p["name"].as_str())
                {
                    products.push(Product {
                        id: id.to_owned(),
                        category: category.to_owned(),
                        name: name.to_owned(),
                        available: p["stock"]["available"].as_i64().unwrap_or(0),
                    });
                }
            }
            match page["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        if products.is_empty() {
            return Err(LoadError::Setup(
                "the shop lists no products (start it with the demo catalog)".into(),
            ));
        }
        let mut categories: Vec<String> = products.iter().map(|p| p.category.clone()).collect();
        categories.sort();
        categories.dedup();
        Ok(Catalog {
            products,
            categories,
        })
    }

    pub fn any_product(&self) -> &Product {
        self.products
            .choose(&mut rand::thread_rng())
            .expect("the catalog is not empty")
    }

    /// A product that was in stock when the run started (any, if none was).
    pub fn product_to_buy(&self) -> &Product {
        let mut rng = rand::thread_rng();
        for _ in 0..20 {
            let p = self.products.choose(&mut rng).expect("not empty");
            if p.available > 0 {
                return p;
            }
        }
        self.any_product()
    }

    pub fn any_category(&self) -> &str {
        self.categories
            .choose(&mut rand::thread_rng())
            .expect("the catalog is not empty")
    }

    /// A word of a product's name as a shopper types it: right, or with
    /// one typo (two letters swapped, one dropped or doubled).
    pub fn search_term(&self) -> String {
        let mut rng = rand::thread_rng();
        let word = self.word(&mut rng);
        if rng.gen_bool(0.4) {
            typo(&word, &mut rng)
        } else {
            word
        }
    }

    /// The first letters of a word, as typed into the search box.
    pub fn prefix(&self) -> String {
        let mut rng = rand::thread_rng();
        let word = self.word(&mut rng);
        let n = rng.gen_range(2..=word.chars().count().min(5));
        word.chars().take(n).collect()
    }

    fn word(&self, rng: &mut impl Rng) -> String {
        let p = self.products.choose(rng).expect("not empty");
        let words: Vec<String> = p
            .name
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| w.chars().count() >= 4)
            .map(str::to_lowercase)
            .collect();
        words
            .choose(rng)
            .cloned()
            .unwrap_or_else(|| p.category.clone())
    }
}

fn typo(word: &str, rng: &mut impl Rng) -> String {
    let mut c: Vec<char> = word.chars().collect();
    if c.len() < 4 {
        return word.to_owned();
    }
    let i = rng.gen_range(1..c.len() - 1);
    match rng.gen_range(0..3) {
        0 => c.swap(i, i + 1),
        1 => {
            c.remove(i);
        }
        _ => c.insert(i, c[i]),
    }
    c.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_changes_a_word_by_one_edit() {
        let mut rng = rand::thread_rng();
        for _ in 0..200 {
            let t = typo("laptop", &mut rng);
            assert_ne!(t, "laptop");
            assert!((5..=7).contains(&t.len()), "{t}");
            assert!(t.starts_with('l'), "{t}");
        }
    }
}
