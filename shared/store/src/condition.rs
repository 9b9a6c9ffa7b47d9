use serde_json::Value;

/// Comparison operators of a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A typed condition on the current item (before the write).
///
/// Semantics follow DynamoDB: comparisons are between values of the same
/// type (numbers numerically, strings by UTF-8 bytes); a comparison with a
/// missing attribute or a value of another type is false, except `Ne`,
/// which is true when the attribute is missing.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The item exists.
    Exists,
    /// The item does not exist.
    NotExists,
    AttrExists(String),
    AttrNotExists(String),
    Compare {
        attr: String,
        op: Cmp,
        value: Value,
    },
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
}

impl Condition {
    pub fn eq(attr: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::Compare {
            attr: attr.into(),
            op: Cmp::Eq,
            value: value.into(),
        }
    }
    pub fn ne(attr: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::Compare {
            attr: attr.into(),
            op: Cmp::Ne,
            value: value.into(),
        }
    }
    pub fn lt(attr: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::Compare {
            attr: attr.into(),
            op: Cmp::Lt,
            value: value.into(),
        }
    }
    pub fn le(attr: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::Compare {
            attr: attr.into(),
            op: Cmp::Le,
            value: value.into(),
        }
    }
    pub fn gt(attr: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::Compare {
            attr: attr.into(),
            op: Cmp::Gt,
            value: value.into(),
        }
    }
    pub fn ge(attr: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::Compare {
            attr: attr.into(),
            op: Cmp::Ge,
            value: value.into(),
        }
    }
    pub fn and(self, other: Condition) -> Self {
        match self {
            Condition::And(mut all) => {
                all.push(other);
                Condition::And(all)
            }
            first => Condition::And(vec![first, other]),
        }
    }
    pub fn or(self, other: Condition) -> Self {
        match self {
            Condition::Or(mut any) => {
                any.push(other);
                Condition::Or(any)
            }
            first => Condition::Or(vec![first, other]),
        }
    }
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Self {
        Condition::Not(Box::new(self))
    }

    /// Evaluates the condition against the current item (`None`: absent).
    /// The embedded adapter uses this; the DynamoDB adapter translates the
    /// condition into an expression with the same meaning.
    pub fn eval(&self, item: Option<&crate::Item>) -> bool {
        match self {
            Condition::Exists => item.is_some(),
            Condition::NotExists => item.is_none(),
            Condition::AttrExists(a) => item.is_some_and(|i| i.contains_key(a)),
            Condition::AttrNotExists(a) => !item.is_some_and(|i| i.contains_key(a)),
            Condition::Compare { attr, op, value } => {
                let current = item.and_then(|i| i.get(attr));
                compare(current, *op, value)
            }
            Condition::And(all) => all.iter().all(|c| c.eval(item)),
            Condition::Or(any) => any.iter().any(|c| c.eval(item)),
            Condition::Not(c) => !c.eval(item),
        }
    }
}

fn compare(current: Option<&Value>, op: Cmp, expected: &Value) -> bool {
    use std::cmp::Ordering;
    let Some(current) = current else {
        return op == Cmp::Ne;
    };
    let ordering: Option<Ordering> = match (current, expected) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => a
                .as_f64()
                .zip(b.as_f64())
                .and_then(|(x, y)| x.partial_cmp(&y)),
        },
        (Value::String(a), Value::String(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (a, b) if op == Cmp::Eq || op == Cmp::Ne => {
            // Booleans, null, lists and maps compare for equality only.
            return (a == b) == (op == Cmp::Eq);
        }
        _ => None,
    };
    match (ordering, op) {
        (None, Cmp::Ne) => true,
        (None, _) => false,
        (Some(o), Cmp::Eq) => o == Ordering::Equal,
        (Some(o), Cmp::Ne) => o != Ordering::Equal,
        (Some(o), Cmp::Lt) => o == Ordering::Less,
        (Some(o), Cmp::Le) => o != Ordering::Greater,
        (Some(o), Cmp::Gt) => o == Ordering::Greater,
        (Some(o), Cmp::Ge) => o != Ordering::Less,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(v: Value) -> crate::Item {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn evaluates_like_dynamodb() {
        let i = item(json!({"PK": "a", "SK": "b", "n": 5, "s": "abc", "flag": true}));
        assert!(Condition::Exists.eval(Some(&i)));
        assert!(Condition::NotExists.eval(None));
        assert!(Condition::ge("n", 5).eval(Some(&i)));
        assert!(!Condition::gt("n", 5).eval(Some(&i)));
        assert!(Condition::lt("s", "abd").eval(Some(&i)));
        assert!(
            !Condition::eq("n", "5").eval(Some(&i)),
            "type mismatch is false"
        );
        assert!(Condition::ne("missing", 1).eval(Some(&i)));
        assert!(!Condition::eq("missing", 1).eval(Some(&i)));
        assert!(Condition::eq("flag", true).eval(Some(&i)));
        assert!(Condition::AttrExists("n".into())
            .and(Condition::AttrNotExists("x".into()))
            .eval(Some(&i)));
        assert!(Condition::eq("n", 1)
            .or(Condition::eq("n", 5))
            .eval(Some(&i)));
        assert!(Condition::eq("n", 1).not().eval(Some(&i)));
        assert!(!Condition::ge("n", 0).eval(None));
    }
}
