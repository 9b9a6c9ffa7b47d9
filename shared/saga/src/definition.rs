//! An ASL definition parsed into typed states and validated once, at
//! parse: every name a transition uses exists, terminal rules hold, and
//! features the interpreter does not implement are refused by name.

use crate::choice::Rule;
use crate::path::{Path, ResultPath, Select};
use crate::retry::{Catcher, Retrier};
use crate::template::Template;
use crate::SagaError;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// A validated state machine. State names are unique across the whole
/// definition (including Parallel branches), as Step Functions requires.
#[derive(Debug, Clone)]
pub struct Definition {
    pub start_at: String,
    pub states: HashMap<String, State>,
}

#[derive(Debug, Clone)]
pub struct State {
    pub name: String,
    pub kind: Kind,
    pub input_path: Select,
    pub output_path: Select,
    /// `None`: the state ends its scope (End, Succeed, Fail; Choice decides).
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Pass {
        parameters: Option<Template>,
        result: Option<Value>,
        result_path: ResultPath,
    },
    Task(Box<Task>),
    Choice {
        choices: Vec<(Rule, String)>,
        default: Option<String>,
    },
    Wait(WaitFor),
    Succeed,
    Fail {
        error: Option<Text>,
        cause: Option<Text>,
    },
    Parallel(Box<Parallel>),
}

/// A Fail state's Error/Cause: literal or from a path.
#[derive(Debug, Clone)]
pub enum Text {
    Literal(String),
    Path(Path),
}

#[derive(Debug, Clone)]
pub struct Task {
    pub resource: Resource,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub result_path: ResultPath,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    pub timeout: Option<Timeout>,
}

#[derive(Debug, Clone)]
pub struct Parallel {
    /// The StartAt of each branch.
    pub branches: Vec<String>,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub result_path: ResultPath,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `arn:aws:states:::lambda:invoke`
    LambdaInvoke,
    /// `arn:aws:states:::lambda:invoke.waitForTaskToken`
    LambdaInvokeWait,
    /// Any other resource string (a Lambda ARN): invoked with the input.
    Function(String),
}

#[derive(Debug, Clone)]
pub enum Timeout {
    Seconds(u64),
    Path(Path),
}

#[derive(Debug, Clone)]
pub enum WaitFor {
    Seconds(u64),
    SecondsPath(Path),
    Timestamp(String),
    TimestampPath(Path),
}

const COMMON: &[&str] = &["Type", "Comment"];
const UNSUPPORTED: &[&str] = &[
    "HeartbeatSeconds",
    "HeartbeatSecondsPath",
    "Credentials",
    "Arguments",
    "Output",
    "Assign",
    "QueryLanguage",
    "ItemProcessor",
    "ItemsPath",
    "ItemSelector",
    "Iterator",
];

fn allowed(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pass" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "Result",
        ],
        "Task" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "ResultSelector",
            "Retry",
            "Catch",
            "Resource",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
        ],
        "Choice" => &["Choices", "Default", "InputPath", "OutputPath"],
        "Wait" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "Seconds",
            "SecondsPath",
            "Timestamp",
            "TimestampPath",
        ],
        "Succeed" => &["InputPath", "OutputPath"],
        "Fail" => &["Error", "Cause", "ErrorPath", "CausePath"],
        "Parallel" => &[
            "Branches",
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "ResultSelector",
            "Retry",
            "Catch",
        ],
        _ => &[],
    }
}

