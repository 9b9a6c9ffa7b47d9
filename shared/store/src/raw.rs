//! The raw text of named members of a stored item's JSON object, found by
//! a structural scan: strings are skipped eight bytes at a time and
//! brackets counted, but no value is parsed or built.
//!
//! The catalog's listing copies each product's stored `data` into its
//! body, so all it needs from an item is where `data` starts and ends, and
//! its `sku`; a stock read needs only `available`. serde_json found the
//! end of `data` by walking every token of the product (`RawValue`), which
//! was a sixth of the listing's CPU.
//!
//! The scan checks what keeps a wrong answer out: the object and every
//! string in it are closed, brackets match, the object's own members are
//! `"name": value` separated by commas, and nothing follows the object.
//! Inside a member's value it looks only at strings and brackets (not at
//! numbers, literals or separators), so it is for JSON this system wrote
//! (the store's items), not for input.

/// The raw JSON text of the members named `names` in the object `json`,
/// in the order of `names` (`None` for a name it does not have; the last
/// one wins for a name it has twice), or `None` when `json` is not a
/// well-formed object as far as the scan looks. Member names are matched
/// as written: a name spelled with an escape is not matched.
pub fn members<'a, const N: usize>(
    json: &'a [u8],
    names: [&str; N],
) -> Option<[Option<&'a [u8]>; N]> {
    let mut scan = Scan { json, at: 0 };
    let mut found = [None; N];
    scan.space();
    scan.expect(b'{')?;
    scan.space();
    if scan.peek()? == b'}' {
        scan.at += 1;
    } else {
        loop {
            scan.space();
            let name = scan.string()?;
            scan.space();
            scan.expect(b':')?;
            scan.space();
            let start = scan.at;
            scan.value()?;
            let value = &json[start..scan.at];
            let name = &name[1..name.len() - 1];
            if let Some(i) = names.iter().position(|n| n.as_bytes() == name) {
                found[i] = Some(value);
            }
            scan.space();
            match scan.next()? {
                b',' => {}
                b'}' => break,
                _ => return None,
            }
        }
    }
    scan.space();
    (scan.at == json.len()).then_some(found)
}

/// A JSON string's text without its quotes, when it has no escape (a
/// string with one would have to be decoded to be read).
pub fn plain_string(raw: &[u8]) -> Option<&str> {
    let inner = raw.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    if inner.contains(&b'\\') {
        return None;
    }
    std::str::from_utf8(inner).ok()
}

/// The first `"` or `\` in `bytes`, eight bytes at a time: in a word
/// XORed with the byte searched for, `(w - 0x01..) & !w & 0x80..` marks
/// its zero bytes, the lowest mark exactly (a borrow only marks higher
/// bytes falsely). Inline, so the many short strings of a product cost no
/// call: scanning 20 demo listing items took 265 ns an item this way,
/// about 300 with `memchr::memchr2` and 490 byte by byte (serde_json's
/// `RawValue`: 530).
fn quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = ONES << 7;
    let zero_bytes = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let marks =
            zero_bytes(w ^ (ONES * u64::from(b'"'))) | zero_bytes(w ^ (ONES * u64::from(b'\\')));
        if marks != 0 {
            return Some(at + marks.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\')
        .map(|i| at + i)
}

struct Scan<'a> {
    json: &'a [u8],
    at: usize,
}

