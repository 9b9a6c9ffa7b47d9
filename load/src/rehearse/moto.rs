//! A minimal client of the moto server for the JSON-protocol services the
//! stack uses (DynamoDB and its streams, SQS, EventBridge, Secrets Manager,
//! Step Functions). moto routes a request by the service in the
//! `Authorization` header's credential scope and does not check signatures,
//! so requests carry a well-formed, unsigned one.

use serde_json::Value;

#[derive(Clone, Copy, Debug)]
pub enum Service {
    DynamoDb,
    Streams,
    Sqs,
    Events,
    Secrets,
    States,
}

impl Service {
    /// (signing name, target prefix, JSON version)
    fn protocol(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Service::DynamoDb => ("dynamodb", "DynamoDB_20120810", "1.0"),
            Service::Streams => ("dynamodb", "DynamoDBStreams_20120810", "1.0"),
            Service::Sqs => ("sqs", "AmazonSQS", "1.0"),
            Service::Events => ("events", "AWSEvents", "1.1"),
            Service::Secrets => ("secretsmanager", "secretsmanager", "1.1"),
            Service::States => ("states", "AWSStepFunctions", "1.0"),
        }
    }
}

#[derive(Clone)]
pub struct Moto {
    pub endpoint: String,
    http: reqwest::Client,
}

impl Moto {
    pub fn new(endpoint: &str) -> Moto {
        Moto {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// One call; moto's error body (`__type`, `message`) becomes the error.
    pub async fn call(&self, service: Service, action: &str, body: Value) -> Result<Value, String> {
        let (signing, prefix, version) = service.protocol();
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=rehearsal/20260101/{}/{signing}/aws4_request, SignedHeaders=host, Signature=0",
            super::resolve::REGION
        );
        let response = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("content-type", format!("application/x-amz-json-{version}"))
            .header("x-amz-target", format!("{prefix}.{action}"))
            .header("authorization", auth)
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| format!("{prefix}.{action}: {e}"))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| format!("{prefix}.{action}: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "{prefix}.{action}: {status}: {}",
                text.chars().take(500).collect::<String>()
            ));
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| format!("{prefix}.{action}: {e}: {text}"))
    }

    /// One call of a query-protocol service (form body, `Action=`).
    pub async fn query(&self, signing: &str, params: &[(&str, &str)]) -> Result<String, String> {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=rehearsal/20260101/{}/{signing}/aws4_request, SignedHeaders=host, Signature=0",
            super::resolve::REGION
        );
        let response = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("authorization", auth)
            .form(params)
            .send()
            .await
            .map_err(|e| format!("{signing} {params:?}: {e}"))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(text)
        } else {
            Err(format!("{signing} {params:?}: {status}: {text}"))
        }
    }
}
