//! How products become `SearchDoc`s: from the catalog's events and from the
//! catalog itself (rebuild).

use crate::index::SearchDoc;
use lite_events::contracts::ProductSnapshot;

impl From<&ProductSnapshot> for SearchDoc {
    fn from(p: &ProductSnapshot) -> Self {
        SearchDoc {
            id: p.id.clone(),
            sku: p.sku.to_string(),
            name: p.name.clone(),
            description: p.description.clone(),
            category: p.category.clone(),
            brand: p.brand.clone(),
            price_amount: p.price.amount,
            currency: p.price.currency.to_string(),
            rating_average: p.rating.average,
            rating_count: p.rating.count,
            image: p.images.first().cloned(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

impl From<&catalog::Product> for SearchDoc {
    fn from(p: &catalog::Product) -> Self {
        SearchDoc {
            id: p.id.to_string(),
            sku: p.sku.to_string(),
            name: p.name.clone(),
            description: p.description.clone(),
            category: p.category.clone(),
            brand: p.brand.clone(),
            price_amount: p.price.amount,
            currency: p.price.currency.to_string(),
            rating_average: p.rating.average,
            rating_count: p.rating.count,
            image: p.images.first().cloned(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}
