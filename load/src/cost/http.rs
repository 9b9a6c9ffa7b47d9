//! API Gateway and the route Lambdas: every HTTP request is one HTTP API
//! request and, when the route table has its route, one invocation of that
//! route's function (`infra/routes.json`), timed around the whole finished
//! router (token and session check included, as the Lambda runs them).

use super::meter::Meter;
use super::scope;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// The deployed route table: (method, path segments, function).
pub struct Routes(Vec<(String, Vec<String>, String)>);

impl Routes {
    pub fn new<'a>(routes: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) -> Self {
        Routes(
            routes
                .into_iter()
                .map(|(method, path, function)| {
                    (
                        method.to_owned(),
                        segments(path).map(str::to_owned).collect(),
                        function.to_owned(),
                    )
                })
                .collect(),
        )
    }

    /// The project's route table.
    pub fn project() -> Self {
        let table = api::route_table();
        Routes::new(table.iter().map(|r| (r.method, r.path, r.function)))
    }

    /// The function serving `method path`: the route whose template matches
    /// with the most literal segments (API Gateway prefers the most specific).
    pub fn function(&self, method: &str, path: &str) -> Option<&str> {
        let parts: Vec<&str> = segments(path).collect();
        self.0
            .iter()
            .filter(|(m, template, _)| m == method && template.len() == parts.len())
            .filter_map(|(_, template, function)| {
                let mut literal = 0;
                for (t, p) in template.iter().zip(&parts) {
                    if t.starts_with('{') && t.ends_with('}') {
                        if p.is_empty() {
                            return None;
                        }
                    } else if t == p {
                        literal += 1;
                    } else {
                        return None;
                    }
                }
                Some((literal, function.as_str()))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, f)| f)
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.trim_matches('/').split('/')
}

#[derive(Clone)]
pub struct Metered {
    pub meter: Meter,
    pub routes: Arc<Routes>,
}

/// The middleware: counts the request and times the function's work.
pub async fn metered(State(m): State<Metered>, request: Request, next: Next) -> Response {
    m.meter.tally().api_requests += 1;
    let function = m
        .routes
        .function(request.method().as_str(), request.uri().path())
        .map(str::to_owned);
    match function {
        Some(function) => scope::invocation(&m.meter, &function, next.run(request)).await,
        // No route: API Gateway answers 404 itself, no function runs.
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_route_wins_and_unknown_paths_have_no_function() {
        let routes = Routes::new([
            ("GET", "/v1/products/{id}", "catalog-get-product"),
            ("GET", "/v1/products", "catalog-list-products"),
            ("GET", "/v1/products/{id}/reviews", "reviews-list"),
            ("GET", "/v1/orders/{id}", "orders-get"),
            ("GET", "/v1/orders/mine", "orders-mine"),
        ]);
        assert_eq!(
            routes.function("GET", "/v1/products/prd_1"),
            Some("catalog-get-product")
        );
        assert_eq!(
            routes.function("GET", "/v1/products"),
            Some("catalog-list-products")
        );
        assert_eq!(
            routes.function("GET", "/v1/products/prd_1/reviews"),
            Some("reviews-list")
        );
        assert_eq!(
            routes.function("GET", "/v1/orders/mine"),
            Some("orders-mine")
        );
        assert_eq!(
            routes.function("GET", "/v1/orders/ord_1"),
            Some("orders-get")
        );
        assert_eq!(routes.function("POST", "/v1/products/prd_1"), None);
        assert_eq!(routes.function("GET", "/v2/nothing"), None);
    }

    #[test]
    fn the_project_table_names_the_checkout_routes() {
        let routes = Routes::project();
        assert!(routes.function("POST", "/v1/orders").is_some());
        assert!(routes.function("POST", "/v1/cart/items").is_some());
        assert!(routes.function("POST", "/v1/payments/webhook").is_some());
        assert!(routes.function("GET", "/v1/products/prd_x").is_some());
    }
}
