//! The scenario: every function of the template invoked with an event of
//! its kind, in an order where each finds what it needs (a product before
//! the cart, a cart before the order, an order before the saga's tasks),
//! with the answers checked. Route requests come from infra/routes.json;
//! tokens come from the auth functions themselves (the administrator from
//! the custom resource's generated secret, a customer from signup).

use super::flow::{self, Mapping, StreamCursor};
use super::harness::Harness;
use super::http::{self, Reply, Req, Route};
use super::moto::Service;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Consumers whose backend the rehearsal cannot run: every message they get
/// must come back as failed (and stay on their queue for retries).
pub const NOT_EMULATED: &[(&str, &str)] = &[(
    "search-indexer",
    "OpenSearch Serverless is not emulated: its endpoint is a stand-in answering 503",
)];

pub struct Plan {
    pub routes: BTreeMap<String, Route>,
    pub mappings: Vec<Mapping>,
    pub events_dir: std::path::PathBuf,
    /// The admin secret's ARN (the custom resource's `SecretArn`).
    pub admin_secret_arn: String,
    /// The provider framework's function ARN (the custom resource's ServiceToken).
    pub service_token: String,
    /// The URL the custom resource's response goes to (served by the rehearsal).
    pub response_url: String,
    pub state_machine_arn: String,
    pub counter: usize,
}