/// Replaces `${Name}` in every string of the document (but Comments) with
/// its substitution; an identifier without one is an error. `${` followed
/// by anything but an identifier and `}` is left as is.
fn substitute(
    value: &mut Value,
    subs: &HashMap<String, String>,
    comment: bool,
) -> Result<(), String> {
    match value {
        Value::String(s) if !comment && s.contains("${") => {
            let mut out = String::with_capacity(s.len());
            let mut rest = s.as_str();
            while let Some(at) = rest.find("${") {
                out.push_str(&rest[..at]);
                let after = &rest[at + 2..];
                let ident_len = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                if ident_len > 0 && after[ident_len..].starts_with('}') {
                    let name = &after[..ident_len];
                    let value = subs
                        .get(name)
                        .ok_or_else(|| format!("no substitution for ${{{name}}}"))?;
                    out.push_str(value);
                    rest = &after[ident_len + 1..];
                } else {
                    out.push_str("${");
                    rest = after;
                }
            }
            out.push_str(rest);
            *s = out;
        }
        Value::Array(items) => {
            for v in items {
                substitute(v, subs, false)?;
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                substitute(v, subs, k == "Comment")?;
            }
        }
        _ => {}
    }
    Ok(())
}

impl Definition {
    /// Parses and validates `text` after substituting `${Name}` strings.
    pub fn parse(
        text: &str,
        substitutions: &HashMap<String, String>,
    ) -> Result<Definition, SagaError> {
        let invalid = |e: String| SagaError::Invalid(format!("state machine definition: {e}"));
        let mut doc: Value = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        substitute(&mut doc, substitutions, false).map_err(invalid)?;
        let mut states = HashMap::new();
        let start_at = parse_scope(&doc, &mut states, true).map_err(invalid)?;
        Ok(Definition { start_at, states })
    }

    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.get(name)
    }
}

/// Parses one scope (the machine or a Parallel branch) into `all`; returns
/// its StartAt.
fn parse_scope(doc: &Value, all: &mut HashMap<String, State>, top: bool) -> Result<String, String> {
    let map = doc.as_object().ok_or("a state machine must be an object")?;
    let top_fields: &[&str] = if top {
        &["StartAt", "States", "Comment", "Version", "QueryLanguage"]
    } else {
        &["StartAt", "States", "Comment"]
    };
    for key in map.keys() {
        if !top_fields.contains(&key.as_str()) {
            return Err(format!(
                "field {key} is not supported at the top of a {}",
                if top { "definition" } else { "branch" }
            ));
        }
    }
    if let Some(lang) = map.get("QueryLanguage") {
        if lang != "JSONPath" {
            return Err(format!(
                "QueryLanguage {lang} is not supported (JSONPath only)"
            ));
        }
    }
    let start_at = str_field(map, "StartAt")?.ok_or("StartAt is required")?;
    let states = map
        .get("States")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
        .ok_or("States must be a non-empty object")?;
    let mut scope: BTreeMap<String, State> = BTreeMap::new();
    for (name, body) in states {
        if all.contains_key(name) || scope.contains_key(name) {
            return Err(format!("state name {name} is used twice"));
        }
        let state = parse_state(name, body, all).map_err(|e| format!("state {name}: {e}"))?;
        scope.insert(name.clone(), state);
    }
    if !scope.contains_key(&start_at) {
        return Err(format!("StartAt {start_at} is not a state"));
    }
    // Every transition stays inside its scope.
    let exists = |target: &str, from: &str, what: &str| {
        if scope.contains_key(target) {
            Ok(())
        } else {
            Err(format!(
                "state {from}: {what} {target} is not a state of this scope"
            ))
        }
    };
    for (name, state) in &scope {
        if let Some(next) = &state.next {
            exists(next, name, "Next")?;
        }
        match &state.kind {
            Kind::Choice { choices, default } => {
                for (_, next) in choices {
                    exists(next, name, "Choice Next")?;
                }
                if let Some(d) = default {
                    exists(d, name, "Default")?;
                }
            }
            Kind::Task(t) => {
                for c in &t.catch {
                    exists(&c.next, name, "Catch Next")?;
                }
            }
            Kind::Parallel(p) => {
                for c in &p.catch {
                    exists(&c.next, name, "Catch Next")?;
                }
            }
            _ => {}
        }
    }
    all.extend(scope);
    Ok(start_at)
}

fn str_field(map: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("{key} must be a string, not {other}")),
    }
}

fn path_field(map: &Map<String, Value>, key: &str) -> Result<Option<Path>, String> {
    str_field(map, key)?.map(|s| Path::parse(&s)).transpose()
}

