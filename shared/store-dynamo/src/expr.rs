//! Typed conditions, updates and sort-key conditions rendered as DynamoDB
//! expressions. Every attribute name goes through a `#nN` placeholder and
//! every value through a `:vN` placeholder, so reserved words and odd
//! characters in names never matter. One [`Expr`] serves one request, so a
//! condition and an update share placeholders without clashing.

use crate::convert::{to_av, AttrMap};
use aws_sdk_dynamodb::types::AttributeValue;
use lite_store::{attr, Cmp, Condition, Index, SkCondition, Update};
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Default)]
pub(crate) struct Expr {
    names: HashMap<String, String>,
    placeholder_of: HashMap<String, String>,
    values: AttrMap,
}

impl Expr {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The placeholder of attribute `name` (one per distinct name).
    pub(crate) fn name(&mut self, name: &str) -> String {
        if let Some(p) = self.placeholder_of.get(name) {
            return p.clone();
        }
        let p = format!("#n{}", self.names.len());
        self.names.insert(p.clone(), name.to_string());
        self.placeholder_of.insert(name.to_string(), p.clone());
        p
    }

    /// A fresh placeholder holding `value`.
    pub(crate) fn value(&mut self, value: AttributeValue) -> String {
        let p = format!(":v{}", self.values.len());
        self.values.insert(p.clone(), value);
        p
    }

