//! Catalog operations on the store. Every write is one transaction that
//! also writes the listing entries and the outbox event, so a product, its
//! listings and its event never disagree.

use crate::domain::{
    Fields, NewProduct, Product, ProductId, ProductPatch, ProductView, Rating, Sort, StockView,
};
use crate::{events, keys, CatalogError};
use lite_ports::Context;
use lite_store::optimistic::{self, lost_race, Attempt, POLICY};
use lite_store::{Condition, Index, Query, SkCondition, StoreError, TxOp};
use std::collections::HashSet;

/// The product item's op: conditioned on the version read (or on absence).
const PRODUCT: &str = "product";
/// The sku claim's op: a product owns its sku.
const SKU: &str = "sku";

pub async fn create(ctx: &Context, new: NewProduct) -> Result<Product, CatalogError> {
    let now = ctx.clock.now();
    let f = new.fields;
    let product = Product {
        id: ProductId::generate(ctx.ids.as_ref()),
        sku: new.sku,
        name: f.name,
        description: f.description,
        category: f.category,
        brand: f.brand,
        price: f.price,
        images: f.images,
        attributes: f.attributes,
        rating: Rating::none(),
        created_at: now,
        updated_at: now,
    };
    let mut ops = vec![
        TxOp::put(keys::product_item(&product, 1, 0))
            .when(Condition::NotExists)
            .named(PRODUCT),
        TxOp::put(keys::sku_item(&product))
            .when(Condition::NotExists)
            .named(SKU),
    ];
    ops.extend(keys::listing_items(&product).into_iter().map(TxOp::put));
    ops.push(lite_events::outbox::put(&events::created(ctx, &product)));
    match ctx.store.transact(ops).await {
        Ok(()) => Ok(product),
        Err(e) if e.failed_on(SKU) => Err(CatalogError::SkuTaken),
        Err(e) => Err(e.into()),
    }
}

/// A product as stored: its data, its item version (every write's
/// condition) and the version of the reviews summary its rating came from.
pub(crate) struct Loaded {
    pub product: Product,
    pub version: i64,
    pub rating_version: u64,
}

pub(crate) async fn load(ctx: &Context, id: &ProductId) -> Result<Option<Loaded>, CatalogError> {
    let Some(item) = ctx.store.get(&keys::product(id)).await? else {
        return Ok(None);
    };
    let product = keys::product_of(&item)
        .ok_or_else(|| StoreError::Invalid(format!("product item {id} does not parse")))?;
    Ok(Some(Loaded {
        product,
        version: keys::version_of(&item),
        rating_version: keys::rating_version_of(&item),
    }))
}

/// The product page's read, the hottest of the API: the item's JSON
/// decoded straight into the product (no `Item` tree), then its stock.
pub async fn get(ctx: &Context, id: &ProductId) -> Result<ProductView, CatalogError> {
    let json = ctx
        .store
        .get_json(&keys::product(id))
        .await?
        .ok_or(CatalogError::NotFound)?;
    let product = keys::product_of_json(&json)
        .ok_or_else(|| StoreError::Invalid(format!("product item {id} does not parse")))?;
    view(ctx, product).await
}

/// `product` as the API shows it (with its stock), without reading it again.
pub async fn view(ctx: &Context, product: Product) -> Result<ProductView, CatalogError> {
    Ok(with_stock(ctx, vec![product]).await?.remove(0))
}

pub async fn update(
    ctx: &Context,
    id: &ProductId,
    patch: ProductPatch,
) -> Result<Product, CatalogError> {
    let patch = &patch;
    optimistic::retry(&POLICY, move |_| async move {
        let loaded = load(ctx, id).await?.ok_or(CatalogError::NotFound)?;
        let current = &loaded.product;
        let fields = patch.clone().apply(current)?;
        if fields == fields_of(current) {
            return Ok(Attempt::Done(loaded.product));
        }
        let updated = Product {
            name: fields.name,
            description: fields.description,
            category: fields.category,
            brand: fields.brand,
            price: fields.price,
            images: fields.images,
            attributes: fields.attributes,
            updated_at: ctx.clock.now().max(current.updated_at),
            ..current.clone()
        };
        let rating_version = loaded.rating_version;
        Ok(replace(ctx, &loaded, &updated, rating_version)
            .await?
            .map(|()| updated))
    })
    .await
}

