//! Parameters / ResultSelector templates: a JSON value whose `key.$` fields
//! take their value from a path (recursively, in objects and arrays).

use crate::invoker::TaskError;
use crate::path::Path;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    Literal(Value),
    Path(Path),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
}

impl Template {
    /// Parses a template; a `.$` field must hold a path string. Intrinsic
    /// functions (`States.Format(...)`, ...) are not supported.
    pub fn parse(value: &Value) -> Result<Template, String> {
        match value {
            Value::Object(map) => {
                let mut fields = Vec::with_capacity(map.len());
                for (key, v) in map {
                    if let Some(name) = key.strip_suffix(".$") {
                        let Value::String(text) = v else {
                            return Err(format!("field {key} must be a path string"));
                        };
                        if text.starts_with("States.") {
                            let function = text.split('(').next().unwrap_or(text);
                            return Err(format!(
                                "field {key}: intrinsic function {function} is not supported"
                            ));
                        }
                        let path = Path::parse(text).map_err(|e| format!("field {key}: {e}"))?;
                        fields.push((name.to_string(), Template::Path(path)));
                    } else {
                        fields.push((key.clone(), Template::parse(v)?));
                    }
                }
                Ok(Template::Object(fields))
            }
            Value::Array(items) => Ok(Template::Array(
                items
                    .iter()
                    .map(Template::parse)
                    .collect::<Result<_, _>>()?,
            )),
            other => Ok(Template::Literal(other.clone())),
        }
    }

    /// The value of the template for `input` (and the context object).
    pub fn render(&self, input: &Value, context: &Value) -> Result<Value, TaskError> {
        match self {
            Template::Literal(v) => Ok(v.clone()),
            Template::Path(p) => p.resolve(input, context),
            Template::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (k, t) in fields {
                    out.insert(k.clone(), t.render(input, context)?);
                }
                Ok(Value::Object(out))
            }
            Template::Array(items) => items
                .iter()
                .map(|t| t.render(input, context))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
        }
    }

    /// The literal value at `key` of an object template (e.g. a Task's
    /// `Parameters.FunctionName`), if it is one.
    pub fn field(&self, key: &str) -> Option<&Template> {
        match self {
            Template::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, t)| t),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_paths_recursively() {
        let t = Template::parse(&json!({
            "task": "x",
            "id.$": "$.order.id",
            "token.$": "$$.Task.Token",
            "nested": {"n.$": "$.n", "list": [{"m.$": "$.n"}, 3]},
            "whole.$": "$"
        }))
        .unwrap();
        let input = json!({"order": {"id": "o1"}, "n": 7});
        let ctx = json!({"Task": {"Token": "tok"}});
        assert_eq!(
            t.render(&input, &ctx).unwrap(),
            json!({
                "task": "x", "id": "o1", "token": "tok",
                "nested": {"n": 7, "list": [{"m": 7}, 3]},
                "whole": input
            })
        );
        let missing = Template::parse(&json!({"x.$": "$.nope"})).unwrap();
        assert_eq!(
            missing.render(&input, &ctx).unwrap_err().error,
            "States.Runtime"
        );
    }

    #[test]
    fn refuses_bad_templates() {
        assert!(Template::parse(&json!({"x.$": 3})).is_err());
        assert!(Template::parse(&json!({"x.$": "nope"})).is_err());
        let e = Template::parse(&json!({"x.$": "States.Format('{}', $.a)"})).unwrap_err();
        assert!(e.contains("States.Format"), "{e}");
    }
}
