//! API Gateway HTTP API (payload 2.0) requests for route functions, built
//! from infra/routes.json, and the checks on their answers: the expected
//! status, problem+json for every error, JSON for the rest.

use serde_json::{json, Map, Value};

/// One route of infra/routes.json.
#[derive(Debug, Clone)]
pub struct Route {
    pub function: String,
    pub method: String,
    pub path: String,
    pub auth: String,
}

pub fn read_routes(text: &str) -> Result<Vec<Route>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("routes: {e}"))?;
    let list = v.get("routes").unwrap_or(&v);
    list.as_array()
        .ok_or("routes: not a list")?
        .iter()
        .map(|r| {
            let s = |k: &str| {
                r[k].as_str()
                    .map(str::to_owned)
                    .ok_or(format!("routes: an entry without {k}: {r}"))
            };
            Ok(Route {
                function: s("function")?,
                method: s("method")?,
                path: s("path")?,
                auth: s("auth")?,
            })
        })
        .collect()
}

/// What to send to a route and what must come back.
#[derive(Debug, Clone, Default)]
pub struct Req {
    pub params: Vec<(String, String)>,
    pub query: String,
    pub headers: Vec<(String, String)>,
    /// The exact body bytes (JSON unless a test says otherwise).
    pub body: Option<String>,
    pub bearer: Option<String>,
    pub expect: u16,
}

impl Req {
    pub fn expect(status: u16) -> Req {
        Req {
            expect: status,
            ..Req::default()
        }
    }
    pub fn param(mut self, k: &str, v: &str) -> Req {
        self.params.push((k.into(), v.into()));
        self
    }
    pub fn query(mut self, q: &str) -> Req {
        self.query = q.into();
        self
    }
    pub fn header(mut self, k: &str, v: &str) -> Req {
        self.headers.push((k.to_lowercase(), v.into()));
        self
    }
    pub fn body(mut self, b: Value) -> Req {
        self.body = Some(b.to_string());
        self
    }
    /// A body sent byte for byte (a signed webhook).
    pub fn raw(mut self, b: &str) -> Req {
        self.body = Some(b.to_owned());
        self
    }
    pub fn bearer(mut self, token: &str) -> Req {
        self.bearer = Some(token.into());
        self
    }
}

/// The path with `{name}` parameters filled in; an unfilled one is an error.
pub fn fill(
    path: &str,
    params: &[(String, String)],
) -> Result<(String, Map<String, Value>), String> {
    let mut out = String::new();
    let mut map = Map::new();
    for segment in path.split('/').skip(1) {
        out.push('/');
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                let (_, v) = params
                    .iter()
                    .find(|(k, _)| k == name)
                    .ok_or_else(|| format!("{path}: no value for {{{name}}}"))?;
                out.push_str(v);
                map.insert(name.to_owned(), json!(v));
            }
            None => out.push_str(segment),
        }
    }
    Ok((out, map))
}

/// The API Gateway event for `req` on `route`.
pub fn event(route: &Route, req: &Req, n: usize) -> Result<Value, String> {
    let (path, params) = fill(&route.path, &req.params)?;
    let mut headers = Map::new();
    for (k, v) in [
        ("accept", "application/json"),
        ("host", "api.rehearsal.example.com"),
        ("user-agent", "amazon-lite-rehearsal"),
        ("x-forwarded-for", "203.0.113.10"),
        ("x-forwarded-port", "443"),
        ("x-forwarded-proto", "https"),
    ] {
        headers.insert(k.into(), json!(v));
    }
    headers.insert("x-correlation-id".into(), json!(format!("rehearsal-{n}")));
    let body = req.body.clone();
    if let Some(b) = &body {
        headers.insert("content-type".into(), json!("application/json"));
        headers.insert("content-length".into(), json!(b.len().to_string()));
    }
    if let Some(t) = &req.bearer {
        headers.insert("authorization".into(), json!(format!("Bearer {t}")));
    }
    for (k, v) in &req.headers {
        headers.insert(k.clone(), json!(v));
    }
    let route_key = format!("{} {}", route.method, route.path);
    let mut e = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": req.query,
        "headers": headers,
        "requestContext": {
            "accountId": super::resolve::ACCOUNT,
            "apiId": "rehearsal",
            "domainName": "api.rehearsal.example.com",
            "domainPrefix": "api",
            "http": {"method": route.method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.10", "userAgent": "amazon-lite-rehearsal"},
            "requestId": format!("rehearsal-request-{n}"),
            "routeKey": route_key,
            "stage": "$default",
            "time": "06/Dec/2026:12:00:00 +0000",
            "timeEpoch": 1796558400000u64
        },
        "isBase64Encoded": false
    });
    if !params.is_empty() {
        e["pathParameters"] = Value::Object(params);
    }
    if !req.query.is_empty() {
        let q: Map<String, Value> = req
            .query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), json!(v)))
            .collect();
        e["queryStringParameters"] = Value::Object(q);
    }
    if let Some(b) = body {
        e["body"] = json!(b);
    }
    Ok(e)
}

