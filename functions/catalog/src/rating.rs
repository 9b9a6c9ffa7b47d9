//! A product's rating, as the reviews service decides it: stored only when
//! it comes from a newer reviews summary than the one the product shows,
//! so late, repeated or out-of-order decisions never roll it back.

use crate::domain::{Product, ProductId, Rating};
use crate::repo;
use crate::CatalogError;
use lite_ports::Context;
use lite_store::optimistic::{self, Attempt, POLICY};

/// What [`set_rating`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum RatingOutcome {
    /// The product now shows the rating (its listing entries moved with it
    /// and `product.updated.v1` was recorded in the same transaction).
    Applied(Box<Product>),
    /// The product already shows this summary version or a newer one.
    Stale,
    /// No such product (deleted since, or never existed).
    Gone,
}

/// Sets `product_id`'s rating to `average` (rounded to one decimal) and
/// `count` if `rating_version` is newer than the version it shows. Each
/// write is conditional on the product's item version, which every write
/// (and so every rating version stored) changes: a concurrent rating or
/// patch makes it reload and decide again.
pub async fn set_rating(
    ctx: &Context,
    product_id: &str,
    average: f64,
    count: u32,
    rating_version: u64,
) -> Result<RatingOutcome, CatalogError> {
    let Some(id) = ProductId::parse(product_id) else {
        return Ok(RatingOutcome::Gone);
    };
    let rating = Rating {
        average: one_decimal(average),
        count,
    };
    let (id, rating) = (&id, &rating);
    optimistic::retry(&POLICY, move |_| async move {
        let Some(loaded) = repo::load(ctx, id).await? else {
            return Ok(Attempt::Done(RatingOutcome::Gone));
        };
        if loaded.rating_version >= rating_version {
            return Ok(Attempt::Done(RatingOutcome::Stale));
        }
        let updated = Product {
            rating: rating.clone(),
            updated_at: ctx.clock.now().max(loaded.product.updated_at),
            ..loaded.product.clone()
        };
        Ok(repo::replace(ctx, &loaded, &updated, rating_version)
            .await?
            .map(|()| RatingOutcome::Applied(Box::new(updated))))
    })
    .await
}

/// 0..=5 with one decimal; anything else (NaN included) is clamped.
fn one_decimal(average: f64) -> f64 {
    if average.is_finite() {
        ((average * 10.0).round() / 10.0).clamp(0.0, 5.0)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::one_decimal;

    #[test]
    fn averages_keep_one_decimal_within_range() {
        assert_eq!(one_decimal(4.25), 4.3);
        assert_eq!(one_decimal(3.333), 3.3);
        assert_eq!(one_decimal(7.0), 5.0);
        assert_eq!(one_decimal(f64::NAN), 0.0);
    }
}
