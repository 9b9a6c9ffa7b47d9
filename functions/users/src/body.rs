//! Reading a JSON object body field by field.
//!
//! Request bodies arrive as a JSON object and are taken apart here rather
//! than by a derived `Deserialize`, so one answer names every bad field at
//! once: missing, of the wrong type, invalid, or unknown. (A derived
//! deserializer stops at the first.) The parsers in `domain` then turn the
//! raw values into domain types.

use lite_core::Violations;
use serde_json::{Map, Value};

pub(crate) struct Body(Map<String, Value>);

impl Body {
    pub fn new(map: Map<String, Value>) -> Self {
        Self(map)
    }

    /// The raw value of `field` (`None` when absent), consumed.
    pub fn take(&mut self, field: &str) -> Option<Value> {
        self.0.remove(field)
    }

    /// A string that must be present (and not `null`).
    pub fn required_str(&mut self, v: &mut Violations, field: &str) -> Option<String> {
        match self.take(field) {
            None | Some(Value::Null) => {
                v.add(field, "is required");
                None
            }
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                v.add(field, "must be a string");
                None
            }
        }
    }

    /// A string that may be absent or `null`: `Some(None)` then; `None`
    /// when the value is of another type (recorded).
    pub fn optional_str(&mut self, v: &mut Violations, field: &str) -> Option<Option<String>> {
        match self.take(field) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s)),
            Some(_) => {
                v.add(field, "must be a string or null");
                None
            }
        }
    }

    /// A boolean; `default` when absent and `Some(default)` was given,
    /// otherwise required.
    pub fn bool(&mut self, v: &mut Violations, field: &str, default: Option<bool>) -> Option<bool> {
        match (self.take(field), default) {
            (Some(Value::Bool(b)), _) => Some(b),
            (None, Some(d)) => Some(d),
            (None | Some(Value::Null), None) => {
                v.add(field, "is required");
                None
            }
            (Some(_), _) => {
                v.add(field, "must be true or false");
                None
            }
        }
    }

    /// Names every field nobody took: an unknown field is an error, never
    /// silently dropped (a typo must not look like success).
    pub fn reject_unknown(self, v: &mut Violations) {
        for field in self.0.keys() {
            v.add(field.as_str(), "is not a known field");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Body {
        Body::new(v.as_object().unwrap().clone())
    }

    #[test]
    fn names_missing_mistyped_and_unknown_fields() {
        let mut b = body(json!({"a": 1, "c": null, "d": "x", "e": "y", "extra": true}));
        let mut v = Violations::new();
        assert_eq!(b.required_str(&mut v, "a"), None);
        assert_eq!(b.required_str(&mut v, "b"), None);
        assert_eq!(b.optional_str(&mut v, "c"), Some(None));
        assert_eq!(b.optional_str(&mut v, "d"), Some(Some("x".into())));
        assert_eq!(b.bool(&mut v, "e", Some(false)), None);
        assert_eq!(b.bool(&mut v, "f", Some(true)), Some(true));
        assert_eq!(b.bool(&mut v, "g", None), None);
        b.reject_unknown(&mut v);
        let fields: Vec<_> = v
            .into_result()
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["a", "b", "e", "g", "extra"]);
    }
}
