//! DynamoDB JSON (`{"S": "x"}`, `{"M": {...}}`, as stream records carry
//! item images) → plain JSON items.
//!
//! The same mapping as `lite-dynamo`'s reader (`shared/store-dynamo/src/convert.rs`),
//! so an item read from a stream equals the item the store would return:
//! S → string, N → integer when the text is one (i64, then u64) else f64,
//! BOOL → bool, NULL → null, L → array, M → object, SS/NS → arrays. Binary
//! is refused: this table never stores it.
//!
//! It works on `serde_json::Value` rather than on `serde_dynamo` types: the
//! Lambda event's images serialize to exactly this shape, and the tests
//! build it from the DynamoDB Streams API the same way.

use lite_store::Item;
use serde_json::{Map, Number, Value};

/// Why an image could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DynamoDB JSON: {0}")]
pub struct DynamoJsonError(pub String);

/// An item image (`{"PK": {"S": "..."}, ...}`) as a plain JSON item.
pub fn image_to_item(image: &Value) -> Result<Item, DynamoJsonError> {
    let Value::Object(attrs) = image else {
        return Err(DynamoJsonError("an item image is an object".into()));
    };
    attrs
        .iter()
        .map(|(name, av)| {
            attribute_to_json(av)
                .map(|v| (name.clone(), v))
                .map_err(|e| DynamoJsonError(format!("attribute {name}: {}", e.0)))
        })
        .collect()
}

/// One attribute value (`{"N": "12"}`) as plain JSON (`12`).
pub fn attribute_to_json(av: &Value) -> Result<Value, DynamoJsonError> {
    let Value::Object(tagged) = av else {
        return Err(DynamoJsonError(format!(
            "expected a typed attribute value, got {av}"
        )));
    };
    let mut entries = tagged.iter();
    let (Some((tag, inner)), None) = (entries.next(), entries.next()) else {
        return Err(DynamoJsonError(format!(
            "an attribute value has exactly one type key, got {av}"
        )));
    };
    let text = |v: &Value| -> Result<String, DynamoJsonError> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| DynamoJsonError(format!("{tag} holds a string, got {v}")))
    };
    let list = |v: &Value| -> Result<Vec<Value>, DynamoJsonError> {
        v.as_array()
            .cloned()
            .ok_or_else(|| DynamoJsonError(format!("{tag} holds a list, got {v}")))
    };
    Ok(match tag.as_str() {
        "S" => Value::String(text(inner)?),
        "N" => Value::Number(number(&text(inner)?)?),
        "BOOL" => Value::Bool(
            inner
                .as_bool()
                .ok_or_else(|| DynamoJsonError(format!("BOOL holds a bool, got {inner}")))?,
        ),
        "NULL" => Value::Null,
        "L" => Value::Array(
            list(inner)?
                .iter()
                .map(attribute_to_json)
                .collect::<Result<_, _>>()?,
        ),
        "M" => {
            let Value::Object(map) = inner else {
                return Err(DynamoJsonError(format!("M holds an object, got {inner}")));
            };
            Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), attribute_to_json(v)?)))
                    .collect::<Result<Map<_, _>, DynamoJsonError>>()?,
            )
        }
        "SS" => Value::Array(
            list(inner)?
                .iter()
                .map(|v| text(v).map(Value::String))
                .collect::<Result<_, _>>()?,
        ),
        "NS" => Value::Array(
            list(inner)?
                .iter()
                .map(|v| text(v).and_then(|n| number(&n)).map(Value::Number))
                .collect::<Result<_, _>>()?,
        ),
        other => {
            return Err(DynamoJsonError(format!(
                "unsupported attribute type {other}"
            )))
        }
    })
}

/// The reverse, for building stream images (tests, sample events): plain
/// JSON → DynamoDB JSON, as `lite-dynamo` writes items.
pub fn item_to_image(item: &Item) -> Value {
    Value::Object(
        item.iter()
            .map(|(k, v)| (k.clone(), json_to_attribute(v)))
            .collect(),
    )
}

/// One plain JSON value as a typed attribute value.
pub fn json_to_attribute(value: &Value) -> Value {
    let (tag, inner) = match value {
        Value::Null => ("NULL", Value::Bool(true)),
        Value::Bool(b) => ("BOOL", Value::Bool(*b)),
        Value::Number(n) => ("N", Value::String(n.to_string())),
        Value::String(s) => ("S", Value::String(s.clone())),
        Value::Array(values) => (
            "L",
            Value::Array(values.iter().map(json_to_attribute).collect()),
        ),
        Value::Object(map) => ("M", item_to_image(map)),
    };
    let mut tagged = Map::new();
    tagged.insert(tag.to_owned(), inner);
    Value::Object(tagged)
}

fn number(text: &str) -> Result<Number, DynamoJsonError> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(i.into());
    }
    if let Ok(u) = text.parse::<u64>() {
        return Ok(u.into());
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .ok_or_else(|| DynamoJsonError(format!("number {text:?} is not representable in JSON")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_and_containers() {
        let image = json!({
            "PK": {"S": "OUTBOX#evt_1"},
            "n": {"N": "12"},
            "big": {"N": "18446744073709551615"},
            "f": {"N": "1.5"},
            "b": {"BOOL": true},
            "z": {"NULL": true},
            "l": {"L": [{"S": "a"}, {"N": "-3"}]},
            "m": {"M": {"x": {"M": {"y": {"L": []}}}}},
            "ss": {"SS": ["a", "b"]},
            "ns": {"NS": ["1", "2.5"]}
        });
        let item = image_to_item(&image).unwrap();
        assert_eq!(
            Value::Object(item),
            json!({
                "PK": "OUTBOX#evt_1",
                "n": 12,
                "big": u64::MAX,
                "f": 1.5,
                "b": true,
                "z": null,
                "l": ["a", -3],
                "m": {"x": {"y": []}},
                "ss": ["a", "b"],
                "ns": [1, 2.5]
            })
        );
        assert!(attribute_to_json(&json!({"N": "7"})).unwrap().is_i64());
    }

    #[test]
    fn plain_items_survive_a_round_trip() {
        let item = json!({"PK": "p", "n": -1, "f": 0.25, "u": u64::MAX, "x": [null, true, {"y": "z"}], "e": {}})
            .as_object()
            .unwrap()
            .clone();
        let image = item_to_image(&item);
        assert_eq!(image["n"], json!({"N": "-1"}));
        assert_eq!(image["x"]["L"][0], json!({"NULL": true}));
        assert_eq!(image_to_item(&image).unwrap(), item);
    }

    #[test]
    fn malformed_values_are_errors() {
        for bad in [
            json!("plain"),
            json!({}),
            json!({"S": "a", "N": "1"}),
            json!({"S": 1}),
            json!({"N": "abc"}),
            json!({"N": "1e400"}),
            json!({"B": "AAE="}),
            json!({"L": {"S": "a"}}),
            json!({"M": []}),
            json!({"BOOL": "yes"}),
        ] {
            assert!(attribute_to_json(&bad).is_err(), "{bad}");
        }
        let err = image_to_item(&json!({"event": {"M": {"id": {"X": "?"}}}})).unwrap_err();
        assert!(err.0.contains("attribute event"), "{err}");
        assert!(image_to_item(&json!([])).is_err());
    }
}
