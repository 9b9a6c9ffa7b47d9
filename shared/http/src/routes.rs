//! The route table: one entry per public route, naming the service and the
//! Lambda function that serves it, who may call it and what it may do to
//! the table. It is the single source the CDK routes are generated from
//! (`amazon-lite routes > infra/routes.json`), and tests hold it equal to
//! the router and the OpenAPI document.

use serde::Serialize;
use utoipa::openapi::path::{Operation, PathItem};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Access {
    Public,
    Bearer,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TableAccess {
    None,
    Read,
    ReadWrite,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteSpec {
    pub method: &'static str,
    /// OpenAPI/axum template, e.g. `/v1/products/{id}`.
    pub path: &'static str,
    /// The service crate (and Lambda binary) that serves it.
    pub service: &'static str,
    /// The deployed function's logical name.
    pub function: &'static str,
    pub auth: Access,
    pub table: TableAccess,
}

/// The operations a path item holds, with their methods, in one fixed
/// order (GET, POST, PUT, PATCH, DELETE: the methods routes use): how every
/// check walks the document.
pub fn operations(item: &PathItem) -> impl Iterator<Item = (&'static str, &Operation)> {
    [
        ("GET", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("PATCH", &item.patch),
        ("DELETE", &item.delete),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_ref().map(|op| (method, op)))
}

/// [`operations`], to change them.
pub fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("GET", &mut item.get),
        ("POST", &mut item.post),
        ("PUT", &mut item.put),
        ("PATCH", &mut item.patch),
        ("DELETE", &mut item.delete),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_mut().map(|op| (method, op)))
}

/// Checks that `specs` and the operations of `doc` name the same
/// (method, path) pairs, and that protected routes declare bearer security.
pub fn check_against_openapi(
    specs: &[RouteSpec],
    doc: &utoipa::openapi::OpenApi,
) -> Result<(), String> {
    use std::collections::BTreeSet;
    let mut documented = BTreeSet::new();
    let mut secured = BTreeSet::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in operations(item) {
            documented.insert((method.to_string(), path.clone()));
            if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                secured.insert((method.to_string(), path.clone()));
            }
        }
    }
    let table: BTreeSet<_> = specs
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let mut problems = Vec::new();
    for missing in table.difference(&documented) {
        problems.push(format!(
            "in the route table but not in OpenAPI: {} {}",
            missing.0, missing.1
        ));
    }
    for extra in documented.difference(&table) {
        problems.push(format!(
            "in OpenAPI but not in the route table: {} {}",
            extra.0, extra.1
        ));
    }
    for r in specs {
        let key = (r.method.to_string(), r.path.to_string());
        let needs = r.auth != Access::Public;
        if documented.contains(&key) && needs != secured.contains(&key) {
            problems.push(format!(
                "{} {}: OpenAPI security does not match auth {:?}",
                r.method, r.path, r.auth
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}