fn select_field(map: &Map<String, Value>, key: &str) -> Result<Select, String> {
    match map.get(key) {
        None => Ok(Select::All),
        Some(Value::Null) => Ok(Select::Empty),
        Some(Value::String(s)) => Ok(Select::Path(Path::parse(s)?)),
        Some(other) => Err(format!("{key} must be a path or null, not {other}")),
    }
}

fn result_path_field(map: &Map<String, Value>) -> Result<ResultPath, String> {
    match map.get("ResultPath") {
        None => Ok(ResultPath::Replace),
        Some(Value::Null) => Ok(ResultPath::Discard),
        Some(Value::String(s)) => {
            let p = Path::parse(s)?;
            if p.context {
                return Err("ResultPath cannot point into the context object".into());
            }
            Ok(if p.segments.is_empty() {
                ResultPath::Replace
            } else {
                ResultPath::Path(p)
            })
        }
        Some(other) => Err(format!("ResultPath must be a path or null, not {other}")),
    }
}

fn template_field(map: &Map<String, Value>, key: &str) -> Result<Option<Template>, String> {
    map.get(key)
        .map(|v| Template::parse(v).map_err(|e| format!("{key}: {e}")))
        .transpose()
}

fn positive_int(v: &Value, what: &str) -> Result<u64, String> {
    v.as_u64()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{what} must be a positive integer, not {v}"))
}

fn parse_state(
    name: &str,
    body: &Value,
    all: &mut HashMap<String, State>,
) -> Result<State, String> {
    let map = body.as_object().ok_or("a state must be an object")?;
    let ty = str_field(map, "Type")?.ok_or("Type is required")?;
    if ty == "Map" {
        return Err("Map states are not supported".into());
    }
    let fields = allowed(&ty);
    if fields.is_empty() {
        return Err(format!("unknown state Type {ty}"));
    }
    for key in map.keys() {
        if UNSUPPORTED.contains(&key.as_str()) {
            return Err(format!("{key} is not supported"));
        }
        if !COMMON.contains(&key.as_str()) && !fields.contains(&key.as_str()) {
            return Err(format!("field {key} is not allowed in a {ty} state"));
        }
    }
    let next = str_field(map, "Next")?;
    let end = match map.get("End") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(format!("End must be a boolean, not {other}")),
    };
    let needs_transition = matches!(ty.as_str(), "Pass" | "Task" | "Wait" | "Parallel");
    if needs_transition && (next.is_some() == end) {
        return Err("exactly one of Next and End:true is required".into());
    }
    let kind = match ty.as_str() {
        "Pass" => Kind::Pass {
            parameters: template_field(map, "Parameters")?,
            result: map.get("Result").cloned(),
            result_path: result_path_field(map)?,
        },
        "Task" => Kind::Task(Box::new(parse_task(map)?)),
        "Choice" => {
            let list = map
                .get("Choices")
                .and_then(Value::as_array)
                .filter(|l| !l.is_empty())
                .ok_or("Choices must be a non-empty list")?;
            let mut choices = Vec::with_capacity(list.len());
            for (i, c) in list.iter().enumerate() {
                let rule = Rule::parse(c, true).map_err(|e| format!("Choices[{i}]: {e}"))?;
                let next = c
                    .get("Next")
                    .and_then(Value::as_str)
                    .ok_or(format!("Choices[{i}]: Next must be a string"))?;
                choices.push((rule, next.to_string()));
            }
            Kind::Choice {
                choices,
                default: str_field(map, "Default")?,
            }
        }
        "Wait" => {
            let mut found = Vec::new();
            if let Some(v) = map.get("Seconds") {
                let n = v
                    .as_u64()
                    .ok_or(format!("Seconds must be a non-negative integer, not {v}"))?;
                found.push(WaitFor::Seconds(n));
            }
            if let Some(p) = path_field(map, "SecondsPath")? {
                found.push(WaitFor::SecondsPath(p));
            }
            if let Some(t) = str_field(map, "Timestamp")? {
                if crate::choice::timestamp(&t).is_none() {
                    return Err(format!("Timestamp {t} is not an RFC 3339 timestamp"));
                }
                found.push(WaitFor::Timestamp(t));
            }
            if let Some(p) = path_field(map, "TimestampPath")? {
                found.push(WaitFor::TimestampPath(p));
            }
            if found.len() != 1 {
                return Err(
                    "exactly one of Seconds, SecondsPath, Timestamp, TimestampPath is required"
                        .into(),
                );
            }
            Kind::Wait(found.remove(0))
        }
        "Succeed" => Kind::Succeed,
        "Fail" => {
            let text = |lit: &str, path: &str| -> Result<Option<Text>, String> {
                match (str_field(map, lit)?, path_field(map, path)?) {
                    (Some(_), Some(_)) => Err(format!("{lit} and {path} are exclusive")),
                    (Some(s), None) => Ok(Some(Text::Literal(s))),
                    (None, Some(p)) => Ok(Some(Text::Path(p))),
                    (None, None) => Ok(None),
                }
            };
            Kind::Fail {
                error: text("Error", "ErrorPath")?,
                cause: text("Cause", "CausePath")?,
            }
        }
        "Parallel" => {
            let list = map
                .get("Branches")
                .and_then(Value::as_array)
                .filter(|l| !l.is_empty())
                .ok_or("Branches must be a non-empty list")?;
            let mut branches = Vec::with_capacity(list.len());
            for (i, b) in list.iter().enumerate() {
                branches
                    .push(parse_scope(b, all, false).map_err(|e| format!("Branches[{i}]: {e}"))?);
            }
            Kind::Parallel(Box::new(Parallel {
                branches,
                parameters: template_field(map, "Parameters")?,
                result_selector: template_field(map, "ResultSelector")?,
                result_path: result_path_field(map)?,
                retry: parse_retry(map)?,
                catch: parse_catch(map)?,
            }))
        }
        other => return Err(format!("unknown state Type {other}")),
    };
    Ok(State {
        name: name.to_string(),
        kind,
        input_path: select_field(map, "InputPath")?,
        output_path: select_field(map, "OutputPath")?,
        next,
    })
}

