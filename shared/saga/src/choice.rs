//! Choice rules: every comparison operator of the ASL specification, with
//! their `...Path` variants, the type tests and And/Or/Not.

use crate::invoker::{errors, TaskError};
use crate::path::Path;
use chrono::{DateTime, FixedOffset};
use serde_json::Value;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Equals,
    LessThan,
    GreaterThan,
    LessThanEquals,
    GreaterThanEquals,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    IsNull,
    IsPresent,
    IsNumeric,
    IsString,
    IsBoolean,
    IsTimestamp,
}

/// What a comparison compares against: a literal or another path.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Value(Value),
    Path(Path),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Compare {
        variable: Path,
        kind: Kind,
        cmp: Cmp,
        operand: Operand,
    },
    Matches {
        variable: Path,
        pattern: String,
    },
    Test {
        variable: Path,
        test: Test,
        expected: bool,
    },
}

const CMPS: [(&str, Cmp); 5] = [
    ("Equals", Cmp::Equals),
    ("LessThanEquals", Cmp::LessThanEquals),
    ("GreaterThanEquals", Cmp::GreaterThanEquals),
    ("LessThan", Cmp::LessThan),
    ("GreaterThan", Cmp::GreaterThan),
];
const KINDS: [(&str, Kind); 4] = [
    ("String", Kind::String),
    ("Numeric", Kind::Numeric),
    ("Boolean", Kind::Boolean),
    ("Timestamp", Kind::Timestamp),
];
const TESTS: [(&str, Test); 6] = [
    ("IsNull", Test::IsNull),
    ("IsPresent", Test::IsPresent),
    ("IsNumeric", Test::IsNumeric),
    ("IsString", Test::IsString),
    ("IsBoolean", Test::IsBoolean),
    ("IsTimestamp", Test::IsTimestamp),
];

impl Rule {
    /// Parses one rule object; `top` rules also carry `Next` (read by the
    /// caller), nested ones must not.
    pub fn parse(value: &Value, top: bool) -> Result<Rule, String> {
        let map = value.as_object().ok_or("a choice rule must be an object")?;
        let allowed_extra = |k: &str| k == "Comment" || (top && k == "Next");
        let ops: Vec<&String> = map.keys().filter(|k| !allowed_extra(k)).collect();
        if top && !map.contains_key("Next") {
            return Err("a choice rule needs Next".into());
        }
        if !top && map.contains_key("Next") {
            return Err("a nested choice rule cannot have Next".into());
        }
        for (name, combine) in [("And", true), ("Or", false)] {
            if let Some(list) = map.get(name) {
                if ops.len() != 1 {
                    return Err(format!("{name} must be the rule's only operator"));
                }
                let rules = list
                    .as_array()
                    .filter(|l| !l.is_empty())
                    .ok_or(format!("{name} must be a non-empty list"))?
                    .iter()
                    .map(|r| Rule::parse(r, false))
                    .collect::<Result<Vec<_>, _>>()?;
                return Ok(if combine {
                    Rule::And(rules)
                } else {
                    Rule::Or(rules)
                });
            }
        }
        if let Some(inner) = map.get("Not") {
            if ops.len() != 1 {
                return Err("Not must be the rule's only operator".into());
            }
            return Ok(Rule::Not(Box::new(Rule::parse(inner, false)?)));
        }
        let variable = match map.get("Variable") {
            Some(Value::String(s)) => Path::parse(s)?,
            _ => return Err("a choice rule needs a Variable path (or And/Or/Not)".into()),
        };
        let ops: Vec<&String> = ops.into_iter().filter(|k| *k != "Variable").collect();
        let [op] = ops.as_slice() else {
            return Err(format!(
                "a choice rule needs exactly one comparison operator, found {ops:?}"
            ));
        };
        let arg = &map[op.as_str()];
        Self::operator(variable, op, arg)
    }