impl Plan {
    fn sample(&self, name: &str) -> Result<Value, String> {
        let path = self.events_dir.join(format!("{name}.json"));
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Invokes a route function; the checked reply.
    pub async fn call(&mut self, h: &mut Harness, function: &str, req: Req) -> Option<Reply> {
        let Some(route) = self.routes.get(function).cloned() else {
            h.fail(function, "not a route of infra/routes.json");
            return None;
        };
        if route.auth != "public" && req.bearer.is_none() && req.expect < 400 {
            h.fail(
                function,
                format!("the plan sends no token to a {} route", route.auth),
            );
        }
        self.counter += 1;
        let event = match http::event(&route, &req, self.counter) {
            Ok(e) => e,
            Err(e) => {
                h.fail(function, e);
                return None;
            }
        };
        let answer = h.expect_response(function, event).await?;
        match http::check(&answer, req.expect) {
            Ok(reply) => {
                println!(
                    "  {function}: {} {} -> {}",
                    route.method, route.path, reply.status
                );
                Some(reply)
            }
            Err(e) => {
                h.fail(function, format!("{} {}: {e}", route.method, route.path));
                None
            }
        }
    }

    /// `field` of a reply's body as a string, or a failure naming it.
    fn take(h: &mut Harness, function: &str, reply: &Option<Reply>, pointer: &str, var: &str) {
        let Some(r) = reply else { return };
        match r.body.pointer(pointer).and_then(Value::as_str) {
            Some(v) => {
                h.vars.insert(var.to_owned(), v.to_owned());
            }
            None => h.fail(function, format!("the answer has no {pointer}: {}", r.body)),
        }
    }

    fn require(h: &mut Harness, function: &str, reply: &Option<Reply>, pointers: &[&str]) {
        let Some(r) = reply else { return };
        for p in pointers {
            if r.body.pointer(p).is_none() {
                h.fail(function, format!("the answer has no {p}: {}", r.body));
            }
        }
    }

    /// The administrator bootstrap, as CloudFormation's provider framework
    /// calls it on Create.
    pub async fn admin_bootstrap(&mut self, h: &mut Harness) {
        let name = "auth-admin-bootstrap";
        let mut event = match self.sample(name) {
            Ok(e) => e,
            Err(e) => return h.fail(name, e),
        };
        event["ResponseURL"] = json!(self.response_url);
        event["ServiceToken"] = json!(self.service_token);
        event["ResourceProperties"]["ServiceToken"] = json!(self.service_token);
        event["ResourceProperties"]["SecretArn"] = json!(self.admin_secret_arn);
        event["StackId"] =
            json!("arn:aws:cloudformation:us-east-1:123456789012:stack/AmazonLiteStack/rehearsal");
        let Some(answer) = h.expect_response(name, event).await else {
            return;
        };
        // The framework turns this answer into the document it PUTs to the
        // ResponseURL; the handler itself must not write there.
        match (
            answer["PhysicalResourceId"].as_str(),
            answer["Data"]["UserId"].as_str(),
        ) {
            (Some(_), Some(user)) => {
                println!(
                    "  {name}: Create -> {} (admin {user})",
                    answer["Data"]["Outcome"]
                );
            }
            _ => h.fail(
                name,
                format!("answered {answer}, not {{PhysicalResourceId, Data.UserId}}"),
            ),
        }
        let wrote = h
            .received
            .lock()
            .expect("lock")
            .iter()
            .any(|r| r.method == "PUT" && r.path.starts_with("/cfn-response"));
        if wrote {
            h.fail(
                name,
                "wrote to the ResponseURL itself (the provider framework does)",
            );
        }
    }

    /// The route functions that build the shop up to two placed orders.
    pub async fn shop(&mut self, h: &mut Harness) {
        let admin_secret: Value = h
            .provisioned
            .secrets
            .get(&self.admin_secret_arn)
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or(Value::Null);

        let r = self.call(h, "api-health", Req::expect(200)).await;
        if let Some(r) = &r {
            if r.body["status"] != "ok" {
                h.fail("api-health", format!("answered {}", r.body));
            }
        }
        let r = self.call(h, "api-openapi", Req::expect(200)).await;
        Self::require(h, "api-openapi", &r, &["/openapi", "/paths/~1v1~1orders"]);
        // The bootstrap published the signing key: the JWKS names it.
        let r = self.call(h, "auth-jwks", Req::expect(200)).await;
        if let Some(r) = &r {
            if r.body["keys"].as_array().is_none_or(Vec::is_empty) {
                h.fail("auth-jwks", format!("no key published: {}", r.body));
            }
        }

        let email = format!("rehearsal-{}@example.com", std::process::id());
        let r = self
            .call(h, "auth-signup", Req::expect(201).body(json!({"email": email, "password": "rehearsal passphrase 42", "name": "Rehearsal Shopper"})))
            .await;
        Self::take(h, "auth-signup", &r, "/accessToken", "customer");
        Self::take(h, "auth-signup", &r, "/refreshToken", "refresh");
        Self::take(h, "auth-signup", &r, "/user/id", "user");
        let r = self
            .call(
                h,
                "auth-login",
                Req::expect(200).body(
                    json!({"email": admin_secret["email"], "password": admin_secret["password"]}),
                ),
            )
            .await;
        Self::take(h, "auth-login", &r, "/accessToken", "admin");
        if let Some(r) = &r {
            if !r.body["user"]["roles"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "admin"))
            {
                h.fail(
                    "auth-login",
                    format!(
                        "the bootstrapped account is not an admin: {}",
                        r.body["user"]
                    ),
                );
            }
        }
        let (customer, admin) = (h.var("customer"), h.var("admin"));
        let r = self
            .call(h, "auth-validate", Req::expect(200).bearer(&customer))
            .await;
        Self::require(h, "auth-validate", &r, &["/sub", "/roles", "/exp"]);
        let r = self
            .call(
                h,
                "auth-refresh",
                Req::expect(200).body(json!({"refreshToken": h.var("refresh")})),
            )
            .await;
        Self::take(h, "auth-refresh", &r, "/refreshToken", "refresh");
        // Google sign-in is not configured in this deploy: documented 503.
        self.call(h, "auth-google-start", Req::expect(503)).await;
        self.call(
            h,
            "auth-google-callback",
            Req::expect(503).query("code=c&state=s"),
        )
        .await;

        let sku = format!("RH-{}", std::process::id());
        let r = self
            .call(h, "catalog-create-product", Req::expect(201).bearer(&admin).body(json!({
                "sku": sku, "name": "Rehearsal Laptop", "category": "laptops", "brand": "Northwind",
                "description": "Made by the deploy rehearsal", "price": {"amount": 99900, "currency": "USD"}})))
            .await;
        Self::take(h, "catalog-create-product", &r, "/id", "product");
        Self::take(h, "catalog-create-product", &r, "/sku", "sku");
        let product = h.var("product");
        let r = self
            .call(
                h,
                "catalog-list-products",
                Req::expect(200).query("limit=5"),
            )
            .await;
        Self::require(h, "catalog-list-products", &r, &["/items"]);
        let r = self
            .call(
                h,
                "catalog-get-product",
                Req::expect(200).param("id", &product),
            )
            .await;
        Self::require(
            h,
            "catalog-get-product",
            &r,
            &["/id", "/price/amount", "/rating"],
        );
        self.call(
            h,
            "catalog-get-product",
            Req::expect(404).param("id", "prd_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C"),
        )
        .await;
        self.call(
            h,
            "catalog-update-product",
            Req::expect(200)
                .bearer(&admin)
                .param("id", &product)
                .body(json!({"name": "Rehearsal Laptop 2"})),
        )
        .await;
        self.call(
            h,
            "catalog-update-product",
            Req::expect(403)
                .bearer(&customer)
                .param("id", &product)
                .body(json!({"name": "x"})),
        )
        .await;
        self.call(
            h,
            "inventory-put-stock",
            Req::expect(200)
                .bearer(&admin)
                .param("sku", &sku)
                .body(json!({"available": 20})),
        )
        .await;
        let r = self
            .call(
                h,
                "inventory-get-stock",
                Req::expect(200).bearer(&admin).param("sku", &sku),
            )
            .await;
        if let Some(r) = &r {
            if r.body["available"] != 20 {
                h.fail(
                    "inventory-get-stock",
                    format!("available is not 20: {}", r.body),
                );
            }
        }

        let r = self
            .call(h, "users-get-me", Req::expect(200).bearer(&customer))
            .await;
        Self::require(h, "users-get-me", &r, &["/id", "/email"]);
        self.call(
            h,
            "users-update-me",
            Req::expect(200)
                .bearer(&customer)
                .body(json!({"name": "Rehearsal Shopper 2"})),
        )
        .await;
        let address = json!({"label": "Home", "line1": "1 Main St", "city": "Springfield", "region": "IL",
                             "postalCode": "62701", "country": "US", "isDefault": true});
        let r = self
            .call(
                h,
                "users-create-address",
                Req::expect(201).bearer(&customer).body(address.clone()),
            )
            .await;
        Self::take(h, "users-create-address", &r, "/id", "address");
        self.call(
            h,
            "users-list-addresses",
            Req::expect(200).bearer(&customer),
        )
        .await;
        self.call(
            h,
            "users-replace-address",
            Req::expect(200)
                .bearer(&customer)
                .param("id", &h.var("address"))
                .body(address),
        )
        .await;
        self.call(
            h,
            "users-get-preferences",
            Req::expect(200).bearer(&customer),
        )
        .await;
        self.call(
            h,
            "users-put-preferences",
            Req::expect(200).bearer(&customer).body(json!({
            "marketingEmails": false, "orderUpdates": true, "currency": "USD", "language": "en"})),
        )
        .await;

        // A guest cart, merged into the customer's at sign-in.
        let r = self
            .call(
                h,
                "cart-add-item",
                Req::expect(200).body(json!({"productId": product, "quantity": 2})),
            )
            .await;
        Self::take(h, "cart-add-item", &r, "/cartToken", "cart");
        let cart = h.var("cart");
        self.call(
            h,
            "cart-update-item",
            Req::expect(200)
                .header("x-cart-token", &cart)
                .param("productId", &product)
                .body(json!({"quantity": 3})),
        )
        .await;
        let r = self
            .call(
                h,
                "cart-get",
                Req::expect(200).header("x-cart-token", &cart),
            )
            .await;
        if let Some(r) = &r {
            if r.body["itemCount"] != 3 {
                h.fail("cart-get", format!("itemCount is not 3: {}", r.body));
            }
        }
        self.call(
            h,
            "cart-merge",
            Req::expect(200)
                .bearer(&customer)
                .header("x-cart-token", &cart),
        )
        .await;
        self.call(
            h,
            "cart-remove-item",
            Req::expect(200)
                .bearer(&customer)
                .param("productId", &product),
        )
        .await;
        self.call(
            h,
            "cart-add-item",
            Req::expect(200)
                .bearer(&customer)
                .body(json!({"productId": product, "quantity": 1})),
        )
        .await;
    }

