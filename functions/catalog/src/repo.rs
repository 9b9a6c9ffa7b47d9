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
    let product = keys::product_of(&item).ok_or_else(|| unreadable(id))?;
    Ok(Some(Loaded {
        product,
        version: keys::version_of(&item),
        rating_version: keys::rating_version_of(&item),
    }))
}

/// The product page's read, the hottest of the API: the item's JSON
/// decoded straight into the product (no `Item` tree), then its stock.
pub async fn get(ctx: &Context, id: &ProductId) -> Result<ProductView, CatalogError> {
    let json = product_json(ctx, id).await?;
    let product = keys::product_of_json(&json).ok_or_else(|| unreadable(id))?;
    view(ctx, product).await
}

/// The product item's JSON as stored.
async fn product_json(ctx: &Context, id: &ProductId) -> Result<Vec<u8>, CatalogError> {
    ctx.store
        .get_json(&keys::product(id))
        .await?
        .ok_or(CatalogError::NotFound)
}

fn unreadable(id: &ProductId) -> StoreError {
    StoreError::Invalid(format!("product item {id} does not parse"))
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
    let (page, next) = listing(ctx, params).await?;
    // The entries' JSON decoded straight into products (no `Item` trees).
    let products = keys::listing_entries(page.items(), keys::product_of_json)?;
    Ok((with_stock(ctx, products).await?, next))
}

/// The body of `GET /v1/products` ([`crate::body::page`]): what [`list`]
/// answers, as JSON, written from the stored products without decoding
/// them (decoding 20 products to encode them again was most of a
/// listing's time).
pub async fn list_body(ctx: &Context, params: &ListParams) -> Result<Vec<u8>, CatalogError> {
    let (page, next) = listing(ctx, params).await?;
    let products = keys::listing_entries(page.items(), keys::stored_product)?;
    let skus = products.iter().map(|p| &p.sku);
    let available = inventory::read::available(ctx.store.as_ref(), skus).await?;
    Ok(crate::body::page(&products, &available, next.as_deref()))
}

/// The body of `GET /v1/products/{id}` ([`crate::body::view`]): what
/// [`get`] answers, as JSON, without decoding the product.
pub async fn get_body(ctx: &Context, id: &ProductId) -> Result<Vec<u8>, CatalogError> {
    let json = product_json(ctx, id).await?;
    let product = keys::stored_product(&json).ok_or_else(|| unreadable(id))?;
    let available = inventory::read::available(ctx.store.as_ref(), [&product.sku]).await?;
    Ok(crate::body::view(
        &product,
        available.first().copied().unwrap_or(0),
    ))
}

/// One listing page's entries as stored, and the next page's cursor.
async fn listing(
    ctx: &Context,
    params: &ListParams,
) -> Result<(lite_store::JsonPage, Option<String>), CatalogError> {
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
    let page = ctx.store.query_json(&query).await?;
    let next = ctx.cursors.next_cursor(&scope, page.next.as_ref()).await?;
    Ok((page, next))
}

async fn with_stock(
    ctx: &Context,
    products: Vec<Product>,
) -> Result<Vec<ProductView>, CatalogError> {
    let skus = products.iter().map(|p| &p.sku);
    let available = inventory::read::available(ctx.store.as_ref(), skus).await?;
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
    use serde_json::{json, Value};

    /// The bodies written from the stored products are the JSON values the
    /// typed reads encode to: every listing shape (scopes, sorts, price
    /// ranges, pages with cursors) and the product page, with stock.
    #[tokio::test]
    async fn the_bodies_are_the_typed_answers_as_json() {
        let ctx = lite_ports::testing::memory_context();
        let mut ids = Vec::new();
        for (i, (category, amount)) in [
            ("laptops", 129_900),
            ("laptops", 89_900),
            ("audio", 4_999),
            ("audio", 19_999),
            ("laptops", 249_900),
        ]
        .into_iter()
        .enumerate()
        {
            let sku = format!("SKU-BODY-{i}");
            ids.push(crate::testing::product(&ctx, &sku, category, amount).await);
            if i % 2 == 0 {
                let sku = lite_core::Sku::parse(&sku).unwrap();
                inventory::set_available(
                    ctx.store.as_ref(),
                    ctx.clock.as_ref(),
                    &sku,
                    3 + i as i64,
                )
                .await
                .unwrap();
            }
        }
        let shapes = [
            (None, Sort::Newest, None, None),
            (Some("laptops"), Sort::PriceAsc, None, None),
            (None, Sort::PriceDesc, Some(5_000), Some(200_000)),
            (Some("audio"), Sort::Rating, None, None),
            (None, Sort::Newest, Some(10_000), None),
        ];
        for (category, sort, min_price, max_price) in shapes {
            let mut params = ListParams {
                category: category.map(str::to_owned),
                min_price,
                max_price,
                sort,
                limit: 2,
                cursor: None,
            };
            let mut pages = 0;
            loop {
                let (items, next) = list(&ctx, &params).await.unwrap();
                let typed = json!({"items": items, "nextCursor": next});
                let body: Value = serde_json::from_slice(&list_body(&ctx, &params).await.unwrap())
                    .expect("the listing body is JSON");
                assert_eq!(body, typed, "{category:?} {sort:?} page {pages}");
                pages += 1;
                match next {
                    Some(cursor) => params.cursor = Some(cursor),
                    None => break,
                }
            }
            assert!(pages >= 1);
        }
        for id in &ids {
            let id = ProductId::parse(id).unwrap();
            let typed = serde_json::to_value(get(&ctx, &id).await.unwrap()).unwrap();
            let body: Value = serde_json::from_slice(&get_body(&ctx, &id).await.unwrap())
                .expect("the product body is JSON");
            assert_eq!(body, typed);
        }
        let missing = ProductId::generate(ctx.ids.as_ref());
        assert!(matches!(
            get_body(&ctx, &missing).await,
            Err(CatalogError::NotFound)
        ));
    }

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
