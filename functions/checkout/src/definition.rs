//! The checkout state machine: the one ASL file CDK deploys and the local
//! interpreter runs.

use std::collections::HashMap;

/// `infra/checkout.asl.json`.
pub const DEFINITION: &str = include_str!("../../../infra/checkout.asl.json");

/// The definition's `${...}` placeholders and the task each one runs. On AWS
/// CDK substitutes each with its function's ARN; locally each becomes the
/// task's name, which [`crate::LocalTasks`] checks against the payload.
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("ReserveStockFunction", "reserveStock"),
    ("AuthorizePaymentFunction", "authorizePayment"),
    ("CommitStockFunction", "commitStock"),
    ("ConfirmOrderFunction", "confirmOrder"),
    ("VoidPaymentFunction", "voidPayment"),
    ("ReleaseStockFunction", "releaseStock"),
    ("FailOrderFunction", "failOrder"),
];

/// Substitutions for the local interpreter.
pub fn local_substitutions() -> HashMap<String, String> {
    FUNCTIONS
        .iter()
        .map(|(placeholder, task)| (placeholder.to_string(), task.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_of_the_file_is_known_and_used() {
        let mut found: Vec<&str> = DEFINITION
            .match_indices("${")
            .map(|(i, _)| {
                let rest = &DEFINITION[i + 2..];
                &rest[..rest.find('}').unwrap()]
            })
            .collect();
        found.sort();
        found.dedup();
        let mut known: Vec<&str> = FUNCTIONS.iter().map(|(p, _)| *p).collect();
        known.sort();
        assert_eq!(found, known);
    }
}
