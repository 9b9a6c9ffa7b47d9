//! CloudFormation token resolution: `Ref`, `Fn::GetAtt`, `Fn::Join`,
//! `Fn::Sub` and `Fn::Select` against the physical resources the rehearsal
//! created (moto's names, ARNs and URLs) and, for what it did not create,
//! stand-ins of the shape AWS gives (an ARN in the stack's account and
//! region). Nested stacks: a `Ref` to a parameter is the value the parent
//! passes; `Fn::GetAtt [<nested stack>, Outputs.X]` is that stack's output.

use super::template::{App, StackId};
use serde_json::Value;
use std::collections::HashMap;

pub const ACCOUNT: &str = "123456789012"; // moto's default account
pub const REGION: &str = "us-east-1";

/// What a resource resolves to: `Ref` and its attributes.
#[derive(Debug, Clone, Default)]
pub struct Physical {
    pub reference: String,
    pub attrs: HashMap<String, String>,
}

impl Physical {
    pub fn new(reference: impl Into<String>) -> Physical {
        Physical {
            reference: reference.into(),
            attrs: HashMap::new(),
        }
    }

    pub fn attr(mut self, name: &str, value: impl Into<String>) -> Physical {
        self.attrs.insert(name.to_owned(), value.into());
        self
    }
}

pub struct Resolver<'a> {
    pub app: &'a App,
    physical: HashMap<(StackId, String), Physical>,
    /// Values of the root stack's parameters (`--parameter K=V`, else their Default).
    parameters: HashMap<String, String>,
}

impl<'a> Resolver<'a> {
    pub fn new(app: &'a App, parameters: HashMap<String, String>) -> Resolver<'a> {
        Resolver {
            app,
            physical: HashMap::new(),
            parameters,
        }
    }

    /// Records what `id` of `stack` became.
    pub fn set(&mut self, stack: StackId, id: &str, physical: Physical) {
        self.physical.insert((stack, id.to_owned()), physical);
    }

    pub fn get(&self, stack: StackId, id: &str) -> Option<&Physical> {
        self.physical.get(&(stack, id.to_owned()))
    }

    /// The string `value` stands for in `stack`.
    pub fn resolve(&self, stack: StackId, value: &Value) -> Result<String, String> {
        match value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Object(m) if m.len() == 1 => {
                let (f, arg) = m.iter().next().expect("one entry");
                match f.as_str() {
                    "Ref" => self.reference(stack, arg.as_str().ok_or("Ref of a non-string")?),
                    "Fn::GetAtt" => {
                        let (id, attr) = match arg {
                            Value::Array(a) if a.len() == 2 => (
                                a[0].as_str().ok_or("Fn::GetAtt: id")?.to_owned(),
                                a[1].as_str().ok_or("Fn::GetAtt: attribute")?.to_owned(),
                            ),
                            Value::String(s) => match s.split_once('.') {
                                Some((i, a)) => (i.to_owned(), a.to_owned()),
                                None => return Err(format!("Fn::GetAtt `{s}`")),
                            },
                            _ => return Err(format!("Fn::GetAtt {arg}")),
                        };
                        self.attribute(stack, &id, &attr)
                    }
                    "Fn::Join" => {
                        let parts = arg.as_array().filter(|a| a.len() == 2).ok_or("Fn::Join")?;
                        let sep = parts[0].as_str().ok_or("Fn::Join separator")?;
                        let items = parts[1].as_array().ok_or("Fn::Join list")?;
                        let resolved: Result<Vec<String>, String> =
                            items.iter().map(|v| self.resolve(stack, v)).collect();
                        Ok(resolved?.join(sep))
                    }
                    "Fn::Select" => {
                        let parts = arg
                            .as_array()
                            .filter(|a| a.len() == 2)
                            .ok_or("Fn::Select")?;
                        let index: usize = self
                            .resolve(stack, &parts[0])?
                            .parse()
                            .map_err(|_| "Fn::Select index")?;
                        let list = self.list(stack, &parts[1])?;
                        list.get(index)
                            .cloned()
                            .ok_or_else(|| "Fn::Select: out of range".into())
                    }
                    "Fn::Sub" => {
                        let (text, vars) = match arg {
                            Value::String(s) => (s.clone(), None),
                            Value::Array(a) if a.len() == 2 => (
                                a[0].as_str().ok_or("Fn::Sub text")?.to_owned(),
                                a[1].as_object(),
                            ),
                            _ => return Err(format!("Fn::Sub {arg}")),
                        };
                        self.substitute(stack, &text, |name| {
                            vars.and_then(|v| v.get(name))
                                .map(|v| self.resolve(stack, v))
                        })
                    }
                    other => Err(format!("unsupported intrinsic {other}")),
                }
            }
            other => Err(format!("cannot resolve {other}")),
        }
    }