    /// ExpressionAttributeNames; `None` when empty (DynamoDB refuses an
    /// empty map).
    pub(crate) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    /// ExpressionAttributeValues; `None` when empty.
    pub(crate) fn values(&self) -> Option<AttrMap> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }

    /// A condition expression with the meaning of [`Condition::eval`].
    pub(crate) fn condition(&mut self, condition: &Condition) -> String {
        match condition {
            Condition::Exists => self.exists(attr::PK),
            Condition::NotExists => self.not_exists(attr::PK),
            Condition::AttrExists(a) => self.exists(a),
            Condition::AttrNotExists(a) => self.not_exists(a),
            Condition::Compare { attr, op, value } => self.compare(attr, *op, value),
            Condition::And(all) => self.junction(all, "AND", true),
            Condition::Or(any) => self.junction(any, "OR", false),
            Condition::Not(inner) => format!("(NOT {})", self.condition(inner)),
        }
    }

    fn exists(&mut self, name: &str) -> String {
        format!("attribute_exists({})", self.name(name))
    }

    fn not_exists(&mut self, name: &str) -> String {
        format!("attribute_not_exists({})", self.name(name))
    }

    /// An expression that always holds (`true`) or never does.
    fn constant(&mut self, truth: bool) -> String {
        let (e, n) = (self.exists(attr::PK), self.not_exists(attr::PK));
        if truth {
            format!("({e} OR {n})")
        } else {
            format!("({e} AND {n})")
        }
    }

    fn compare(&mut self, name: &str, op: Cmp, value: &Value) -> String {
        let orderable = matches!(value, Value::Number(_) | Value::String(_));
        if !orderable && !matches!(op, Cmp::Eq | Cmp::Ne) {
            // DynamoDB refuses to order booleans, nulls, lists and maps;
            // the port defines such a comparison as false.
            return self.constant(false);
        }
        let n = self.name(name);
        let v = self.value(to_av(value));
        let op = match op {
            Cmp::Eq => "=",
            Cmp::Ne => "<>",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        };
        format!("{n} {op} {v}")
    }

    fn junction(&mut self, parts: &[Condition], op: &str, empty: bool) -> String {
        match parts {
            [] => self.constant(empty),
            [only] => self.condition(only),
            _ => {
                // Every part is atomic or parenthesises itself.
                let rendered: Vec<String> = parts.iter().map(|c| self.condition(c)).collect();
                format!("({})", rendered.join(&format!(" {op} ")))
            }
        }
    }

    /// The update expression of `updates`, checked beforehand with
    /// [`lite_store::validate_updates`] (at least one, no key attribute, no
    /// attribute twice: DynamoDB refuses overlapping paths).
    pub(crate) fn update(&mut self, updates: &[Update]) -> String {
        let (mut set, mut add, mut remove) = (Vec::new(), Vec::new(), Vec::new());
        for update in updates {
            let n = self.name(update.attr());
            match update {
                Update::Set(_, value) => {
                    let v = self.value(to_av(value));
                    set.push(format!("{n} = {v}"));
                }
                Update::SetIfAbsent(_, value) => {
                    let v = self.value(to_av(value));
                    set.push(format!("{n} = if_not_exists({n}, {v})"));
                }
                Update::Add(_, by) => {
                    let v = self.value(AttributeValue::N(by.to_string()));
                    add.push(format!("{n} {v}"));
                }
                Update::Remove(_) => remove.push(n),
            }
        }
        [("SET", set), ("ADD", add), ("REMOVE", remove)]
            .into_iter()
            .filter(|(_, parts)| !parts.is_empty())
            .map(|(keyword, parts)| format!("{keyword} {}", parts.join(", ")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The KeyConditionExpression of a query. Call with a condition already
    /// passed through [`normalize_sk`].
    pub(crate) fn key_condition(
        &mut self,
        index: Index,
        pk: &str,
        sk: Option<&SkCondition>,
    ) -> String {
        let pk_name = self.name(index.pk_attr());
        let pk_value = self.value(AttributeValue::S(pk.to_string()));
        let mut expr = format!("{pk_name} = {pk_value}");
        if let Some(sk) = sk {
            let n = self.name(index.sk_attr());
            let mut v = |s: &str| self.value(AttributeValue::S(s.to_string()));
            let rendered = match sk {
                SkCondition::Eq(s) => format!("{n} = {}", v(s)),
                SkCondition::BeginsWith(s) => format!("begins_with({n}, {})", v(s)),
                SkCondition::Between(a, b) => {
                    let (a, b) = (v(a), v(b));
                    format!("{n} BETWEEN {a} AND {b}")
                }
                SkCondition::Lt(s) => format!("{n} < {}", v(s)),
                SkCondition::Le(s) => format!("{n} <= {}", v(s)),
                SkCondition::Gt(s) => format!("{n} > {}", v(s)),
                SkCondition::Ge(s) => format!("{n} >= {}", v(s)),
            };
            expr.push_str(" AND ");
            expr.push_str(&rendered);
        }
        expr
    }
}

/// What a sort-key condition asks of DynamoDB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SkPlan {
    /// No item can match: answer an empty page without a request.
    Nothing,
    /// Every item matches: send no sort-key condition.
    Everything,
    Condition(SkCondition),
}

/// DynamoDB refuses empty strings in key conditions, where the port simply
/// matches by byte order. Sort keys are never empty, so each such case is
/// "all" or "nothing". (Reversed BETWEEN bounds are refused earlier, by
/// [`lite_store::Query::validate`].)
pub(crate) fn normalize_sk(sk: Option<&SkCondition>) -> SkPlan {
    use SkCondition::*;
    let Some(sk) = sk else {
        return SkPlan::Everything;
    };
    match sk {
        BeginsWith(p) if p.is_empty() => SkPlan::Everything,
        Gt(s) | Ge(s) if s.is_empty() => SkPlan::Everything,
        Eq(s) | Lt(s) | Le(s) if s.is_empty() => SkPlan::Nothing,
        Between(a, b) if a.as_bytes() > b.as_bytes() || b.is_empty() => SkPlan::Nothing,
        Between(a, b) if a.is_empty() => SkPlan::Condition(Le(b.clone())),
        other => SkPlan::Condition(other.clone()),
    }
}

/// Whether a filter may go to DynamoDB as a FilterExpression: DynamoDB
/// refuses filters on the key attributes of the queried index or table, so
/// those filters are evaluated here instead (same meaning, same pages).
pub(crate) fn filter_is_expressible(filter: &Condition, index: Index) -> bool {
    let keys = [attr::PK, attr::SK, index.pk_attr(), index.sk_attr()];
    !mentions_any(filter, &keys)
}

fn mentions_any(condition: &Condition, names: &[&str]) -> bool {
    match condition {
        Condition::Exists | Condition::NotExists => names.contains(&attr::PK),
        Condition::AttrExists(a) | Condition::AttrNotExists(a) => names.contains(&a.as_str()),
        // Rendered as a constant over `PK` (see `Expr::constant`).
        Condition::Compare { op, value, .. }
            if !matches!(value, Value::Number(_) | Value::String(_))
                && !matches!(op, Cmp::Eq | Cmp::Ne) =>
        {
            names.contains(&attr::PK)
        }
        Condition::And(parts) | Condition::Or(parts) if parts.is_empty() => {
            names.contains(&attr::PK)
        }
        Condition::Compare { attr, .. } => names.contains(&attr.as_str()),
        Condition::And(parts) | Condition::Or(parts) => {
            parts.iter().any(|c| mentions_any(c, names))
        }
        Condition::Not(inner) => mentions_any(inner, names),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(c: &Condition) -> (String, Option<HashMap<String, String>>, Option<AttrMap>) {
        let mut e = Expr::new();
        let s = e.condition(c);
        (s, e.names(), e.values())
    }

    #[test]
    fn existence_conditions_use_the_partition_key() {
        let (s, names, values) = render(&Condition::Exists);
        assert_eq!(s, "attribute_exists(#n0)");
        assert_eq!(names.unwrap()["#n0"], "PK");
        assert!(values.is_none(), "no empty value map");
        assert_eq!(render(&Condition::NotExists).0, "attribute_not_exists(#n0)");
        assert_eq!(
            render(&Condition::AttrExists("a".into())).0,
            "attribute_exists(#n0)"
        );
        assert_eq!(
            render(&Condition::AttrNotExists("a".into())).0,
            "attribute_not_exists(#n0)"
        );
    }

    #[test]
    fn comparisons_use_placeholders() {
        let ops = [
            (Cmp::Eq, "="),
            (Cmp::Ne, "<>"),
            (Cmp::Lt, "<"),
            (Cmp::Le, "<="),
            (Cmp::Gt, ">"),
            (Cmp::Ge, ">="),
        ];
        for (op, text) in ops {
            let (s, names, values) = render(&Condition::Compare {
                attr: "status".into(),
                op,
                value: json!(3),
            });
            assert_eq!(s, format!("#n0 {text} :v0"));
            assert_eq!(names.unwrap()["#n0"], "status");
            assert_eq!(values.unwrap()[":v0"], AttributeValue::N("3".into()));
        }
    }

    #[test]
    fn ordering_a_non_orderable_value_is_false() {
        let (s, _, values) = render(&Condition::lt("flag", true));
        assert_eq!(s, "(attribute_exists(#n0) AND attribute_not_exists(#n0))");
        assert!(values.is_none());
        assert_eq!(render(&Condition::eq("flag", true)).0, "#n0 = :v0");
    }

    #[test]
    fn junctions_are_parenthesised_and_names_reused() {
        let c = Condition::eq("a", 1).and(Condition::ge("b", "x").or(Condition::eq("a", 2).not()));
        let (s, names, values) = render(&c);
        assert_eq!(s, "(#n0 = :v0 AND (#n1 >= :v1 OR (NOT #n0 = :v2)))");
        assert_eq!(names.unwrap().len(), 2);
        assert_eq!(values.unwrap().len(), 3);
    }

    #[test]
    fn empty_and_single_junctions() {
        assert_eq!(
            render(&Condition::And(vec![])).0,
            "(attribute_exists(#n0) OR attribute_not_exists(#n0))"
        );
        assert_eq!(
            render(&Condition::Or(vec![])).0,
            "(attribute_exists(#n0) AND attribute_not_exists(#n0))"
        );
        assert_eq!(
            render(&Condition::And(vec![Condition::Exists])).0,
            "attribute_exists(#n0)"
        );
    }

    #[test]
    fn updates_combine_into_one_expression() {
        let mut e = Expr::new();
        let s = e.update(&[
            Update::set("name", "x"),
            Update::add("count", -2),
            Update::remove("old"),
            Update::set_if_absent("created", 5),
        ]);
        assert_eq!(
            s,
            "SET #n0 = :v0, #n3 = if_not_exists(#n3, :v2) ADD #n1 :v1 REMOVE #n2"
        );
        let names = e.names().unwrap();
        assert_eq!(
            (
                names["#n0"].as_str(),
                names["#n1"].as_str(),
                names["#n2"].as_str()
            ),
            ("name", "count", "old")
        );
        assert_eq!(e.values().unwrap()[":v1"], AttributeValue::N("-2".into()));
    }

    #[test]
    fn update_and_condition_share_placeholders() {
        let mut e = Expr::new();
        let u = e.update(&[Update::set("v", 2)]);
        let c = e.condition(&Condition::eq("v", 1));
        assert_eq!((u.as_str(), c.as_str()), ("SET #n0 = :v0", "#n0 = :v1"));
    }

    #[test]
    fn key_conditions_cover_every_sort_key_operator() {
        let cases = [
            (SkCondition::Eq("a".into()), "#n1 = :v1"),
            (SkCondition::BeginsWith("a".into()), "begins_with(#n1, :v1)"),
            (
                SkCondition::Between("a".into(), "b".into()),
                "#n1 BETWEEN :v1 AND :v2",
            ),
            (SkCondition::Lt("a".into()), "#n1 < :v1"),
            (SkCondition::Le("a".into()), "#n1 <= :v1"),
            (SkCondition::Gt("a".into()), "#n1 > :v1"),
            (SkCondition::Ge("a".into()), "#n1 >= :v1"),
        ];
        for (sk, text) in cases {
            let mut e = Expr::new();
            assert_eq!(
                e.key_condition(Index::Gsi1, "p", Some(&sk)),
                format!("#n0 = :v0 AND {text}")
            );
            let names = e.names().unwrap();
            assert_eq!(
                (names["#n0"].as_str(), names["#n1"].as_str()),
                ("GSI1PK", "GSI1SK")
            );
        }
        let mut e = Expr::new();
        assert_eq!(e.key_condition(Index::Table, "p", None), "#n0 = :v0");
        assert_eq!(e.names().unwrap()["#n0"], "PK");
    }

    #[test]
    fn sort_key_conditions_dynamodb_refuses_are_answered_locally() {
        use SkCondition::*;
        assert_eq!(normalize_sk(None), SkPlan::Everything);
        assert_eq!(
            normalize_sk(Some(&BeginsWith(String::new()))),
            SkPlan::Everything
        );
        assert_eq!(normalize_sk(Some(&Ge(String::new()))), SkPlan::Everything);
        assert_eq!(normalize_sk(Some(&Gt(String::new()))), SkPlan::Everything);
        assert_eq!(normalize_sk(Some(&Eq(String::new()))), SkPlan::Nothing);
        assert_eq!(normalize_sk(Some(&Lt(String::new()))), SkPlan::Nothing);
        assert_eq!(
            normalize_sk(Some(&Between("b".into(), "a".into()))),
            SkPlan::Nothing
        );
        assert_eq!(
            normalize_sk(Some(&Between(String::new(), "a".into()))),
            SkPlan::Condition(Le("a".into()))
        );
        assert_eq!(
            normalize_sk(Some(&Between("a".into(), "a".into()))),
            SkPlan::Condition(Between("a".into(), "a".into()))
        );
    }

    #[test]
    fn filters_on_key_attributes_are_evaluated_locally() {
        assert!(filter_is_expressible(
            &Condition::eq("status", "x"),
            Index::Table
        ));
        assert!(!filter_is_expressible(
            &Condition::eq("SK", "x"),
            Index::Table
        ));
        assert!(!filter_is_expressible(&Condition::Exists, Index::Table));
        assert!(!filter_is_expressible(
            &Condition::eq("a", 1).and(Condition::eq("GSI2SK", "x").not()),
            Index::Gsi2
        ));
        assert!(filter_is_expressible(
            &Condition::eq("GSI2SK", "x"),
            Index::Gsi1
        ));
        assert!(
            !filter_is_expressible(&Condition::gt("flag", true), Index::Gsi1),
            "rendered over PK"
        );
        assert!(
            !filter_is_expressible(&Condition::Or(vec![]), Index::Gsi1),
            "rendered over PK"
        );
    }
}
