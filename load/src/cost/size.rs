//! Item sizes as DynamoDB bills them.
//!
//! The DynamoDB adapter (`lite-dynamo`, `convert.rs`) stores a JSON item as
//! attributes: strings → S, numbers → N (their decimal text), bool → BOOL,
//! null → NULL, arrays → L, objects → M. DynamoDB sizes an item as the sum of
//! its attribute names (UTF-8 bytes) and values: a string its UTF-8 bytes, a
//! number 1 byte per two significant digits plus 1, a boolean or null 1
//! byte, a list or map 3 bytes plus its elements plus 1 byte per element
//! (a map element also counts its name). ("DynamoDB item sizes and
//! formats", Amazon DynamoDB Developer Guide.)

use lite_store::Item;
use serde_json::{Number, Value};

/// The billed size of `item`, in bytes.
pub fn item_bytes(item: &Item) -> u64 {
    item.iter()
        .map(|(name, value)| name.len() as u64 + value_bytes(value))
        .sum()
}

/// The size of one attribute value (without its name).
pub fn value_bytes(value: &Value) -> u64 {
    match value {
        Value::Null | Value::Bool(_) => 1,
        Value::String(s) => s.len() as u64,
        Value::Number(n) => number_bytes(n),
        Value::Array(values) => 3 + values.iter().map(|v| 1 + value_bytes(v)).sum::<u64>(),
        Value::Object(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() as u64 + value_bytes(v))
                .sum::<u64>()
        }
    }
}

/// 1 byte per two significant digits (leading and trailing zeros trimmed),
/// plus 1 byte; the number as the adapter writes it (`Number::to_string`).
fn number_bytes(n: &Number) -> u64 {
    let text = n.to_string();
    // Digits of the mantissa only: an exponent (`1e300`) is not stored as digits.
    let mantissa = text.split(['e', 'E']).next().unwrap_or("");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len() as u64;
    significant.max(1).div_ceil(2) + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(v: Value) -> Item {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn strings_count_name_and_utf8_bytes() {
        // "PK" 2 + "PRODUCT#1" 9, "SK" 2 + "PRODUCT" 7
        assert_eq!(
            item_bytes(&item(json!({"PK": "PRODUCT#1", "SK": "PRODUCT"}))),
            20
        );
        // "é" is two bytes in UTF-8
        assert_eq!(item_bytes(&item(json!({"n": "é"}))), 3);
    }

    #[test]
    fn numbers_count_half_a_byte_per_significant_digit_plus_one() {
        assert_eq!(value_bytes(&json!(0)), 2);
        assert_eq!(value_bytes(&json!(7)), 2);
        assert_eq!(value_bytes(&json!(12)), 2);
        assert_eq!(value_bytes(&json!(123)), 3);
        assert_eq!(value_bytes(&json!(1000)), 2); // trailing zeros trimmed
        assert_eq!(value_bytes(&json!(-1234.5)), 4);
        assert_eq!(value_bytes(&json!(1_700_000_000_123_i64)), 8);
    }

    #[test]
    fn containers_cost_three_bytes_and_one_per_element() {
        assert_eq!(value_bytes(&json!([])), 3);
        assert_eq!(value_bytes(&json!({})), 3);
        // [ "ab", true ]: 3 + (1 + 2) + (1 + 1)
        assert_eq!(value_bytes(&json!(["ab", true])), 8);
        // {"k": null}: 3 + (1 + 1 + 1)
        assert_eq!(value_bytes(&json!({"k": null})), 6);
        // name 4 + {"a": [1]}: 3 + 1 + 1 + (3 + 1 + 2)
        assert_eq!(item_bytes(&item(json!({"data": {"a": [1]}}))), 15);
    }

    #[test]
    fn smaller_than_the_json_text_for_typical_items() {
        let i = item(json!({
            "PK": "STOCK#LAP-1", "SK": "STOCK", "available": 41, "reserved": 3, "version": 12
        }));
        assert!(item_bytes(&i) < lite_store::item_size(&i) as u64);
        assert_eq!(item_bytes(&i), 2 + 11 + 2 + 5 + 9 + 2 + 8 + 2 + 7 + 2);
    }
}