    /// A list: a literal array (each item resolved) or `Fn::Split`.
    fn list(&self, stack: StackId, value: &Value) -> Result<Vec<String>, String> {
        match value {
            Value::Array(items) => items.iter().map(|v| self.resolve(stack, v)).collect(),
            Value::Object(m) if m.contains_key("Fn::Split") => {
                let parts = m["Fn::Split"]
                    .as_array()
                    .filter(|a| a.len() == 2)
                    .ok_or("Fn::Split")?;
                let sep = parts[0].as_str().ok_or("Fn::Split separator")?;
                Ok(self
                    .resolve(stack, &parts[1])?
                    .split(sep)
                    .map(str::to_owned)
                    .collect())
            }
            other => Err(format!("not a list: {other}")),
        }
    }

    /// `${Name}` / `${Id.Attr}` substitution (`${!Literal}` stays literal).
    pub fn substitute(
        &self,
        stack: StackId,
        text: &str,
        local: impl Fn(&str) -> Option<Result<String, String>>,
    ) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {text}"))?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(v) = local(name) {
                out.push_str(&v?);
            } else if let Some((id, attr)) = name.split_once('.') {
                out.push_str(&self.attribute(stack, id, attr)?);
            } else {
                out.push_str(&self.reference(stack, name)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn reference(&self, stack: StackId, name: &str) -> Result<String, String> {
        if let Some(v) = pseudo(name) {
            return Ok(v.to_owned());
        }
        let st = &self.app.stacks[stack];
        if let Some(p) = st.template["Parameters"].get(name) {
            return match &st.parent {
                Some((parent, resource)) => {
                    let passed = self.app.stacks[*parent]
                        .resource(resource)
                        .and_then(|r| r["Properties"]["Parameters"].get(name))
                        .ok_or_else(|| format!("{}: parameter {name} is not passed", st.name))?;
                    self.resolve(*parent, passed)
                }
                None => self
                    .parameters
                    .get(name)
                    .cloned()
                    .or_else(|| p["Default"].as_str().map(str::to_owned))
                    .ok_or_else(|| {
                        format!("parameter {name} has no value (--parameter {name}=...)")
                    }),
            };
        }
        if let Some(p) = self.get(stack, name) {
            return Ok(p.reference.clone());
        }
        let r = st
            .resource(name)
            .ok_or_else(|| format!("{}: Ref to unknown {name}", st.name))?;
        Ok(stand_in(r["Type"].as_str().unwrap_or(""), name).reference)
    }

    fn attribute(&self, stack: StackId, id: &str, attr: &str) -> Result<String, String> {
        let st = &self.app.stacks[stack];
        let r = st
            .resource(id)
            .ok_or_else(|| format!("{}: Fn::GetAtt of unknown {id}", st.name))?;
        let ty = r["Type"].as_str().unwrap_or("");
        if ty == "AWS::CloudFormation::Stack" {
            let output = attr
                .strip_prefix("Outputs.")
                .ok_or_else(|| format!("{id}.{attr}: a nested stack has Outputs only"))?;
            let child = self
                .app
                .stacks
                .iter()
                .position(|s| s.parent == Some((stack, id.to_owned())))
                .ok_or_else(|| format!("{id}: nested template not loaded"))?;
            let value = &self.app.stacks[child].template["Outputs"][output]["Value"];
            if value.is_null() {
                return Err(format!("{id}: no output {output}"));
            }
            return self.resolve(child, value);
        }
        let physical = self
            .get(stack, id)
            .cloned()
            .unwrap_or_else(|| stand_in(ty, id));
        physical
            .attrs
            .get(attr)
            .cloned()
            .ok_or_else(|| format!("{}: {id} ({ty}) has no attribute {attr} here", st.name))
    }
}

fn pseudo(name: &str) -> Option<&'static str> {
    Some(match name {
        "AWS::Partition" => "aws",
        "AWS::AccountId" => ACCOUNT,
        "AWS::Region" => REGION,
        "AWS::URLSuffix" => "amazonaws.com",
        "AWS::StackName" => "AmazonLiteStack",
        "AWS::StackId" => {
            "arn:aws:cloudformation:us-east-1:123456789012:stack/AmazonLiteStack/rehearsal"
        }
        "AWS::NoValue" => "",
        _ => return None,
    })
}