    fn operator(variable: Path, op: &str, arg: &Value) -> Result<Rule, String> {
        if let Some((_, test)) = TESTS.iter().find(|(n, _)| *n == op) {
            let expected = arg.as_bool().ok_or(format!("{op} takes true or false"))?;
            return Ok(Rule::Test {
                variable,
                test: *test,
                expected,
            });
        }
        if op == "StringMatches" {
            let pattern = arg.as_str().ok_or("StringMatches takes a string")?;
            return Ok(Rule::Matches {
                variable,
                pattern: pattern.to_string(),
            });
        }
        for (kname, kind) in KINDS {
            let Some(rest) = op.strip_prefix(kname) else {
                continue;
            };
            let (rest, is_path) = match rest.strip_suffix("Path") {
                Some(r) => (r, true),
                None => (rest, false),
            };
            let Some((_, cmp)) = CMPS.iter().find(|(n, _)| *n == rest) else {
                continue;
            };
            if kind == Kind::Boolean && *cmp != Cmp::Equals {
                continue;
            }
            let operand = if is_path {
                let text = arg.as_str().ok_or(format!("{op} takes a path string"))?;
                Operand::Path(Path::parse(text)?)
            } else {
                let ok = match kind {
                    Kind::String => arg.is_string(),
                    Kind::Numeric => arg.is_number(),
                    Kind::Boolean => arg.is_boolean(),
                    Kind::Timestamp => arg.as_str().and_then(timestamp).is_some(),
                };
                if !ok {
                    return Err(format!("{op} has an operand of the wrong type: {arg}"));
                }
                Operand::Value(arg.clone())
            };
            return Ok(Rule::Compare {
                variable,
                kind,
                cmp: *cmp,
                operand,
            });
        }
        Err(format!("unknown choice operator {op}"))
    }