/// Deepest nesting the scan follows (serde_json's default limit too).
const MAX_DEPTH: u32 = 128;

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.json.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        (self.next()? == b).then_some(())
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    /// A string at the cursor, quotes included.
    fn string(&mut self) -> Option<&'a [u8]> {
        let start = self.at;
        self.expect(b'"')?;
        loop {
            let rest: &'a [u8] = &self.json[self.at..];
            let i = quote_or_backslash(rest)?;
            self.at += i + 1;
            if rest[i] == b'"' {
                return Some(&self.json[start..self.at]);
            }
            // An escape: the next byte is escaped (`\"`, `\\`, `\u`...).
            self.next()?;
        }
    }

    /// Any value at the cursor: a string, an object or array (to its
    /// matching close), or a number or literal (to the next delimiter).
    fn value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' => self.nested(),
            _ => {
                let start = self.at;
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                        break;
                    }
                    self.at += 1;
                }
                (self.at > start).then_some(())
            }
        }
    }

    /// An object or array: brackets counted to the matching close, each
    /// close checked against its open (a bit per level: 1 for `{`).
    fn nested(&mut self) -> Option<()> {
        let mut opens: u128 = 0;
        let mut depth = 0u32;
        loop {
            match self.peek()? {
                b'"' => {
                    self.string()?;
                    continue;
                }
                open @ (b'{' | b'[') => {
                    if depth == MAX_DEPTH {
                        return None;
                    }
                    opens = (opens << 1) | u128::from(open == b'{');
                    depth += 1;
                }
                close @ (b'}' | b']') => {
                    if (opens & 1 == 1) != (close == b'}') {
                        return None;
                    }
                    opens >>= 1;
                    depth -= 1;
                    if depth == 0 {
                        self.at += 1;
                        return Some(());
                    }
                }
                _ => {}
            }
            self.at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, value::RawValue};

    /// What serde_json finds for the same names (the scan's reference).
    fn by_serde<'a>(json: &'a [u8], name: &str) -> Option<&'a str> {
        let map: std::collections::HashMap<&str, &RawValue> = serde_json::from_slice(json).ok()?;
        map.get(name).map(|v| v.get())
    }

    fn found<'a>(json: &'a [u8], name: &str) -> Option<&'a str> {
        let [value] = members(json, [name])?;
        value.map(|v| std::str::from_utf8(v).unwrap())
    }

    #[test]
    fn members_are_found_as_serde_json_finds_them() {
        let values = [
            json!({"PK": "PRODUCT#1", "data": {"name": "A \"quoted\" {brace} [and] \\ slash", "n": [1, -2.5e3, true, null, {"x": []}], "ü": "ñ"}, "sku": "SKU-1", "version": 3}),
            json!({"data": [], "sku": ""}),
            json!({"sku": "x", "data": "a string \u{1F600} \\\" }"}),
            json!({"a": {"b": {"c": {"d": [[[["deep"]]]]}}}, "data": 0}),
            json!({}),
        ];
        for value in values {
            for text in [
                serde_json::to_vec(&value).unwrap(),
                serde_json::to_vec_pretty(&value).unwrap(),
            ] {
                for name in ["data", "sku", "PK", "version", "a", "missing"] {
                    assert_eq!(
                        found(&text, name),
                        by_serde(&text, name),
                        "{name} in {}",
                        String::from_utf8_lossy(&text)
                    );
                }
            }
        }
    }

    /// A random JSON value: strings full of what a scan could trip on
    /// (quotes, backslashes, brackets, commas, colons, non-ASCII).
    fn random_text(rng: &mut impl rand::Rng) -> String {
        const PIECES: &[&str] = &[
            "a", "\"", "\\", "{", "}", "[", "]", ",", ":", " ", "\n", "ü", "😀", "\\\"", "\u{1}",
        ];
        (0..rng.gen_range(0..8))
            .map(|_| PIECES[rng.gen_range(0..PIECES.len())])
            .collect()
    }

    /// A random JSON value: strings full of what a scan could trip on
    /// (quotes, backslashes, brackets, commas, colons, non-ASCII).
    fn random_value(rng: &mut impl rand::Rng, depth: u32) -> serde_json::Value {
        let kind = if depth == 0 {
            rng.gen_range(0..4)
        } else {
            rng.gen_range(0..6)
        };
        match kind {
            0 => json!(random_text(rng)),
            1 => json!(rng.gen_range(-1_000_000i64..1_000_000)),
            2 => json!(rng.gen_range(-1e9f64..1e9)),
            3 => [json!(null), json!(true), json!(false)][rng.gen_range(0..3)].clone(),
            4 => serde_json::Value::Array(
                (0..rng.gen_range(0..4))
                    .map(|_| random_value(rng, depth - 1))
                    .collect(),
            ),
            _ => serde_json::Value::Object(
                (0..rng.gen_range(0..4))
                    .map(|_| (random_text(rng), random_value(rng, depth - 1)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn random_objects_are_scanned_as_serde_json_reads_them() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..2_000 {
            let mut object = serde_json::Map::new();
            for name in ["data", "sku", "x"] {
                if rng.gen_bool(0.8) {
                    object.insert(name.to_owned(), random_value(&mut rng, 4));
                }
            }
            let value = serde_json::Value::Object(object);
            for text in [
                serde_json::to_vec(&value).unwrap(),
                serde_json::to_vec_pretty(&value).unwrap(),
            ] {
                let [data, sku, x] = members(&text, ["data", "sku", "x"]).unwrap();
                for (name, scanned) in [("data", data), ("sku", sku), ("x", x)] {
                    assert_eq!(
                        scanned.map(|v| std::str::from_utf8(v).unwrap()),
                        by_serde(&text, name),
                        "{name} in {}",
                        String::from_utf8_lossy(&text)
                    );
                }
                // Cut anywhere, the object is not closed and does not scan.
                let cut = rng.gen_range(0..text.len());
                assert!(members(&text[..cut], ["data"]).is_none());
            }
        }
    }

    #[test]
    fn a_broken_object_is_refused() {
        for text in [
            &b""[..],
            b"[]",
            b"\"data\"",
            b"{",
            b"{\"data\":{\"a\":1}",
            b"{\"data\":{\"a\":1]}",
            b"{\"data\":[1}}",
            b"{\"data\":\"unclosed}",
            b"{\"data\":\"escaped end\\\"}",
            b"{\"data\" {}}",
            b"{\"data\":{} \"sku\":\"x\"}",
            b"{\"data\":}",
            b"{\"data\":{}},",
            b"{\"data\":{}} {}",
            b"{data:{}}",
        ] {
            assert!(
                members(text, ["data"]).is_none(),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        let deep = format!("{{\"data\":{}{}}}", "[".repeat(129), "]".repeat(129));
        assert!(members(deep.as_bytes(), ["data"]).is_none());
        let deep_enough = format!("{{\"data\":{}{}}}", "[".repeat(128), "]".repeat(128));
        assert!(members(deep_enough.as_bytes(), ["data"]).is_some());
    }

    #[test]
    fn the_first_quote_or_backslash_is_found_at_every_offset() {
        // Every other byte value around it, including those one away from
        // `"` and `\\` (a borrow's false marks sit above a true one).
        let others: Vec<u8> = (0..=255u8).filter(|b| !matches!(b, b'"' | b'\\')).collect();
        for len in 0..24 {
            for (i, &a) in others.iter().enumerate() {
                let b = others[(i * 7 + 3) % others.len()];
                let filler = |j: usize| if j.is_multiple_of(2) { a } else { b };
                let plain: Vec<u8> = (0..len).map(filler).collect();
                assert_eq!(quote_or_backslash(&plain), None);
                for at in 0..len {
                    for found in [b'"', b'\\'] {
                        // The one at `at`, and a later quote that must not win.
                        let mut bytes = plain.clone();
                        bytes[at] = found;
                        if at + 1 < len {
                            bytes[len - 1] = b'"';
                        }
                        assert_eq!(quote_or_backslash(&bytes), Some(at), "{bytes:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_plain_string_is_read_and_an_escaped_one_is_not() {
        assert_eq!(plain_string(b"\"SKU-1\""), Some("SKU-1"));
        assert_eq!(plain_string(b"\"\""), Some(""));
        assert_eq!(plain_string(b"\"a\\\"b\""), None);
        assert_eq!(plain_string(b"12"), None);
        assert_eq!(plain_string(b"\"open"), None);
    }
}