/// Replaces `loaded` with `updated` in one transaction: the product item
/// (conditional on its version), its listing entries (moved when their
/// keys change) and `product.updated.v1`. [`Attempt::Retry`] when the
/// product changed since it was loaded (the caller reloads and decides
/// again).
pub(crate) async fn replace(
    ctx: &Context,
    loaded: &Loaded,
    updated: &Product,
    rating_version: u64,
) -> Result<Attempt<()>, CatalogError> {
    let mut ops = vec![TxOp::put(keys::product_item(
        updated,
        loaded.version + 1,
        rating_version,
    ))
    .when(Condition::eq("version", loaded.version))
    .named(PRODUCT)];
    let new_items = keys::listing_items(updated);
    let new_keys: HashSet<_> = new_items
        .iter()
        .filter_map(|i| lite_store::Key::of(i).ok())
        .collect();
    ops.extend(new_items.into_iter().map(TxOp::put));
    ops.extend(
        keys::listing_keys(&loaded.product)
            .into_iter()
            .filter(|k| !new_keys.contains(k))
            .map(TxOp::delete),
    );
    ops.push(lite_events::outbox::put(&events::updated(ctx, updated)));
    match ctx.store.transact(ops).await {
        Ok(()) => Ok(Attempt::Done(())),
        Err(e) if lost_race(&e, &[PRODUCT]) => Ok(Attempt::Retry),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(ctx: &Context, id: &ProductId) -> Result<(), CatalogError> {
    optimistic::retry(&POLICY, move |_| async move {
        let Loaded {
            product: current,
            version,
            ..
        } = load(ctx, id).await?.ok_or(CatalogError::NotFound)?;
        let mut ops = vec![
            TxOp::delete(keys::product(id))
                .when(Condition::eq("version", version))
                .named(PRODUCT),
            TxOp::delete(keys::sku(&current.sku))
                .when(Condition::eq("productId", current.id.as_str()))
                .named(SKU),
        ];
        ops.extend(keys::listing_keys(&current).into_iter().map(TxOp::delete));
        ops.push(lite_events::outbox::put(&events::deleted(ctx, &current)));
        match ctx.store.transact(ops).await {
            Ok(()) => Ok(Attempt::Done(())),
            Err(e) if lost_race(&e, &[PRODUCT]) => Ok(Attempt::Retry),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

fn fields_of(p: &Product) -> Fields {
    Fields {
        name: p.name.clone(),
        description: p.description.clone(),
        category: p.category.clone(),
        brand: p.brand.clone(),
        price: p.price,
        images: p.images.clone(),
        attributes: p.attributes.clone(),
    }
}

/// A parsed listing request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListParams {
    pub category: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub sort: Sort,
    pub limit: usize,
    pub cursor: Option<String>,
}

impl ListParams {
    /// Binds a cursor to everything that shaped its listing.
    fn cursor_scope(&self) -> String {
        format!(
            "products|{}|{:?}|{:?}|{:?}",
            self.category.as_deref().unwrap_or(""),
            self.sort,
            self.min_price,
            self.max_price
        )
    }
}

pub async fn list(
    ctx: &Context,
    params: &ListParams,
) -> Result<(Vec<ProductView>, Option<String>), CatalogError> {
    let (order, direction) = keys::order_of(params.sort);
    let scope = params.cursor_scope();
    let after = ctx.cursors.resume(&scope, params.cursor.as_deref()).await?;
    let mut query = Query::new(
        Index::Gsi1,
        keys::listing_partition(params.category.as_deref(), order),
    )
    .direction(direction)
    .limit(params.limit)
    .after(after);
    let (min, max) = (params.min_price, params.max_price);
    if order == keys::Order::Price {
        if min.is_some() || max.is_some() {
            let low = keys::price_prefix(min.unwrap_or(0));
            // `~` sorts after every id character, closing the range inclusively.
            let high = format!("{}#~", keys::price_prefix(max.unwrap_or(i64::MAX / 10)));
            query = query.sk(SkCondition::Between(low, high));
        }
    } else {
        let mut filter = None;
        if let Some(min) = min {
            filter = Some(Condition::ge("priceAmount", min));
        }
        if let Some(max) = max {
            let le = Condition::le("priceAmount", max);
            filter = Some(match filter {
                Some(f) => f.and(le),
                None => le,
            });
        }
        if let Some(f) = filter {
            query = query.filter(f);
        }
    }
    // The entries' JSON decoded straight into products (no `Item` trees):
    // this decode was most of a listing's time.
    let page = ctx.store.query_json(&query).await?;
    let products = page
        .items
        .iter()
        .map(|i| {
            keys::product_of_json(i)
                .ok_or_else(|| StoreError::Invalid("listing entry does not parse".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let next = ctx.cursors.next_cursor(&scope, page.next.as_ref()).await?;
    Ok((with_stock(ctx, products).await?, next))
}

async fn with_stock(
    ctx: &Context,
    products: Vec<Product>,
) -> Result<Vec<ProductView>, CatalogError> {
    let skus: Vec<_> = products.iter().map(|p| p.sku.clone()).collect();
    let available = inventory::read::available(ctx.store.as_ref(), &skus).await?;
    Ok(products
        .into_iter()
        .zip(available)
        .map(|(product, available)| ProductView {
            product,
            stock: StockView { available },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_product_page_read_decodes_what_the_item_read_does() {
        let ctx = lite_ports::testing::memory_context();
        let id = crate::testing::product(&ctx, "SKU-JSON-1", "laptops", 129_900).await;
        let id = ProductId::parse(&id).expect("an id");
        let by_item = load(&ctx, &id).await.unwrap().expect("stored").product;
        let page = get(&ctx, &id).await.expect("the page");
        assert_eq!(page.product, by_item);
        let missing = ProductId::generate(ctx.ids.as_ref());
        assert!(matches!(
            get(&ctx, &missing).await,
            Err(CatalogError::NotFound)
        ));
    }
}
