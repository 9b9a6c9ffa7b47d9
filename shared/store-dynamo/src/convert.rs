//! JSON values <-> DynamoDB attribute values.
//!
//! Strings → S, numbers → N (as written: integers exact, floats in their
//! shortest round-trip form), bool → BOOL, null → NULL, arrays → L,
//! objects → M. Reading N back gives an integer when the text is one (i64,
//! then u64), else an f64. Sets are read as lists; binary is refused because
//! this table never stores it.

use aws_sdk_dynamodb::types::AttributeValue;
use lite_store::{Item, Key, StoreError};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

pub(crate) type AttrMap = HashMap<String, AttributeValue>;

pub(crate) fn to_av(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(values) => AttributeValue::L(values.iter().map(to_av).collect()),
        Value::Object(map) => {
            AttributeValue::M(map.iter().map(|(k, v)| (k.clone(), to_av(v))).collect())
        }
    }
}

pub(crate) fn from_av(value: &AttributeValue) -> Result<Value, StoreError> {
    Ok(match value {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::N(n) => Value::Number(number(n)?),
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::L(values) => {
            Value::Array(values.iter().map(from_av).collect::<Result<_, _>>()?)
        }
        AttributeValue::M(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), from_av(v)?)))
                .collect::<Result<Map<_, _>, StoreError>>()?,
        ),
        AttributeValue::Ss(values) => {
            Value::Array(values.iter().cloned().map(Value::String).collect())
        }
        AttributeValue::Ns(values) => Value::Array(
            values
                .iter()
                .map(|n| number(n).map(Value::Number))
                .collect::<Result<_, _>>()?,
        ),
        other => {
            return Err(StoreError::Unavailable(format!(
                "unsupported attribute type in stored item: {other:?}"
            )));
        }
    })
}

fn number(text: &str) -> Result<Number, StoreError> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(i.into());
    }
    if let Ok(u) = text.parse::<u64>() {
        return Ok(u.into());
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .ok_or_else(|| {
            StoreError::Unavailable(format!(
                "stored number {text:?} is not representable in JSON"
            ))
        })
}

pub(crate) fn item_to_attrs(item: &Item) -> AttrMap {
    item.iter().map(|(k, v)| (k.clone(), to_av(v))).collect()
}

pub(crate) fn attrs_to_item(attrs: &AttrMap) -> Result<Item, StoreError> {
    attrs
        .iter()
        .map(|(k, v)| Ok((k.clone(), from_av(v)?)))
        .collect()
}

pub(crate) fn key_attrs(key: &Key) -> AttrMap {
    HashMap::from([
        (
            lite_store::attr::PK.to_string(),
            AttributeValue::S(key.pk.clone()),
        ),
        (
            lite_store::attr::SK.to_string(),
            AttributeValue::S(key.sk.clone()),
        ),
    ])
}

/// The table key of a stored item (as returned by DynamoDB).
pub(crate) fn key_of_attrs(attrs: &AttrMap) -> Option<Key> {
    let pk = attrs.get(lite_store::attr::PK)?.as_s().ok()?;
    let sk = attrs.get(lite_store::attr::SK)?.as_s().ok()?;
    Some(Key::new(pk, sk))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(v: Value) -> Value {
        from_av(&to_av(&v)).unwrap()
    }

    #[test]
    fn scalars_map_to_their_dynamodb_types() {
        assert_eq!(to_av(&json!("x")), AttributeValue::S("x".into()));
        assert_eq!(to_av(&json!("")), AttributeValue::S(String::new()));
        assert_eq!(to_av(&json!(42)), AttributeValue::N("42".into()));
        assert_eq!(to_av(&json!(-7)), AttributeValue::N("-7".into()));
        assert_eq!(to_av(&json!(1.5)), AttributeValue::N("1.5".into()));
        assert_eq!(to_av(&json!(true)), AttributeValue::Bool(true));
        assert_eq!(to_av(&json!(null)), AttributeValue::Null(true));
    }

    #[test]
    fn containers_map_to_lists_and_maps() {
        let av = to_av(&json!({"a": [1, "b", {"c": null}]}));
        let AttributeValue::M(m) = av else {
            panic!("not a map")
        };
        let AttributeValue::L(l) = &m["a"] else {
            panic!("not a list")
        };
        assert_eq!(l[0], AttributeValue::N("1".into()));
        assert_eq!(l[1], AttributeValue::S("b".into()));
        assert_eq!(
            l[2],
            AttributeValue::M(HashMap::from([(
                "c".to_string(),
                AttributeValue::Null(true)
            )]))
        );
    }

    #[test]
    fn values_survive_a_round_trip() {
        for v in [
            json!("héllo"),
            json!(""),
            json!(0),
            json!(i64::MAX),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(0.1),
            json!(-2.5e-8),
            json!(1e300),
            json!(true),
            json!(null),
            json!([]),
            json!({}),
            json!({"nested": {"list": [1, 2.5, "x", false, null, [[]]]}}),
        ] {
            assert_eq!(round_trip(v.clone()), v);
        }
    }

    #[test]
    fn numbers_read_back_as_integers_when_they_are() {
        assert_eq!(from_av(&AttributeValue::N("12".into())).unwrap(), json!(12));
        assert!(from_av(&AttributeValue::N("12".into())).unwrap().is_i64());
        assert_eq!(
            from_av(&AttributeValue::N("12.25".into())).unwrap(),
            json!(12.25)
        );
        assert_eq!(
            from_av(&AttributeValue::N("1E+2".into())).unwrap(),
            json!(100.0)
        );
        assert!(from_av(&AttributeValue::N("1e400".into())).is_err());
    }

    #[test]
    fn sets_read_as_lists_and_binary_is_refused() {
        let ss = AttributeValue::Ss(vec!["a".into(), "b".into()]);
        assert_eq!(from_av(&ss).unwrap(), json!(["a", "b"]));
        let ns = AttributeValue::Ns(vec!["1".into(), "2.5".into()]);
        assert_eq!(from_av(&ns).unwrap(), json!([1, 2.5]));
        let b = AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(vec![1]));
        assert!(matches!(from_av(&b), Err(StoreError::Unavailable(_))));
    }

    #[test]
    fn items_convert_both_ways() {
        let item = json!({"PK": "p", "SK": "s", "n": 3, "tags": ["a"]})
            .as_object()
            .unwrap()
            .clone();
        let attrs = item_to_attrs(&item);
        assert_eq!(key_of_attrs(&attrs), Some(Key::new("p", "s")));
        assert_eq!(attrs_to_item(&attrs).unwrap(), item);
    }
}