fn parse_task(map: &Map<String, Value>) -> Result<Task, String> {
    let resource = str_field(map, "Resource")?.ok_or("Resource is required")?;
    let parameters = template_field(map, "Parameters")?;
    let resource = match resource.as_str() {
        "arn:aws:states:::lambda:invoke" => Resource::LambdaInvoke,
        "arn:aws:states:::lambda:invoke.waitForTaskToken" => Resource::LambdaInvokeWait,
        r if r.starts_with("arn:aws:states:::") => {
            return Err(format!("service integration {r} is not supported"))
        }
        r if r.starts_with("arn:aws:states:") && r.contains(":activity:") => {
            return Err(format!("activities are not supported ({r})"))
        }
        r => Resource::Function(r.to_string()),
    };
    if matches!(
        resource,
        Resource::LambdaInvoke | Resource::LambdaInvokeWait
    ) {
        match parameters.as_ref().and_then(|p| p.field("FunctionName")) {
            Some(Template::Literal(Value::String(_))) | Some(Template::Path(_)) => {}
            _ => return Err("lambda:invoke needs Parameters.FunctionName".into()),
        }
    }
    let timeout = match (
        map.get("TimeoutSeconds"),
        path_field(map, "TimeoutSecondsPath")?,
    ) {
        (Some(_), Some(_)) => {
            return Err("TimeoutSeconds and TimeoutSecondsPath are exclusive".into())
        }
        (Some(v), None) => Some(Timeout::Seconds(positive_int(v, "TimeoutSeconds")?)),
        (None, Some(p)) => Some(Timeout::Path(p)),
        (None, None) => None,
    };
    Ok(Task {
        resource,
        parameters,
        result_selector: template_field(map, "ResultSelector")?,
        result_path: result_path_field(map)?,
        retry: parse_retry(map)?,
        catch: parse_catch(map)?,
        timeout,
    })
}

