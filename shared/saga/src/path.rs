//! The JsonPath subset of ASL: `$`, `$.a.b`, `$.a[0]`, `$['a']`, and the
//! context object (`$$.Task.Token`, `$$.Execution.Id`, ...); reading a value
//! and setting one (ResultPath).

use crate::invoker::TaskError;
use serde_json::{Map, Value};

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Field(String),
    Index(usize),
}

/// A parsed reference path. `context` is true for `$$` paths, which read
/// the context object instead of the state's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub text: String,
    pub context: bool,
    pub segments: Vec<Segment>,
}

impl Path {
    /// Parses `text`; anything beyond the subset (wildcards, filters,
    /// slices, `..`) is refused with the reason.
    pub fn parse(text: &str) -> Result<Path, String> {
        let (context, mut rest) = if let Some(r) = text.strip_prefix("$$") {
            (true, r)
        } else if let Some(r) = text.strip_prefix('$') {
            (false, r)
        } else {
            return Err(format!("path {text:?} does not start with $"));
        };
        let bad = |why: &str| format!("path {text:?}: {why}");
        let mut segments = Vec::new();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                if r.starts_with('.') {
                    return Err(bad("recursive descent (..) is not supported"));
                }
                let end = r.find(['.', '[']).unwrap_or(r.len());
                let name = &r[..end];
                if name.is_empty() {
                    return Err(bad("empty field name"));
                }
                if name == "*" {
                    return Err(bad("wildcards are not supported"));
                }
                segments.push(Segment::Field(name.to_string()));
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']').ok_or_else(|| bad("unclosed ["))?;
                let inner = r[..end].trim();
                if let Some(quoted) = inner
                    .strip_prefix('\'')
                    .and_then(|s| s.strip_suffix('\''))
                    .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
                {
                    segments.push(Segment::Field(quoted.to_string()));
                } else if let Ok(i) = inner.parse::<usize>() {
                    segments.push(Segment::Index(i));
                } else {
                    return Err(bad(&format!(
                        "[{inner}] is not supported (only [n] and ['name'])"
                    )));
                }
                rest = &r[end + 1..];
            } else {
                return Err(bad("expected . or ["));
            }
        }
        Ok(Path {
            text: text.to_string(),
            context,
            segments,
        })
    }

    /// The value at this path in `input` (or `context` for `$$` paths);
    /// `None` when it does not resolve.
    pub fn get<'a>(&self, input: &'a Value, context: &'a Value) -> Option<&'a Value> {
        let mut at = if self.context { context } else { input };
        for seg in &self.segments {
            at = match (seg, at) {
                (Segment::Field(f), Value::Object(m)) => m.get(f)?,
                (Segment::Index(i), Value::Array(a)) => a.get(*i)?,
                _ => return None,
            };
        }
        Some(at)
    }

    /// Like [`Path::get`], cloned, with `States.Runtime` when it does not
    /// resolve (what Step Functions raises).
    pub fn resolve(&self, input: &Value, context: &Value) -> Result<Value, TaskError> {
        self.get(input, context).cloned().ok_or_else(|| {
            TaskError::runtime(format!(
                "Invalid path '{}': the path does not resolve in the input",
                self.text
            ))
        })
    }

    /// Sets `value` at this path inside `target` (ResultPath): `$` replaces
    /// the whole document; missing objects on the way are created; an index
    /// must exist; a non-object on the way is `States.Runtime`.
    pub fn set(&self, target: Value, value: Value) -> Result<Value, TaskError> {
        if self.context {
            return Err(TaskError::runtime(format!(
                "cannot write to the context object ({})",
                self.text
            )));
        }
        if self.segments.is_empty() {
            return Ok(value);
        }
        let mut root = target;
        let mut at = &mut root;
        let last = self.segments.len() - 1;
        for (n, seg) in self.segments.iter().enumerate() {
            let not_container = || {
                TaskError::runtime(format!(
                    "Invalid path '{}': cannot set a field inside a non-object value",
                    self.text
                ))
            };
            match seg {
                Segment::Field(f) => {
                    let map = at.as_object_mut().ok_or_else(not_container)?;
                    if n == last {
                        map.insert(f.clone(), value);
                        return Ok(root);
                    }
                    at = map
                        .entry(f.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                }
                Segment::Index(i) => {
                    let list = at.as_array_mut().ok_or_else(not_container)?;
                    let len = list.len();
                    let slot = list.get_mut(*i).ok_or_else(|| {
                        TaskError::runtime(format!(
                            "Invalid path '{}': index {i} is out of range ({len} elements)",
                            self.text
                        ))
                    })?;
                    if n == last {
                        *slot = value;
                        return Ok(root);
                    }
                    at = slot;
                }
            }
        }
        Ok(root)
    }
}

