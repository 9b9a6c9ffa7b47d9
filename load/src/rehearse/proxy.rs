//! The recording proxy a function's `AWS_ENDPOINT_URL` points at: every
//! request is recorded (signing service, operation, body) and forwarded to
//! moto as it is; moto's answer goes back unchanged. [`calls`] turns a
//! recorded request into the IAM action(s) and resource(s) AWS authorizes.

use super::iam::Call;
use super::resolve::{ACCOUNT, REGION};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// One request a function sent.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// From the credential scope of `Authorization` (`dynamodb`, `sqs`, ...).
    pub service: String,
    /// `X-Amz-Target`, the query protocol's `Action`, or `METHOD path`.
    pub operation: String,
    pub body: Value,
}

struct Proxy {
    moto: String,
    http: reqwest::Client,
    log: Arc<Mutex<Vec<Recorded>>>,
}

/// A running proxy: its URL and what it recorded.
pub struct Recording {
    pub url: String,
    pub log: Arc<Mutex<Vec<Recorded>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Recording {
    pub fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.log.lock().expect("lock"))
    }
}

pub async fn start(moto: &str) -> Result<Recording, String> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let proxy = Arc::new(Proxy {
        moto: moto.trim_end_matches('/').to_owned(),
        http: reqwest::Client::new(),
        log: log.clone(),
    });
    let router = Router::new().fallback(forward).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("proxy: {e}"))?;
    let url = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(Recording { url, log, server })
}

fn service_of(headers: &HeaderMap) -> String {
    // Credential=<key>/<date>/<region>/<service>/aws4_request
    headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("unknown")
        .to_owned()
}

async fn forward(
    State(proxy): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let service = service_of(&headers);
    let target = headers.get("x-amz-target").and_then(|h| h.to_str().ok());
    let form_action = || {
        std::str::from_utf8(&body).ok().and_then(|b| {
            b.split('&')
                .find_map(|kv| kv.strip_prefix("Action="))
                .map(str::to_owned)
        })
    };
    let operation = target
        .map(str::to_owned)
        .or_else(form_action)
        .unwrap_or_else(|| format!("{method} {}", uri.path()));
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut request = proxy
        .http
        .request(method.clone(), format!("{}{path}", proxy.moto))
        .body(body.clone());
    for (k, v) in headers.iter() {
        if k != "host" && k != "content-length" {
            request = request.header(k, v);
        }
    }
    let response = match request.send().await {
        Ok(r) => {
            let status = r.status();
            let mut builder = Response::builder().status(status.as_u16());
            for (k, v) in r.headers() {
                if k != "content-length" && k != "transfer-encoding" && k != "connection" {
                    builder = builder.header(k, v);
                }
            }
            let bytes = r.bytes().await.unwrap_or_default();
            builder.body(Body::from(bytes)).unwrap_or_default()
        }
        Err(e) => Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(Body::from(format!(
                "rehearsal proxy: moto did not answer: {e}"
            )))
            .unwrap_or_default(),
    };
    proxy.log.lock().expect("lock").push(Recorded {
        service,
        operation,
        body: json,
    });
    response
}

fn table_arn(name: &str) -> String {
    if name.starts_with("arn:") {
        name.to_owned()
    } else {
        format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}")
    }
}

fn queue_arn(url_or_name: &str) -> String {
    let name = url_or_name.rsplit('/').next().unwrap_or(url_or_name);
    format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}")
}

fn bus_arn(name: &str) -> String {
    if name.starts_with("arn:") {
        name.to_owned()
    } else {
        format!("arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}")
    }
}