/// A route's answer, checked.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

/// Checks `answer` (the function's response document) against `expect`:
/// the status; an error is `application/problem+json` with `type`, `title`
/// and the same `status`; a JSON success body parses.
pub fn check(answer: &Value, expect: u16) -> Result<Reply, String> {
    let status = answer["statusCode"]
        .as_u64()
        .ok_or_else(|| format!("no statusCode in {answer}"))? as u16;
    let headers = answer["headers"].as_object().cloned().unwrap_or_default();
    let content_type = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .and_then(|(_, v)| v.as_str())
        .unwrap_or("")
        .to_owned();
    let raw = answer["body"].as_str().unwrap_or("");
    let text = if answer["isBase64Encoded"].as_bool() == Some(true) {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(|e| format!("body is not base64: {e}"))?;
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        raw.to_owned()
    };
    let body: Value = if text.is_empty() {
        Value::Null
    } else if content_type.contains("json") {
        serde_json::from_str(&text)
            .map_err(|e| format!("{status} with a {content_type} body that does not parse: {e}"))?
    } else {
        Value::String(text.clone())
    };
    let detail = || {
        body["detail"]
            .as_str()
            .or(body["title"].as_str())
            .unwrap_or("")
            .to_owned()
    };
    if status != expect {
        return Err(format!(
            "answered {status} (expected {expect}) {}",
            detail()
        ));
    }
    if status >= 400 {
        if !content_type.starts_with("application/problem+json") {
            return Err(format!(
                "{status} as {content_type:?}, not application/problem+json"
            ));
        }
        if body["status"].as_u64() != Some(status as u64)
            || !body["title"].is_string()
            || !body["type"].is_string()
        {
            return Err(format!(
                "{status}: the problem lacks type/title/status: {body}"
            ));
        }
    }
    Ok(Reply { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route() -> Route {
        Route {
            function: "catalog-get-product".into(),
            method: "GET".into(),
            path: "/v1/products/{id}".into(),
            auth: "public".into(),
        }
    }

    #[test]
    fn events_fill_path_parameters_and_name_missing_ones() {
        let e = event(
            &route(),
            &Req::expect(200)
                .param("id", "prd_1")
                .query("a=1&b=2")
                .bearer("t"),
            3,
        )
        .unwrap();
        assert_eq!(e["rawPath"], "/v1/products/prd_1");
        assert_eq!(e["routeKey"], "GET /v1/products/{id}");
        assert_eq!(e["pathParameters"]["id"], "prd_1");
        assert_eq!(e["queryStringParameters"]["b"], "2");
        assert_eq!(e["headers"]["authorization"], "Bearer t");
        assert!(event(&route(), &Req::expect(200), 1)
            .unwrap_err()
            .contains("{id}"));
    }

    #[test]
    fn answers_need_the_status_and_problem_json_for_errors() {
        let ok = json!({"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{\"a\":1}"});
        assert_eq!(check(&ok, 200).unwrap().body["a"], 1);
        assert!(check(&ok, 201).is_err());
        let problem = json!({"statusCode": 404, "headers": {"content-type": "application/problem+json"},
            "body": "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404}"});
        assert!(check(&problem, 404).is_ok());
        let plain =
            json!({"statusCode": 404, "headers": {"content-type": "text/plain"}, "body": "nope"});
        assert!(check(&plain, 404).unwrap_err().contains("problem+json"));
        let wrong = json!({"statusCode": 400, "headers": {"content-type": "application/problem+json"},
            "body": "{\"type\":\"x\",\"title\":\"Bad\",\"status\":500}"});
        assert!(check(&wrong, 400).is_err());
    }
}
