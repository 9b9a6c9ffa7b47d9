//! Event consumers are declared once, by the services
//! (`lite_service::Service::consumers`): the committed
//! `infra/consumers.json` (what CDK deploys) must be exactly what the
//! services declare, every detail-type a consumer reads must be an event
//! schema of `events/schemas`, the local system must run every consumer of
//! the file, and each consumer's binary must be its service's.

use amazon_lite::app::System;
use amazon_lite::consumers::{table, ConsumersFile};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(path)
}

fn committed() -> ConsumersFile {
    let text =
        std::fs::read_to_string(repo("infra/consumers.json")).expect("infra/consumers.json exists");
    serde_json::from_str(&text).expect("infra/consumers.json has the consumers file's shape")
}

#[test]
fn infra_consumers_json_is_what_the_services_declare() {
    let system = System::in_memory().unwrap();
    assert_eq!(
        committed(),
        table(&system.services),
        "infra/consumers.json is stale: run `cargo run -p amazon-lite -- consumers > infra/consumers.json`"
    );
}

#[test]
fn consumer_names_are_unique() {
    let file = committed();
    let mut names: Vec<_> = file.consumers.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), file.consumers.len(), "{names:?}");
}

#[test]
fn every_detail_type_a_consumer_reads_is_an_event_schema() {
    for consumer in committed().consumers {
        assert!(
            !consumer.detail_types.is_empty(),
            "{} reads nothing",
            consumer.name
        );
        for detail_type in &consumer.detail_types {
            let schema = repo(&format!("events/schemas/{detail_type}.json"));
            assert!(
                schema.is_file(),
                "{} reads {detail_type}, which has no schema ({} is missing)",
                consumer.name,
                schema.display()
            );
        }
    }
}

#[test]
fn the_local_system_runs_every_consumer_of_the_file() {
    let system = System::in_memory().unwrap();
    // What `start_background` hands to the local bus.
    let running: BTreeMap<String, Vec<String>> = system
        .consumers()
        .iter()
        .map(|c| {
            let mut types: Vec<String> = c.detail_types().iter().map(|t| (*t).into()).collect();
            types.sort();
            (c.name().to_owned(), types)
        })
        .collect();
    let declared: BTreeMap<String, Vec<String>> = committed()
        .consumers
        .into_iter()
        .map(|mut c| {
            c.detail_types.sort();
            (c.name, c.detail_types)
        })
        .collect();
    assert_eq!(running, declared);
}

#[test]
fn every_consumer_runs_in_its_service_binary() {
    for consumer in committed().consumers {
        assert_eq!(
            consumer.binary, consumer.service,
            "{}: one binary per service",
            consumer.name
        );
        let manifest = repo(&format!("functions/{}/Cargo.toml", consumer.service));
        let text = std::fs::read_to_string(&manifest)
            .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
        assert!(
            text.contains(&format!(
                "[[bin]]\nname = \"{}\"\npath = \"src/main.rs\"",
                consumer.binary
            )),
            "{}: {} has no binary {} on src/main.rs",
            consumer.name,
            manifest.display(),
            consumer.binary
        );
    }
}
