//! Reading configuration from the environment, with defaults and clear errors.

use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {message}")]
pub struct ConfigError {
    pub name: String,
    pub message: String,
}

/// The value of `name`, or `None` when unset or empty.
pub fn optional(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The value of `name`, or an error naming it.
pub fn required(name: &str) -> Result<String, ConfigError> {
    optional(name).ok_or_else(|| ConfigError {
        name: name.into(),
        message: "is required".into(),
    })
}

/// Parses `name` when set, else returns `default`.
pub fn parse_or<T>(name: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match optional(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError {
            name: name.into(),
            message: format!("cannot parse {v:?}: {e}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_only_when_unset() {
        assert_eq!(parse_or::<u16>("LITE_CORE_TEST_UNSET_VAR", 7).unwrap(), 7);
        assert!(optional("LITE_CORE_TEST_UNSET_VAR").is_none());
        assert!(required("LITE_CORE_TEST_UNSET_VAR").is_err());
    }
}
