//! IAM evaluation of one call against a role's statements, as AWS does it
//! for identity policies: an explicit Deny wins, otherwise some Allow must
//! match both the action and the resource. `Action`/`NotAction` and
//! `Resource`/`NotResource` take `*` and `?` wildcards; actions compare
//! case-insensitively, resources case-sensitively. Conditions: the string
//! operators (`StringEquals`, `StringLike` and their `Not`/`IgnoreCase`
//! forms) on the keys the call carries (`ses:FromAddress`); a statement
//! with any other condition is reported, never assumed to match.

use serde_json::Value;

/// One AWS call: `service:Action` and the ARN it acts on (`*` for actions
/// that take no resource).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Call {
    pub action: String,
    pub resource: String,
    /// Condition keys of the request (`ses:FromAddress` -> the sender).
    pub context: Vec<(String, String)>,
}

impl Call {
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Call {
        Call {
            action: action.into(),
            resource: resource.into(),
            context: Vec::new(),
        }
    }
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on {}", self.action, self.resource)
    }
}

/// A statement with its resources resolved to strings.
#[derive(Debug, Clone)]
pub struct Statement {
    pub allow: bool,
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub resources: Vec<String>,
    pub not_resources: Vec<String>,
    /// (operator, key, values)
    pub conditions: Vec<(String, String, Vec<String>)>,
}

/// The outcome of a statement's conditions for one call.
#[derive(Debug, PartialEq)]
enum Conditions {
    Hold,
    Fail,
    /// An operator the rehearsal does not evaluate.
    Unknown(String),
}

impl Statement {
    /// Parses a template statement; `resolve` turns each resource entry
    /// (a string or a token) into an ARN pattern.
    pub fn parse(
        s: &Value,
        mut resolve: impl FnMut(&Value) -> Result<String, String>,
    ) -> Result<Statement, String> {
        let strings = |v: &Value| -> Vec<String> {
            match v {
                Value::String(s) => vec![s.clone()],
                Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            }
        };
        let mut resources = |v: &Value| -> Result<Vec<String>, String> {
            match v {
                Value::Null => Ok(Vec::new()),
                Value::Array(a) => a.iter().map(&mut resolve).collect(),
                other => Ok(vec![resolve(other)?]),
            }
        };
        Ok(Statement {
            allow: s["Effect"].as_str() != Some("Deny"),
            actions: strings(&s["Action"]),
            not_actions: strings(&s["NotAction"]),
            resources: resources(&s["Resource"])?,
            not_resources: resources(&s["NotResource"])?,
            conditions: {
                let mut out = Vec::new();
                for (op, keys) in s["Condition"].as_object().into_iter().flatten() {
                    for (key, v) in keys.as_object().into_iter().flatten() {
                        let values = match v {
                            Value::Array(a) => {
                                a.iter().map(&mut resolve).collect::<Result<Vec<_>, _>>()?
                            }
                            other => vec![resolve(other)?],
                        };
                        out.push((op.clone(), key.clone(), values));
                    }
                }
                out
            },
        })
    }

    fn conditions(&self, call: &Call) -> Conditions {
        for (op, key, values) in &self.conditions {
            let (negated, base) = match op.strip_prefix("StringNot") {
                Some(rest) => (true, format!("String{rest}")),
                None => (false, op.clone()),
            };
            let compare: fn(&str, &str) -> bool = match base.as_str() {
                "StringEquals" => |p, v| p == v,
                "StringEqualsIgnoreCase" => |p, v| p.eq_ignore_ascii_case(v),
                "StringLike" => wildcard,
                _ => return Conditions::Unknown(op.clone()),
            };
            let present = call
                .context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.as_str());
            let matched = present.is_some_and(|v| values.iter().any(|p| compare(p, v)));
            if matched == negated {
                return Conditions::Fail;
            }
        }
        Conditions::Hold
    }

    fn matches(&self, call: &Call) -> bool {
        let action = |p: &String| wildcard(&p.to_lowercase(), &call.action.to_lowercase());
        let resource = |p: &String| wildcard(p, &call.resource);
        let action_ok = if self.not_actions.is_empty() {
            self.actions.iter().any(action)
        } else {
            !self.not_actions.iter().any(action)
        };
        let resource_ok = if self.not_resources.is_empty() {
            self.resources.iter().any(resource)
        } else {
            !self.not_resources.iter().any(resource)
        };
        action_ok && resource_ok
    }
}