/// What a resource the rehearsal did not create stands for: its logical id
/// as the name and an ARN of its service in the stack's account.
pub fn stand_in(ty: &str, id: &str) -> Physical {
    let service = ty
        .split("::")
        .nth(1)
        .map(str::to_lowercase)
        .unwrap_or_else(|| "custom".into());
    let arn = |kind: &str| format!("arn:aws:{service}:{REGION}:{ACCOUNT}:{kind}{id}");
    match ty {
        "AWS::Lambda::Function" => Physical::new(id).attr(
            "Arn",
            format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{id}"),
        ),
        "AWS::IAM::Role" => {
            Physical::new(id).attr("Arn", format!("arn:aws:iam::{ACCOUNT}:role/{id}"))
        }
        "AWS::SNS::Topic" => {
            let a = arn("");
            Physical::new(a.clone()).attr("TopicArn", a)
        }
        "AWS::Logs::LogGroup" => Physical::new(id).attr(
            "Arn",
            format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{id}:*"),
        ),
        "AWS::ApiGatewayV2::Api" => Physical::new(id).attr(
            "ApiEndpoint",
            format!(
                "https://{}.execute-api.{REGION}.amazonaws.com",
                id.to_lowercase()
            ),
        ),
        _ => Physical::new(id).attr("Arn", arn("")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rehearse::template::Stack;
    use serde_json::json;

    fn app() -> App {
        let root = json!({
            "Parameters": {"FromAddress": {"Type": "String"}},
            "Resources": {
                "Table1": {"Type": "AWS::DynamoDB::Table"},
                "Bus1": {"Type": "AWS::Events::EventBus"},
                "Nested1": {"Type": "AWS::CloudFormation::Stack", "Properties": {"Parameters": {
                    "refTable": {"Ref": "Table1"},
                    "refTableArn": {"Fn::GetAtt": ["Table1", "Arn"]},
                    "refFrom": {"Ref": "FromAddress"}
                }}},
                "Fn1": {"Type": "AWS::Lambda::Function"}
            }
        });
        let nested = json!({
            "Parameters": {"refTable": {"Type": "String"}, "refTableArn": {"Type": "String"}, "refFrom": {"Type": "String"}},
            "Resources": {"Machine": {"Type": "AWS::StepFunctions::StateMachine"}},
            "Outputs": {"MachineRef": {"Value": {"Ref": "Machine"}}}
        });
        App {
            dir: ".".into(),
            stacks: vec![
                Stack {
                    name: "Root".into(),
                    template: root,
                    parent: None,
                },
                Stack {
                    name: "Nested".into(),
                    template: nested,
                    parent: Some((0, "Nested1".into())),
                },
            ],
        }
    }

    #[test]
    fn tokens_resolve_to_the_created_resources_through_nested_parameters_and_outputs() {
        let app = app();
        let mut r = Resolver::new(
            &app,
            [("FromAddress".to_owned(), "no-reply@example.com".to_owned())].into(),
        );
        r.set(
            0,
            "Table1",
            Physical::new("amazon-lite-table").attr(
                "Arn",
                "arn:aws:dynamodb:us-east-1:123456789012:table/amazon-lite-table",
            ),
        );
        r.set(
            1,
            "Machine",
            Physical::new("arn:aws:states:us-east-1:123456789012:stateMachine:m"),
        );
        assert_eq!(
            r.resolve(1, &json!({"Ref": "refTable"})).unwrap(),
            "amazon-lite-table"
        );
        assert_eq!(
            r.resolve(1, &json!({"Ref": "refFrom"})).unwrap(),
            "no-reply@example.com"
        );
        assert_eq!(
            r.resolve(
                1,
                &json!({"Fn::Join": ["", [{"Ref": "refTableArn"}, "/index/*"]]})
            )
            .unwrap(),
            "arn:aws:dynamodb:us-east-1:123456789012:table/amazon-lite-table/index/*"
        );
        assert_eq!(
            r.resolve(
                1,
                &json!({"Fn::Select": [1, {"Fn::Split": ["@", {"Ref": "refFrom"}]}]})
            )
            .unwrap(),
            "example.com"
        );
        assert_eq!(
            r.resolve(0, &json!({"Fn::GetAtt": ["Nested1", "Outputs.MachineRef"]}))
                .unwrap(),
            "arn:aws:states:us-east-1:123456789012:stateMachine:m"
        );
        assert_eq!(
            r.resolve(0, &json!({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":states:us-east-1:", {"Ref": "AWS::AccountId"}, ":stateMachine:x"]]})).unwrap(),
            "arn:aws:states:us-east-1:123456789012:stateMachine:x"
        );
        assert_eq!(
            r.resolve(0, &json!({"Fn::Sub": ["${Table1.Arn}/stream/${X}-${AWS::Region}${!Keep}", {"X": "s"}]})).unwrap(),
            "arn:aws:dynamodb:us-east-1:123456789012:table/amazon-lite-table/stream/s-us-east-1${Keep}"
        );
        // Not created: a stand-in of the resource's kind.
        assert_eq!(
            r.resolve(0, &json!({"Fn::GetAtt": ["Fn1", "Arn"]}))
                .unwrap(),
            "arn:aws:lambda:us-east-1:123456789012:function:Fn1"
        );
        // Unknown ids and attributes are errors, not guesses.
        assert!(r.resolve(0, &json!({"Ref": "Nope"})).is_err());
        assert!(r
            .resolve(0, &json!({"Fn::GetAtt": ["Table1", "StreamArn"]}))
            .is_err());
        let unset = Resolver::new(&app, HashMap::new());
        assert!(unset.resolve(1, &json!({"Ref": "refFrom"})).is_err());
    }
}