fn error_equals(v: &Map<String, Value>, list_len: usize, i: usize) -> Result<Vec<String>, String> {
    let names: Vec<String> = v
        .get("ErrorEquals")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or("ErrorEquals must be a non-empty list")?
        .iter()
        .map(|n| {
            n.as_str()
                .map(str::to_owned)
                .ok_or("ErrorEquals holds strings")
        })
        .collect::<Result<_, _>>()?;
    if names.iter().any(|n| n == crate::invoker::errors::ALL)
        && (names.len() > 1 || i + 1 != list_len)
    {
        return Err("States.ALL must be alone in the last ErrorEquals".into());
    }
    Ok(names)
}

fn parse_retry(map: &Map<String, Value>) -> Result<Vec<Retrier>, String> {
    let Some(list) = map.get("Retry") else {
        return Ok(Vec::new());
    };
    let list = list.as_array().ok_or("Retry must be a list")?;
    let mut out = Vec::with_capacity(list.len());
    for (i, r) in list.iter().enumerate() {
        let err = |e: String| format!("Retry[{i}]: {e}");
        let m = r.as_object().ok_or(err("must be an object".into()))?;
        for key in m.keys() {
            if ![
                "ErrorEquals",
                "IntervalSeconds",
                "MaxAttempts",
                "BackoffRate",
                "MaxDelaySeconds",
                "JitterStrategy",
                "Comment",
            ]
            .contains(&key.as_str())
            {
                return Err(err(format!("field {key} is not allowed")));
            }
        }
        if m.get("JitterStrategy").is_some_and(|j| j != "NONE") {
            return Err(err("JitterStrategy FULL is not supported".into()));
        }
        let interval = match m.get("IntervalSeconds") {
            None => 1,
            Some(v) => positive_int(v, "IntervalSeconds").map_err(err)?,
        };
        let max_attempts = match m.get("MaxAttempts") {
            None => 3,
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    err(format!(
                        "MaxAttempts must be a non-negative integer, not {v}"
                    ))
                })?,
        };
        let backoff_rate = match m.get("BackoffRate") {
            None => 2.0,
            Some(v) => v
                .as_f64()
                .filter(|r| *r >= 1.0)
                .ok_or_else(|| err(format!("BackoffRate must be a number >= 1.0, not {v}")))?,
        };
        let max_delay = m
            .get("MaxDelaySeconds")
            .map(|v| positive_int(v, "MaxDelaySeconds").map(|n| n as f64))
            .transpose()
            .map_err(err)?;
        out.push(Retrier {
            error_equals: error_equals(m, list.len(), i).map_err(err)?,
            interval_seconds: interval as f64,
            max_attempts,
            backoff_rate,
            max_delay_seconds: max_delay,
        });
    }
    Ok(out)
}