    /// Evaluates the rule. A Variable that does not resolve is
    /// `States.Runtime` (except for `IsPresent`), as on Step Functions.
    pub fn eval(&self, input: &Value, context: &Value) -> Result<bool, TaskError> {
        match self {
            Rule::And(rules) => {
                for r in rules {
                    if !r.eval(input, context)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rules) => {
                for r in rules {
                    if r.eval(input, context)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(r) => Ok(!r.eval(input, context)?),
            Rule::Test {
                variable,
                test,
                expected,
            } => {
                let v = variable.get(input, context);
                if *test == Test::IsPresent {
                    return Ok(v.is_some() == *expected);
                }
                let v = v.ok_or_else(|| missing(variable))?;
                let holds = match test {
                    Test::IsNull => v.is_null(),
                    Test::IsNumeric => v.is_number(),
                    Test::IsString => v.is_string(),
                    Test::IsBoolean => v.is_boolean(),
                    Test::IsTimestamp => v.as_str().and_then(timestamp).is_some(),
                    Test::IsPresent => true,
                };
                Ok(holds == *expected)
            }
            Rule::Matches { variable, pattern } => {
                let v = variable
                    .get(input, context)
                    .ok_or_else(|| missing(variable))?;
                Ok(v.as_str().is_some_and(|s| string_matches(s, pattern)))
            }
            Rule::Compare {
                variable,
                kind,
                cmp,
                operand,
            } => {
                let v = variable
                    .get(input, context)
                    .ok_or_else(|| missing(variable))?;
                let other = match operand {
                    Operand::Value(x) => x,
                    Operand::Path(p) => p.get(input, context).ok_or_else(|| missing(p))?,
                };
                Ok(compare(*kind, v, other).is_some_and(|o| cmp_holds(*cmp, o)))
            }
        }
    }
}

fn missing(p: &Path) -> TaskError {
    TaskError::new(
        errors::RUNTIME,
        format!(
            "Invalid path '{}': the choice state's condition path references an invalid value",
            p.text
        ),
    )
}

fn cmp_holds(cmp: Cmp, o: Ordering) -> bool {
    match cmp {
        Cmp::Equals => o == Ordering::Equal,
        Cmp::LessThan => o == Ordering::Less,
        Cmp::GreaterThan => o == Ordering::Greater,
        Cmp::LessThanEquals => o != Ordering::Greater,
        Cmp::GreaterThanEquals => o != Ordering::Less,
    }
}

/// The order of `a` and `b` as `kind` values; `None` (the comparison is
/// false) when either is not of that kind.
fn compare(kind: Kind, a: &Value, b: &Value) -> Option<Ordering> {
    match kind {
        Kind::String => Some(a.as_str()?.cmp(b.as_str()?)),
        Kind::Numeric => {
            let (x, y) = (a.as_number()?, b.as_number()?);
            match (x.as_i64(), y.as_i64()) {
                (Some(x), Some(y)) => Some(x.cmp(&y)),
                _ => x.as_f64()?.partial_cmp(&y.as_f64()?),
            }
        }
        Kind::Boolean => (a.as_bool()? == b.as_bool()?)
            .then_some(Ordering::Equal)
            .or(Some(Ordering::Less)),
        Kind::Timestamp => Some(timestamp(a.as_str()?)?.cmp(&timestamp(b.as_str()?)?)),
    }
}

/// An RFC 3339 timestamp (what ASL's Timestamp operators accept).
pub fn timestamp(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

/// `*` matches any run of characters; `\*` and `\\` are literal.
pub fn string_matches(s: &str, pattern: &str) -> bool {
    #[derive(PartialEq)]
    enum Tok {
        Any,
        Char(char),
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => toks.push(Tok::Char(chars.next().unwrap_or('\\'))),
            '*' => toks.push(Tok::Any),
            c => toks.push(Tok::Char(c)),
        }
    }
    let text: Vec<char> = s.chars().collect();
    // Classic wildcard matching with backtracking to the last star.
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match toks.get(p) {
            Some(Tok::Char(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(Tok::Any) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|t| *t == Tok::Any)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(rule: Value, input: Value) -> Result<bool, TaskError> {
        Rule::parse(&rule, false)
            .unwrap()
            .eval(&input, &json!({"State": {"Name": "S"}}))
    }

    fn holds(rule: Value, input: Value) -> bool {
        eval(rule, input).unwrap()
    }

    #[test]
    fn string_operators() {
        let i = json!({"s": "b", "t": "c"});
        assert!(holds(
            json!({"Variable": "$.s", "StringEquals": "b"}),
            i.clone()
        ));
        assert!(!holds(
            json!({"Variable": "$.s", "StringEquals": "c"}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.s", "StringLessThan": "c"}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.s", "StringGreaterThan": "a"}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.s", "StringLessThanEquals": "b"}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.s", "StringGreaterThanEquals": "b"}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.s", "StringLessThanPath": "$.t"}),
            i.clone()
        ));
        assert!(!holds(
            json!({"Variable": "$.s", "StringEqualsPath": "$.t"}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$$.State.Name", "StringEquals": "S"}),
            i.clone()
        ));
        // Wrong type: false, not an error.
        assert!(!holds(json!({"Variable": "$.s", "NumericEquals": 1}), i));
    }

    #[test]
    fn string_matches_wildcards() {
        assert!(string_matches("log-2024.txt", "log-*.txt"));
        assert!(string_matches("abc", "*"));
        assert!(string_matches("", "*"));
        assert!(!string_matches("abc", "a*d"));
        assert!(string_matches("a*c", "a\\*c"));
        assert!(!string_matches("abc", "a\\*c"));
        assert!(string_matches("aXbYc", "a*b*c"));
        assert!(holds(
            json!({"Variable": "$.s", "StringMatches": "x*"}),
            json!({"s": "xyz"})
        ));
    }

    #[test]
    fn numeric_operators() {
        let i = json!({"n": 5, "f": 5.5, "m": 5});
        assert!(holds(
            json!({"Variable": "$.n", "NumericEquals": 5}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.n", "NumericEquals": 5.0}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.n", "NumericLessThan": 5.5}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.f", "NumericGreaterThan": 5}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.n", "NumericLessThanEquals": 5}),
            i.clone()
        ));
        assert!(!holds(
            json!({"Variable": "$.n", "NumericGreaterThanEquals": 6}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.n", "NumericEqualsPath": "$.m"}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.n", "NumericLessThanPath": "$.f"}),
            i.clone()
        ));
        assert!(!holds(json!({"Variable": "$.n", "StringEquals": "5"}), i));
    }

    #[test]
    fn boolean_and_timestamp_operators() {
        let i = json!({"b": true, "c": true, "t": "2026-01-01T00:00:00Z", "u": "2026-01-01T01:00:00+01:00"});
        assert!(holds(
            json!({"Variable": "$.b", "BooleanEquals": true}),
            i.clone()
        ));
        assert!(!holds(
            json!({"Variable": "$.b", "BooleanEquals": false}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.b", "BooleanEqualsPath": "$.c"}),
            i.clone()
        ));
        // Same instant in another offset.
        assert!(holds(
            json!({"Variable": "$.t", "TimestampEqualsPath": "$.u"}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.t", "TimestampLessThan": "2026-01-02T00:00:00Z"}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.t", "TimestampGreaterThan": "2025-12-31T23:59:59Z"}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.t", "TimestampLessThanEquals": "2026-01-01T00:00:00Z"}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.t", "TimestampGreaterThanEquals": "2026-01-01T00:00:00Z"}),
            i.clone()
        ));
        assert!(!holds(
            json!({"Variable": "$.b", "TimestampEquals": "2026-01-01T00:00:00Z"}),
            i
        ));
    }

    #[test]
    fn type_tests_and_presence() {
        let i = json!({"n": null, "x": 1, "s": "a", "b": false, "t": "2026-01-01T00:00:00Z"});
        assert!(holds(json!({"Variable": "$.n", "IsNull": true}), i.clone()));
        assert!(holds(
            json!({"Variable": "$.x", "IsNull": false}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.x", "IsNumeric": true}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.s", "IsString": true}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.b", "IsBoolean": true}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.t", "IsTimestamp": true}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.s", "IsTimestamp": false}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.nope", "IsPresent": false}),
            i.clone()
        ));
        assert!(holds(
            json!({"Variable": "$.n", "IsPresent": true}),
            i.clone()
        ));
        let err = eval(json!({"Variable": "$.nope", "StringEquals": "a"}), i).unwrap_err();
        assert_eq!(err.error, "States.Runtime");
    }

    #[test]
    fn and_or_not() {
        let i = json!({"a": 1, "b": "x"});
        let a1 = json!({"Variable": "$.a", "NumericEquals": 1});
        let bx = json!({"Variable": "$.b", "StringEquals": "y"});
        assert!(!holds(json!({"And": [a1, bx]}), i.clone()));
        assert!(holds(json!({"Or": [a1, bx]}), i.clone()));
        assert!(holds(json!({"Not": bx}), i.clone()));
        assert!(holds(json!({"And": [a1, {"Not": bx}]}), i));
    }

    #[test]
    fn refuses_malformed_rules() {
        for bad in [
            json!({"Variable": "$.a"}),
            json!({"Variable": "$.a", "StringEquals": 1}),
            json!({"Variable": "$.a", "NumericEquals": "1"}),
            json!({"Variable": "$.a", "TimestampEquals": "yesterday"}),
            json!({"Variable": "$.a", "BooleanLessThan": true}),
            json!({"Variable": "$.a", "StringEquals": "x", "NumericEquals": 1}),
            json!({"Variable": "$.a", "Frobnicate": 1}),
            json!({"And": []}),
            json!({"Variable": "$.a", "IsNull": "yes"}),
        ] {
            assert!(Rule::parse(&bad, false).is_err(), "{bad} should be refused");
        }
        assert!(Rule::parse(&json!({"Variable": "$.a", "IsNull": true}), true).is_err());
    }
}