    /// Places an order from the customer's cart (re-filled for each order).
    pub async fn place(&mut self, h: &mut Harness, var: &str, token: &str, refill: bool) {
        let customer = h.var("customer");
        if refill {
            self.call(
                h,
                "cart-add-item",
                Req::expect(200)
                    .bearer(&customer)
                    .body(json!({"productId": h.var("product"), "quantity": 1})),
            )
            .await;
        }
        let r = self
            .call(h, "orders-place", Req::expect(202).bearer(&customer).header("idempotency-key", &format!("rehearsal-{var}"))
                .body(json!({"addressId": h.var("address"), "payment": {"method": "card", "token": token}})))
            .await;
        Self::take(h, "orders-place", &r, "/id", var);
        if let Some(r) = &r {
            if r.body["status"] != "PENDING" {
                h.fail("orders-place", format!("status is not PENDING: {}", r.body));
            }
            h.vars
                .insert(format!("{var}.total"), r.body["total"].to_string());
        }
    }

    /// Reviews (one created, listed, updated, approved by the admin; the
    /// reject and delete come later).
    pub async fn reviews(&mut self, h: &mut Harness) {
        let (customer, admin, product) = (h.var("customer"), h.var("admin"), h.var("product"));
        let r = self
            .call(h, "reviews-create", Req::expect(201).bearer(&customer).param("id", &product)
                .body(json!({"rating": 5, "title": "Solid machine", "body": "Fast, quiet and light."})))
            .await;
        Self::take(h, "reviews-create", &r, "/id", "review");
        let review = h.var("review");
        self.call(
            h,
            "reviews-update",
            Req::expect(200)
                .bearer(&customer)
                .param("id", &review)
                .body(json!({"title": "Very solid machine"})),
        )
        .await;
        let r = self
            .call(h, "reviews-admin-list", Req::expect(200).bearer(&admin))
            .await;
        Self::require(h, "reviews-admin-list", &r, &["/items"]);
        self.call(
            h,
            "reviews-approve",
            Req::expect(200).bearer(&admin).param("id", &review),
        )
        .await;
        let r = self
            .call(h, "reviews-list", Req::expect(200).param("id", &product))
            .await;
        Self::require(h, "reviews-list", &r, &["/items"]);
    }