fn parse_catch(map: &Map<String, Value>) -> Result<Vec<Catcher>, String> {
    let Some(list) = map.get("Catch") else {
        return Ok(Vec::new());
    };
    let list = list.as_array().ok_or("Catch must be a list")?;
    let mut out = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        let err = |e: String| format!("Catch[{i}]: {e}");
        let m = c.as_object().ok_or(err("must be an object".into()))?;
        for key in m.keys() {
            if !["ErrorEquals", "Next", "ResultPath", "Comment"].contains(&key.as_str()) {
                return Err(err(format!("field {key} is not allowed")));
            }
        }
        out.push(Catcher {
            error_equals: error_equals(m, list.len(), i).map_err(err)?,
            next: str_field(m, "Next")
                .map_err(err)?
                .ok_or(err("Next is required".into()))?,
            result_path: result_path_field(m).map_err(err)?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Definition, SagaError> {
        Definition::parse(&v.to_string(), &HashMap::new())
    }

    fn fails_with(v: Value, needle: &str) {
        match parse(v) {
            Err(SagaError::Invalid(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
            other => panic!("expected Invalid containing {needle:?}, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_checkout_definition_with_substitutions() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../infra/checkout.asl.json"
        ))
        .unwrap();
        let names = [
            "ReserveStockFunction",
            "AuthorizePaymentFunction",
            "CommitStockFunction",
            "ConfirmOrderFunction",
            "VoidPaymentFunction",
            "ReleaseStockFunction",
            "FailOrderFunction",
        ];
        let subs: HashMap<String, String> = names
            .iter()
            .map(|n| (n.to_string(), format!("fn-{n}")))
            .collect();
        let def = Definition::parse(&text, &subs).unwrap();
        assert_eq!(def.start_at, "ReserveStock");
        let Kind::Task(t) = &def.state("AuthorizePayment").unwrap().kind else {
            panic!()
        };
        assert_eq!(t.resource, Resource::LambdaInvokeWait);
        assert_eq!(
            t.parameters.as_ref().unwrap().field("FunctionName"),
            Some(&Template::Literal(json!("fn-AuthorizePaymentFunction")))
        );
        // A missing substitution is an error.
        let mut partial = subs.clone();
        partial.remove("FailOrderFunction");
        let e = Definition::parse(&text, &partial).unwrap_err();
        assert!(e.to_string().contains("${FailOrderFunction}"), "{e}");
    }

    #[test]
    fn validates_transitions_and_terminals() {
        fails_with(
            json!({"StartAt": "X", "States": {"A": {"Type": "Succeed"}}}),
            "StartAt X",
        );
        fails_with(
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}),
            "Next B",
        );
        fails_with(
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass"}}}),
            "Next and End",
        );
        fails_with(
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "Next": "A"}}}),
            "Next and End",
        );
        fails_with(
            json!({"StartAt": "A", "States": {"A": {"Type": "Succeed", "Next": "A"}}}),
            "not allowed",
        );
        fails_with(
            json!({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": true, "Next": "B"}], "Default": "A"}}}),
            "Choice Next B",
        );
        fails_with(
            json!({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": true, "Next": "A"}], "Default": "Z"}}}),
            "Default Z",
        );
        fails_with(
            json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "End": true, "Catch": [{"ErrorEquals": ["X"], "Next": "Q"}]}}}),
            "Catch Next Q",
        );
        fails_with(
            json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "End": true, "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]}}}),
            "States.ALL",
        );
        // A branch cannot jump out of its scope.
        fails_with(
            json!({"StartAt": "P", "States": {
                "P": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "P"}}}]}
            }}),
            "Next P",
        );
    }

    #[test]
    fn refuses_unsupported_features() {
        fails_with(
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true}}}),
            "Map states are not supported",
        );
        fails_with(
            json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "End": true, "HeartbeatSeconds": 5}}}),
            "HeartbeatSeconds is not supported",
        );
        fails_with(
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "Parameters": {"x.$": "States.UUID()"}}}}),
            "intrinsic function States.UUID",
        );
        fails_with(
            json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": true}}}),
            "sqs:sendMessage",
        );
        fails_with(
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "InputPath": "$..a"}}}),
            "recursive descent",
        );
        fails_with(
            json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Succeed"}}}),
            "JSONata",
        );
        fails_with(
            json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}),
            "FunctionName",
        );
        fails_with(
            json!({"StartAt": "A", "States": {"A": {"Type": "Wait", "End": true}}}),
            "exactly one of Seconds",
        );
    }

    #[test]
    fn retry_defaults() {
        let def = parse(json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "End": true, "Retry": [{"ErrorEquals": ["X"]}]}}})).unwrap();
        let Kind::Task(t) = &def.state("A").unwrap().kind else {
            panic!()
        };
        let r = &t.retry[0];
        assert_eq!(
            (
                r.interval_seconds,
                r.max_attempts,
                r.backoff_rate,
                r.max_delay_seconds
            ),
            (1.0, 3, 2.0, None)
        );
        fails_with(
            json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "End": true, "Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0.5}]}}}),
            "BackoffRate",
        );
    }
}
