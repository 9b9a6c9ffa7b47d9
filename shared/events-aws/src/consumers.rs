//! `infra/consumers.json`: the consumers CDK builds a queue, DLQ, rule and
//! function for. Embedded at compile time, so a check reads the same file
//! the binary was built with.

use serde::Deserialize;

/// The file, as compiled in.
pub const CONSUMERS_JSON: &str = include_str!("../../../infra/consumers.json");

/// One consumer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsumerSpec {
    /// The [`lite_events::Handler::name`]: queue, function and idempotency records.
    pub name: String,
    /// The crate under `functions/<service>/` that builds the binary.
    pub service: String,
    /// The Lambda binary (`[[bin]]` of that crate).
    pub binary: String,
    /// EventBridge detail-types its rule matches ([`lite_events::Handler::detail_types`]).
    pub detail_types: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsumersFile {
    consumers: Vec<ConsumerSpec>,
}

/// Parses a consumers file.
pub fn parse(json: &str) -> Result<Vec<ConsumerSpec>, String> {
    let file: ConsumersFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
    Ok(file.consumers)
}

/// The consumers of `infra/consumers.json`.
pub fn declared() -> Result<Vec<ConsumerSpec>, String> {
    parse(CONSUMERS_JSON).map_err(|e| format!("infra/consumers.json: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_parses_with_unique_names_and_detail_types() {
        let consumers = declared().unwrap();
        assert!(!consumers.is_empty());
        let mut names: Vec<_> = consumers.iter().map(|c| &c.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), consumers.len(), "unique names");
        for c in &consumers {
            assert!(!c.detail_types.is_empty(), "{}", c.name);
            for t in &c.detail_types {
                assert!(
                    t.rsplit_once(".v")
                        .is_some_and(|(_, v)| v.parse::<u32>().is_ok()),
                    "{}: {t} is <type>.v<version>",
                    c.name
                );
            }
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(parse(
            r#"{"consumers":[{"name":"a","service":"s","binary":"b","detailTypes":[],"x":1}]}"#
        )
        .is_err());
        assert!(parse(r#"{"consumers":[]}"#).unwrap().is_empty());
    }
}