    /// The saga's tasks as Step Functions would call them: orders A and C
    /// go through reserve, authorize (the sandbox provider's webhook comes
    /// back to the rehearsal's stand-in API), commit and confirm; order B is
    /// reserved, then compensated (release, void, fail).
    pub async fn saga_tasks(&mut self, h: &mut Harness) {
        for var in ["orderA", "orderB", "orderC"] {
            let order = h.var(var);
            let items = json!([{"sku": h.var("sku"), "quantity": 1}]);
            let out = h
                .expect_response(
                    "checkout-reserve-stock",
                    task(
                        "reserveStock",
                        &order,
                        json!({"items": items, "holdSeconds": 900}),
                    ),
                )
                .await;
            expect_output(
                h,
                "checkout-reserve-stock",
                var,
                out,
                json!({"reserved": true}),
            );
        }
        self.confirm(h, "orderA").await;
        self.confirm(h, "orderC").await;
        let b = h.var("orderB");
        for (name, t, extra) in [
            (
                "checkout-release-stock",
                "releaseStock",
                json!({"reason": "payment_declined"}),
            ),
            (
                "checkout-void-payment",
                "voidPayment",
                json!({"reason": "payment_declined"}),
            ),
            (
                "checkout-fail-order",
                "failOrder",
                json!({"reason": "payment_declined", "detail": "rehearsal"}),
            ),
        ] {
            let out = h.expect_response(name, task(t, &b, extra)).await;
            expect_output(h, name, "orderB", out, json!({}));
        }
        // A task function refuses another task's payload.
        if let Some(lite_fake_runtime::Answer::Response(o)) = h
            .invoke("checkout-fail-order", task("commitStock", &b, json!({})))
            .await
        {
            h.fail(
                "checkout-fail-order",
                format!("ran another task's payload: {o}"),
            );
        }
    }

