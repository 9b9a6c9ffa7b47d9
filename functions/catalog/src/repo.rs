//! Catalog operations on the store. Every write is one transaction that
//! also writes the listing entries and the outbox event, so a product, its
//! listings and its event never disagree.

use crate::domain::{
    Fields, NewProduct, Product, ProductId, ProductPatch, ProductView, Rating, Sort, StockView,
};
use crate::{events, keys, CatalogError};
use lite_http::Context;
use lite_store::{Condition, Index, Query, SkCondition, StoreError, TxOp};
use std::collections::HashSet;

/// Optimistic-concurrency attempts before a write gives up with 409.
pub(crate) const WRITE_ATTEMPTS: usize = 5;

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
        TxOp::Put {
            item: keys::product_item(&product, 1, 0),
            condition: Some(Condition::NotExists),
        },
        TxOp::Put {
            item: keys::sku_item(&product),
            condition: Some(Condition::NotExists),
        },
    ];
    ops.extend(
        keys::listing_items(&product)
            .into_iter()
            .map(|item| TxOp::Put {
                item,
                condition: None,
            }),
    );
    ops.push(lite_events::outbox::put(&events::created(ctx, &product)));
    match ctx.store.transact(ops).await {
        Ok(()) => Ok(product),
        Err(StoreError::TransactionCanceled { failed }) if failed.contains(&1) => {
            Err(CatalogError::SkuTaken)
        }
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

pub async fn get(ctx: &Context, id: &ProductId) -> Result<ProductView, CatalogError> {
    let loaded = load(ctx, id).await?.ok_or(CatalogError::NotFound)?;
    view(ctx, loaded.product).await
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
    for _ in 0..WRITE_ATTEMPTS {
        let loaded = load(ctx, id).await?.ok_or(CatalogError::NotFound)?;
        let current = &loaded.product;
        let fields = patch.clone().apply(current)?;
        if fields == fields_of(current) {
            return Ok(loaded.product);
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
        if replace(ctx, &loaded, &updated, rating_version).await? {
            return Ok(updated);
        }
    }
    Err(CatalogError::Contended)
}

/// Replaces `loaded` with `updated` in one transaction: the product item
/// (conditional on its version), its listing entries (moved when their
/// keys change) and `product.updated.v1`. `Ok(false)` when the product
/// changed since it was loaded (the caller reloads and tries again).
pub(crate) async fn replace(
    ctx: &Context,
    loaded: &Loaded,
    updated: &Product,
    rating_version: u64,
) -> Result<bool, CatalogError> {
    let mut ops = vec![TxOp::Put {
        item: keys::product_item(updated, loaded.version + 1, rating_version),
        condition: Some(Condition::eq("version", loaded.version)),
    }];
    let new_items = keys::listing_items(updated);
    let new_keys: HashSet<_> = new_items
        .iter()
        .filter_map(|i| lite_store::Key::of(i).ok())
        .collect();
    ops.extend(new_items.into_iter().map(|item| TxOp::Put {
        item,
        condition: None,
    }));
    ops.extend(
        keys::listing_keys(&loaded.product)
            .into_iter()
            .filter(|k| !new_keys.contains(k))
            .map(|key| TxOp::Delete {
                key,
                condition: None,
            }),
    );
    ops.push(lite_events::outbox::put(&events::updated(ctx, updated)));
    match ctx.store.transact(ops).await {
        Ok(()) => Ok(true),
        Err(StoreError::TransactionCanceled { failed }) if failed == [0] => Ok(false),
        Err(StoreError::Contention) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(ctx: &Context, id: &ProductId) -> Result<(), CatalogError> {
    for _ in 0..WRITE_ATTEMPTS {
        let Loaded {
            product: current,
            version,
            ..
        } = load(ctx, id).await?.ok_or(CatalogError::NotFound)?;
        let mut ops = vec![
            TxOp::Delete {
                key: keys::product(id),
                condition: Some(Condition::eq("version", version)),
            },
            TxOp::Delete {
                key: keys::sku(&current.sku),
                condition: Some(Condition::eq("productId", current.id.as_str())),
            },
        ];
        ops.extend(
            keys::listing_keys(&current)
                .into_iter()
                .map(|key| TxOp::Delete {
                    key,
                    condition: None,
                }),
        );
        ops.push(lite_events::outbox::put(&events::deleted(ctx, &current)));
        match ctx.store.transact(ops).await {
            Ok(()) => return Ok(()),
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => continue,
            Err(StoreError::Contention) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CatalogError::Contended)
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
    let page = ctx.store.query(&query).await?;
    let products = page
        .items
        .iter()
        .map(|i| {
            keys::product_of(i)
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