/// The calls IAM authorizes for one request. A transaction is authorized
/// per item as the item's own action (there is no `TransactWriteItems`
/// permission); a batch is one action per table.
///
/// A task token names no resource in the request; AWS authorizes
/// `SendTask*` against the state machine that issued it, `token_machine`.
pub fn calls(r: &Recorded, token_machine: &str) -> Vec<Call> {
    let call = |action: String, resource: String| Call::new(action, resource);
    let op = r
        .operation
        .rsplit('.')
        .next()
        .unwrap_or(&r.operation)
        .to_owned();
    let b = &r.body;
    let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
    match (
        r.service.as_str(),
        r.operation.split('.').next().unwrap_or(""),
    ) {
        (_, "DynamoDBStreams_20120810") => {
            let arn = b["StreamArn"]
                .as_str()
                .or_else(|| b["ShardIterator"].as_str().map(|_| "*"))
                .unwrap_or("*");
            vec![call(format!("dynamodb:{op}"), arn.to_owned())]
        }
        (_, "DynamoDB_20120810") => match op.as_str() {
            "TransactWriteItems" | "TransactGetItems" => b["TransactItems"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|item| {
                    [
                        ("Put", "PutItem"),
                        ("Update", "UpdateItem"),
                        ("Delete", "DeleteItem"),
                        ("ConditionCheck", "ConditionCheckItem"),
                        ("Get", "GetItem"),
                    ]
                    .into_iter()
                    .filter(|(k, _)| item[*k].is_object())
                    .map(|(k, a)| {
                        call(
                            format!("dynamodb:{a}"),
                            table_arn(&s(&item[k]["TableName"])),
                        )
                    })
                    .collect::<Vec<_>>()
                })
                .collect(),
            "BatchGetItem" | "BatchWriteItem" => b["RequestItems"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.keys())
                .map(|t| call(format!("dynamodb:{op}"), table_arn(t)))
                .collect(),
            _ => {
                let mut arn = table_arn(&s(&b["TableName"]));
                if let Some(index) = b["IndexName"].as_str() {
                    arn = format!("{arn}/index/{index}");
                }
                vec![call(format!("dynamodb:{op}"), arn)]
            }
        },
        (_, "AmazonSQS") => {
            let q = b["QueueUrl"]
                .as_str()
                .or_else(|| b["QueueName"].as_str())
                .unwrap_or("*");
            vec![call(format!("sqs:{op}"), queue_arn(q))]
        }
        (_, "AWSEvents") => {
            let buses: Vec<String> = b["Entries"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| bus_arn(e["EventBusName"].as_str().unwrap_or("default")))
                .collect();
            let buses = if buses.is_empty() {
                vec![bus_arn(b["EventBusName"].as_str().unwrap_or("default"))]
            } else {
                buses
            };
            let mut buses = buses;
            buses.dedup();
            buses
                .into_iter()
                .map(|a| call(format!("events:{op}"), a))
                .collect()
        }
        (_, "secretsmanager") => vec![call(format!("secretsmanager:{op}"), s(&b["SecretId"]))],
        (_, "AWSStepFunctions") => {
            let arn = b["stateMachineArn"]
                .as_str()
                .or_else(|| b["executionArn"].as_str())
                .or_else(|| b["taskToken"].as_str().map(|_| token_machine))
                .unwrap_or("*");
            vec![call(format!("states:{op}"), arn.to_owned())]
        }
        ("ses", _) if r.operation == "POST /v2/email/outbound-emails" => {
            // Authorized against the sender's identity: the address, or its
            // domain when that is what is verified (the policy names both).
            let from = s(&b["FromEmailAddress"]);
            let mut c = call(
                "ses:SendEmail".into(),
                format!("arn:aws:ses:{REGION}:{ACCOUNT}:identity/{from}"),
            );
            c.context.push(("ses:FromAddress".into(), from));
            vec![c]
        }
        (service, _) => vec![call(format!("{service}:{}", r.operation), "*".into())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const M: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:m";

    fn rec(service: &str, operation: &str, body: Value) -> Recorded {
        Recorded {
            service: service.into(),
            operation: operation.into(),
            body,
        }
    }

    #[test]
    fn requests_become_the_actions_and_resources_iam_authorizes() {
        let t = "arn:aws:dynamodb:us-east-1:123456789012:table/T";
        assert_eq!(
            calls(
                &rec(
                    "dynamodb",
                    "DynamoDB_20120810.Query",
                    json!({"TableName": "T", "IndexName": "GSI1"})
                ),
                M
            ),
            vec![Call::new("dynamodb:Query", format!("{t}/index/GSI1"))]
        );
        let tx = calls(
            &rec(
                "dynamodb",
                "DynamoDB_20120810.TransactWriteItems",
                json!({"TransactItems": [
            {"Put": {"TableName": "T"}}, {"Update": {"TableName": "T"}}, {"ConditionCheck": {"TableName": "T"}}]}),
            ),
            M,
        );
        let actions: Vec<&str> = tx.iter().map(|c| c.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:ConditionCheckItem"
            ]
        );
        assert_eq!(
            calls(
                &rec(
                    "sqs",
                    "AmazonSQS.DeleteMessage",
                    json!({"QueueUrl": "http://127.0.0.1:5000/123456789012/Q1"})
                ),
                M
            ),
            vec![Call::new(
                "sqs:DeleteMessage",
                "arn:aws:sqs:us-east-1:123456789012:Q1"
            )]
        );
        assert_eq!(
            calls(
                &rec(
                    "events",
                    "AWSEvents.PutEvents",
                    json!({"Entries": [{"EventBusName": "bus"}, {"EventBusName": "bus"}]})
                ),
                M
            ),
            vec![Call::new(
                "events:PutEvents",
                "arn:aws:events:us-east-1:123456789012:event-bus/bus"
            )]
        );
        assert_eq!(
            calls(
                &rec(
                    "states",
                    "AWSStepFunctions.SendTaskSuccess",
                    json!({"taskToken": "x"})
                ),
                M
            )[0]
            .resource,
            M
        );
        let ses = &calls(
            &rec(
                "ses",
                "POST /v2/email/outbound-emails",
                json!({"FromEmailAddress": "no-reply@example.com"}),
            ),
            M,
        )[0];
        assert_eq!(
            ses.resource,
            "arn:aws:ses:us-east-1:123456789012:identity/no-reply@example.com"
        );
        assert_eq!(
            ses.context,
            [(
                "ses:FromAddress".to_owned(),
                "no-reply@example.com".to_owned()
            )]
        );
    }
}