    /// Authorize (tok_visa), commit and confirm one reserved order.
    async fn confirm(&mut self, h: &mut Harness, var: &str) {
        let order = h.var(var);
        let total: Value =
            serde_json::from_str(&h.var(&format!("{var}.total"))).unwrap_or(Value::Null);
        let before = h.received.lock().expect("lock").len();
        let out = h
            .expect_response(
                "checkout-authorize-payment",
                task("authorizePayment", &order, json!({"userId": h.var("user"), "amount": total,
                    "paymentToken": "tok_visa", "taskToken": format!("rehearsal-task-token-{var}")})),
            )
            .await;
        expect_output(h, "checkout-authorize-payment", var, out, json!({}));
        let webhook = h.received.lock().expect("lock")[before..]
            .iter()
            .find(|r| r.path == "/v1/payments/webhook")
            .cloned();
        let Some(w) = webhook else {
            return h.fail(
                "checkout-authorize-payment",
                format!("{var}: the sandbox provider sent no webhook to PAYMENT_WEBHOOK_URL"),
            );
        };
        let body: Value = serde_json::from_str(&w.body).unwrap_or(Value::Null);
        let payment = body["data"]["paymentId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        println!(
            "  sandbox provider: webhook {} for {var} received at the stand-in API endpoint",
            body["type"]
        );
        let sig = w
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("payment-signature"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        // As on AWS, the webhook reaches payments-webhook while the task
        // waits: the payment is authorized before the stock is committed.
        // Its task token was made up (moto ran no execution up to that
        // task), so Step Functions refuses it and the function logs the
        // outcome as stale, answering 200.
        self.call(
            h,
            "payments-webhook",
            Req::expect(200)
                .header("payment-signature", &sig)
                .raw(&w.body),
        )
        .await;
        h.vars.insert("webhook.body".into(), w.body.clone());
        let out = h
            .expect_response(
                "checkout-commit-stock",
                task("commitStock", &order, json!({})),
            )
            .await;
        expect_output(
            h,
            "checkout-commit-stock",
            var,
            out,
            json!({"committed": true}),
        );
        let out = h
            .expect_response(
                "checkout-confirm-order",
                task("confirmOrder", &order, json!({"paymentId": payment})),
            )
            .await;
        expect_output(h, "checkout-confirm-order", var, out, json!({}));
    }

    /// The routes that need the saga's results, and the ones that remove things.
    pub async fn after_saga(&mut self, h: &mut Harness) {
        let (customer, admin) = (h.var("customer"), h.var("admin"));
        let (a, b) = (h.var("orderA"), h.var("orderB"));
        // Order A's webhook again, with a signature not made with the secret.
        let webhook = h.var("webhook.body");
        if !webhook.is_empty() {
            // Signed with another key: refused, nothing changed.
            let forged = forged_signature();
            self.call(
                h,
                "payments-webhook",
                Req::expect(400)
                    .header("payment-signature", &forged)
                    .raw(&webhook),
            )
            .await;
        }
        let r = self
            .call(
                h,
                "payments-get-order-payment",
                Req::expect(200).bearer(&customer).param("id", &a),
            )
            .await;
        Self::require(h, "payments-get-order-payment", &r, &["/status"]);
        let r = self
            .call(
                h,
                "orders-get",
                Req::expect(200).bearer(&customer).param("id", &a),
            )
            .await;
        if let Some(r) = &r {
            if r.body["status"] != "CONFIRMED" {
                h.fail(
                    "orders-get",
                    format!(
                        "order A is not CONFIRMED after the tasks: {}",
                        r.body["status"]
                    ),
                );
            }
        }
        let r = self
            .call(
                h,
                "orders-get",
                Req::expect(200).bearer(&customer).param("id", &b),
            )
            .await;
        if let Some(r) = &r {
            if r.body["status"] != "FAILED" {
                h.fail(
                    "orders-get",
                    format!(
                        "order B is not FAILED after the compensation: {}",
                        r.body["status"]
                    ),
                );
            }
        }
        let r = self
            .call(h, "orders-list", Req::expect(200).bearer(&customer))
            .await;
        Self::require(h, "orders-list", &r, &["/items"]);
        self.call(
            h,
            "orders-ship",
            Req::expect(200).bearer(&admin).param("id", &a),
        )
        .await;
        self.call(
            h,
            "orders-ship",
            Req::expect(409).bearer(&admin).param("id", &b),
        )
        .await;
        self.call(
            h,
            "orders-cancel",
            Req::expect(200)
                .bearer(&customer)
                .param("id", &h.var("orderC")),
        )
        .await;
        self.call(
            h,
            "orders-cancel",
            Req::expect(409).bearer(&customer).param("id", &a),
        )
        .await;
        let r = self
            .call(h, "notifications-list", Req::expect(200).bearer(&customer))
            .await;
        Self::require(h, "notifications-list", &r, &["/items"]);
        // OpenSearch is not emulated: the search routes answer their
        // documented 503 (problem+json, retry later).
        self.call(h, "search-query", Req::expect(503).query("q=laptop"))
            .await;
        self.call(h, "search-suggest", Req::expect(503).query("q=lap"))
            .await;
        let review = h.var("review");
        self.call(
            h,
            "reviews-reject",
            Req::expect(200).bearer(&admin).param("id", &review),
        )
        .await;
        self.call(
            h,
            "reviews-delete",
            Req::expect(204).bearer(&customer).param("id", &review),
        )
        .await;
        self.call(
            h,
            "users-delete-address",
            Req::expect(204)
                .bearer(&customer)
                .param("id", &h.var("address")),
        )
        .await;
        self.call(
            h,
            "catalog-delete-product",
            Req::expect(204)
                .bearer(&admin)
                .param("id", &h.var("product")),
        )
        .await;
        self.call(
            h,
            "auth-logout",
            Req::expect(204)
                .bearer(&customer)
                .body(json!({"refreshToken": h.var("refresh")})),
        )
        .await;
        // That access token is rejected from then on.
        self.call(h, "auth-validate", Req::expect(401).bearer(&customer))
            .await;
    }

    /// The relay on the stream's new records, then every consumer on its queue.
    pub async fn drain(
        &mut self,
        h: &mut Harness,
        cursor: &mut StreamCursor,
    ) -> Result<(), String> {
        for m in self.mappings.clone() {
            if m.source_arn.contains(":dynamodb:") {
                let n = flow::relay(h, &m, cursor).await?;
                println!(
                    "  {}: {n} outbox record(s) from the table's stream",
                    m.function
                );
            }
        }
        for m in self.mappings.clone() {
            if m.source_arn.starts_with("arn:aws:sqs:") {
                let expect_failed = NOT_EMULATED.iter().any(|(f, _)| *f == m.function);
                let n = flow::consume(h, &m, expect_failed).await?;
                if n > 0 {
                    println!(
                        "  {}: {n} message(s) from its queue{}",
                        m.function,
                        if expect_failed {
                            " (reported failed, as expected)"
                        } else {
                            ""
                        }
                    );
                }
            }
        }
        Ok(())
    }

    /// The sweeper, as its schedule invokes it.
    pub async fn sweeper(&mut self, h: &mut Harness) {
        let name = "inventory-reservation-sweeper";
        let event = match self.sample(name) {
            Ok(e) => e,
            Err(e) => return h.fail(name, e),
        };
        if let Some(o) = h.expect_response(name, event).await {
            if !o["released"].is_u64() {
                h.fail(name, format!("answered {o}, not {{\"released\": n}}"));
            } else {
                println!("  {name}: released {}", o["released"]);
            }
        }
    }

    /// The executions checkout-start started, as Step Functions lists them.
    pub async fn executions(&self, h: &Harness) -> Result<Vec<(String, String)>, String> {
        let listed = h
            .moto
            .call(
                Service::States,
                "ListExecutions",
                json!({"stateMachineArn": self.state_machine_arn}),
            )
            .await?;
        Ok(listed["executions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["name"].as_str().unwrap_or("").to_owned(),
                    e["status"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect())
    }
}

/// A `Payment-Signature` header of the right shape, for now, whose MAC was
/// not made with the webhook secret.
pub fn forged_signature() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("t={t},v1={}", "0".repeat(64))
}

/// A task input as the state machine's `Parameters.Payload` builds it.
fn task(name: &str, order: &str, extra: Value) -> Value {
    let mut v =
        json!({"task": name, "orderId": order, "correlationId": format!("rehearsal-{name}")});
    for (k, x) in extra.as_object().cloned().unwrap_or_default() {
        v[k] = x;
    }
    v
}

/// A task's output must be exactly its documented one.
fn expect_output(h: &mut Harness, name: &str, order: &str, out: Option<Value>, expected: Value) {
    if let Some(o) = out {
        if o != expected {
            h.fail(name, format!("{order}: answered {o}, not {expected}"));
        }
    }
}