/// Whether the statements allow `call`: `Err` says why not.
pub fn allowed(statements: &[Statement], call: &Call) -> Result<(), String> {
    if statements.iter().any(|s| !s.allow && s.matches(call)) {
        return Err("explicitly denied".into());
    }
    let allows: Vec<Conditions> = statements
        .iter()
        .filter(|s| s.allow && s.matches(call))
        .map(|s| s.conditions(call))
        .collect();
    if allows.contains(&Conditions::Hold) {
        return Ok(());
    }
    if let Some(Conditions::Unknown(op)) =
        allows.iter().find(|c| matches!(c, Conditions::Unknown(_)))
    {
        return Err(format!(
            "allowed only under a {op} condition the rehearsal does not evaluate"
        ));
    }
    if !allows.is_empty() {
        return Err("its statements' conditions do not hold".into());
    }
    Err("no statement allows it".into())
}

/// `*` matches any run of characters, `?` exactly one.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TABLE: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/t";

    fn call(action: &str, resource: &str) -> Call {
        Call::new(action, resource)
    }

    fn parse(s: Value) -> Statement {
        Statement::parse(&s, |v| match v {
            Value::String(s) => Ok(s.clone()),
            Value::Object(m) if m.contains_key("Ref") => Ok(TABLE.to_owned()),
            other => Err(format!("{other}")),
        })
        .unwrap()
    }

    #[test]
    fn wildcards_match_runs_and_single_characters() {
        assert!(wildcard("dynamodb:*", "dynamodb:GetItem"));
        assert!(wildcard("a*c*e", "abcde"));
        assert!(wildcard("a?c", "abc"));
        assert!(!wildcard("a?c", "abbc"));
        assert!(!wildcard("table/t", "table/t/index/GSI1"));
        assert!(wildcard("table/t/index/*", "table/t/index/GSI1"));
        assert!(wildcard("*", ""));
    }

    #[test]
    fn actions_ignore_case_resources_do_not_and_deny_wins() {
        let read = parse(
            json!({"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": {"Ref": "Table"}}),
        );
        let index = parse(
            json!({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": format!("{TABLE}/index/*")}),
        );
        let all = [read.clone(), index];
        assert!(allowed(&all, &call("dynamodb:getitem", TABLE)).is_ok());
        assert!(allowed(
            &all,
            &call("dynamodb:Query", &format!("{TABLE}/index/GSI1"))
        )
        .is_ok());
        // A read route cannot write, nor read the index by GetItem.
        assert_eq!(
            allowed(&all, &call("dynamodb:PutItem", TABLE)),
            Err("no statement allows it".into())
        );
        assert!(allowed(
            &all,
            &call("dynamodb:GetItem", &format!("{TABLE}/index/GSI1"))
        )
        .is_err());
        assert!(allowed(&all, &call("dynamodb:GetItem", &TABLE.to_uppercase())).is_err());
        let deny = parse(json!({"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}));
        assert_eq!(
            allowed(&[read, deny], &call("dynamodb:GetItem", TABLE)),
            Err("explicitly denied".into())
        );
    }

    #[test]
    fn not_action_and_conditions() {
        let s = parse(json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}));
        assert!(allowed(std::slice::from_ref(&s), &call("sqs:SendMessage", "arn:q")).is_ok());
        assert!(allowed(&[s], &call("iam:PassRole", "arn:r")).is_err());
        let c = parse(
            json!({"Effect": "Allow", "Action": "sqs:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}),
        );
        assert!(allowed(&[c], &call("sqs:SendMessage", "arn:q"))
            .unwrap_err()
            .contains("Bool condition"));
        let ses = parse(
            json!({"Effect": "Allow", "Action": "ses:SendEmail", "Resource": "*",
            "Condition": {"StringEquals": {"ses:FromAddress": "no-reply@example.com"}}}),
        );
        let mut send = call(
            "ses:SendEmail",
            "arn:aws:ses:us-east-1:123456789012:identity/example.com",
        );
        assert_eq!(
            allowed(std::slice::from_ref(&ses), &send),
            Err("its statements' conditions do not hold".into())
        );
        send.context
            .push(("ses:FromAddress".into(), "no-reply@example.com".into()));
        assert!(allowed(std::slice::from_ref(&ses), &send).is_ok());
        send.context[0].1 = "ceo@example.com".into();
        assert!(allowed(&[ses], &send).is_err());
    }
}
