//! The Store port's conformance suite against the DynamoDB adapter on moto
//! (the same cases the embedded adapter passes).

lite_store::conformance_tests!(|| async { lite_dynamo::testing::test_store().await });
