//! The Step Functions adapter against moto (feature `aws`).
#![cfg(feature = "aws")]

use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use lite_dynamo::testing::MotoServer;
use lite_saga::aws::StepFunctions;
use lite_saga::{Saga, SagaError, Started};
use serde_json::json;

fn client(endpoint: &str) -> aws_sdk_sfn::Client {
    let config = aws_sdk_sfn::Config::builder()
        // The workspace's SDK crates have no default HTTP client.
        .http_client(lite_aws::http_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "AKIDTEST",
            "secret",
            None,
            None,
            "lite-saga-tests",
        ))
        .build();
    aws_sdk_sfn::Client::from_conf(config)
}

#[tokio::test]
async fn starts_once_per_name_and_refuses_unknown_tokens() {
    let endpoint = MotoServer::shared().await;
    // moto answers task callbacks only when it runs state machines.
    let config = reqwest::Client::new()
        .post(format!("{endpoint}/moto-api/config"))
        .json(&json!({"stepfunctions": {"execute_state_machine": true}}))
        .send()
        .await
        .unwrap();
    assert!(config.status().is_success());
    let client = client(&endpoint);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/checkout.asl.json"
    ))
    .unwrap();
    let mut definition = text.clone();
    for f in [
        "ReserveStockFunction",
        "AuthorizePaymentFunction",
        "CommitStockFunction",
        "ConfirmOrderFunction",
        "VoidPaymentFunction",
        "ReleaseStockFunction",
        "FailOrderFunction",
    ] {
        definition = definition.replace(
            &format!("${{{f}}}"),
            &format!("arn:aws:lambda:us-east-1:123456789012:function:{f}"),
        );
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let created = client
        .create_state_machine()
        .name(format!("checkout-{nanos}"))
        .definition(definition)
        .role_arn("arn:aws:iam::123456789012:role/checkout")
        .send()
        .await
        .unwrap();
    let saga = StepFunctions::new(
        client.clone(),
        Some(created.state_machine_arn().to_string()),
    );
    let input = json!({"orderId": "ord_1"});
    let first = saga.start("ord_1", input.clone()).await.unwrap();
    let Started::New { execution_id } = first else {
        panic!("{first:?}")
    };
    assert!(execution_id.ends_with(":ord_1"), "{execution_id}");
    let second = saga.start("ord_1", input.clone()).await.unwrap();
    assert_eq!(
        second,
        Started::Existing {
            execution_id: execution_id.clone()
        }
    );
    let other = saga
        .start("ord_1", json!({"orderId": "different"}))
        .await
        .unwrap();
    assert!(matches!(other, Started::Existing { .. }));

    let gone = saga.send_task_success("bogus-token", json!({})).await;
    assert!(matches!(gone, Err(SagaError::TaskGone(_))), "{gone:?}");
    let gone = saga.send_task_failure("bogus-token", "E", "c").await;
    assert!(matches!(gone, Err(SagaError::TaskGone(_))), "{gone:?}");

    let no_arn = StepFunctions::new(client, None);
    assert!(matches!(
        no_arn.start("x", json!({})).await,
        Err(SagaError::Invalid(_))
    ));
}