/// InputPath/OutputPath: absent → `$` (the whole value), `null` → `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Select {
    #[default]
    All,
    Empty,
    Path(Path),
}

impl Select {
    pub fn apply(&self, value: &Value, context: &Value) -> Result<Value, TaskError> {
        match self {
            Select::All => Ok(value.clone()),
            Select::Empty => Ok(Value::Object(Map::new())),
            Select::Path(p) => p.resolve(value, context),
        }
    }
}

/// ResultPath: absent → `$` (the result replaces the input), `null` → the
/// result is discarded (the input passes on).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ResultPath {
    #[default]
    Replace,
    Discard,
    Path(Path),
}

impl ResultPath {
    /// Merges `result` into the state's raw `input`.
    pub fn apply(&self, input: &Value, result: Value) -> Result<Value, TaskError> {
        match self {
            ResultPath::Replace => Ok(result),
            ResultPath::Discard => Ok(input.clone()),
            ResultPath::Path(p) => p.set(input.clone(), result),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Path {
        Path::parse(s).unwrap()
    }

    #[test]
    fn parses_the_subset_and_refuses_the_rest() {
        assert_eq!(p("$").segments, vec![]);
        assert_eq!(
            p("$.a.b[2]['c d']").segments,
            vec![
                Segment::Field("a".into()),
                Segment::Field("b".into()),
                Segment::Index(2),
                Segment::Field("c d".into())
            ]
        );
        assert!(p("$$.Task.Token").context);
        for bad in [
            "a.b",
            "$..a",
            "$.a[*]",
            "$.a[?(@.x)]",
            "$.a[1:2]",
            "$.",
            "$.*",
            "$a",
        ] {
            assert!(Path::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn reads_values_and_context() {
        let input = json!({"a": {"b": [10, {"c": "x"}]}, "k y": 1});
        let ctx = json!({"Task": {"Token": "t"}});
        assert_eq!(p("$.a.b[0]").get(&input, &ctx), Some(&json!(10)));
        assert_eq!(p("$.a.b[1].c").get(&input, &ctx), Some(&json!("x")));
        assert_eq!(p("$['k y']").get(&input, &ctx), Some(&json!(1)));
        assert_eq!(p("$$.Task.Token").get(&input, &ctx), Some(&json!("t")));
        assert_eq!(p("$").get(&input, &ctx), Some(&input));
        assert_eq!(p("$.a.b[5]").get(&input, &ctx), None);
        let err = p("$.missing").resolve(&input, &ctx).unwrap_err();
        assert_eq!(err.error, "States.Runtime");
    }

    #[test]
    fn result_path_merges() {
        let input = json!({"a": 1, "n": {"x": 1}});
        assert_eq!(
            ResultPath::Replace.apply(&input, json!(5)).unwrap(),
            json!(5)
        );
        assert_eq!(ResultPath::Discard.apply(&input, json!(5)).unwrap(), input);
        let set = ResultPath::Path(p("$.n.y.z"));
        assert_eq!(
            set.apply(&input, json!(true)).unwrap(),
            json!({"a": 1, "n": {"x": 1, "y": {"z": true}}})
        );
        let over = ResultPath::Path(p("$.a"));
        assert_eq!(
            over.apply(&input, json!([1])).unwrap(),
            json!({"a": [1], "n": {"x": 1}})
        );
        let into_number = ResultPath::Path(p("$.a.b"));
        assert_eq!(
            into_number.apply(&input, json!(1)).unwrap_err().error,
            "States.Runtime"
        );
        let idx = ResultPath::Path(p("$.l[1]"));
        assert_eq!(
            idx.apply(&json!({"l": [0, 0]}), json!(9)).unwrap(),
            json!({"l": [0, 9]})
        );
        assert!(idx.apply(&json!({"l": []}), json!(9)).is_err());
    }

    #[test]
    fn input_and_output_path_null_gives_empty_object() {
        let v = json!({"a": {"b": 1}});
        assert_eq!(Select::Empty.apply(&v, &json!({})).unwrap(), json!({}));
        assert_eq!(Select::All.apply(&v, &json!({})).unwrap(), v);
        assert_eq!(
            Select::Path(p("$.a")).apply(&v, &json!({})).unwrap(),
            json!({"b": 1})
        );
    }
}
