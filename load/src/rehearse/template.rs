//! The synthesized CloudFormation app (cdk.out): the root template, its
//! nested stacks (each with the parameters the root passes it) and the
//! Lambda functions with what the rehearsal needs of each one: name, kind,
//! code asset, raw environment, role.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// Index of a stack in [`App::stacks`]; the root is 0.
pub type StackId = usize;

pub struct Stack {
    /// The template file's stem (`AmazonLiteStack`, `...CheckoutSaga...nested`).
    pub name: String,
    pub template: Value,
    /// For a nested stack: its parent and the `AWS::CloudFormation::Stack`
    /// resource there (whose `Parameters` feed this stack's parameters).
    pub parent: Option<(StackId, String)>,
}

impl Stack {
    pub fn resources(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.template["Resources"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.iter())
    }

    pub fn resource(&self, id: &str) -> Option<&Value> {
        self.template["Resources"].get(id)
    }

    pub fn of_type<'a>(&'a self, ty: &'a str) -> impl Iterator<Item = (&'a String, &'a Value)> {
        self.resources()
            .filter(move |(_, r)| r["Type"].as_str() == Some(ty))
    }
}

pub struct App {
    pub dir: PathBuf,
    pub stacks: Vec<Stack>,
}

/// A function of the templates.
#[derive(Debug, Clone)]
pub struct Function {
    pub stack: StackId,
    pub logical_id: String,
    /// The `amazon-lite:function` tag (the logical id when untagged).
    pub name: String,
    /// `route`, `consumer`, `relay`, `task`, `scheduled`, `bootstrap`; empty
    /// when untagged (CDK's own functions).
    pub kind: String,
    pub runtime: String,
    /// The staged code asset (`cdk.out/asset.<hash>.zip`), if a file asset.
    pub asset: Option<PathBuf>,
    /// Environment variables as the template writes them (tokens unresolved).
    pub env: Vec<(String, Value)>,
    /// The logical id of its execution role (same stack).
    pub role: Option<String>,
    pub memory_mb: u64,
    pub timeout_secs: u64,
}

impl App {
    /// Reads the root template of `dir` (the one `*.template.json` that is
    /// not nested) and every nested stack it declares.
    pub fn load(dir: &Path) -> Result<App, String> {
        let read = |path: &Path| -> Result<Value, String> {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
        };
        let mut roots: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let n = p.to_string_lossy();
                n.ends_with(".template.json") && !n.ends_with(".nested.template.json")
            })
            .collect();
        roots.sort();
        let root = match roots.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(format!(
                    "{}: no root template (run cdk synth)",
                    dir.display()
                ))
            }
            many => {
                return Err(format!(
                    "{}: {} root templates; the rehearsal takes one stack",
                    dir.display(),
                    many.len()
                ))
            }
        };
        let stem = |p: &Path| {
            p.file_name()
                .map(|n| {
                    n.to_string_lossy()
                        .trim_end_matches(".template.json")
                        .to_owned()
                })
                .unwrap_or_default()
        };
        let mut stacks = vec![Stack {
            name: stem(&root),
            template: read(&root)?,
            parent: None,
        }];
        // Nested stacks, breadth first (a nested stack may nest again).
        let mut i = 0;
        while i < stacks.len() {
            let mut found = Vec::new();
            for (id, r) in stacks[i].of_type("AWS::CloudFormation::Stack") {
                let Some(file) = r["Metadata"]["aws:asset:path"].as_str() else {
                    return Err(format!(
                        "{}: nested stack {id} names no template",
                        stacks[i].name
                    ));
                };
                found.push((id.clone(), dir.join(file)));
            }
            for (id, path) in found {
                stacks.push(Stack {
                    name: stem(&path),
                    template: read(&path)?,
                    parent: Some((i, id)),
                });
            }
            i += 1;
        }
        Ok(App {
            dir: dir.to_owned(),
            stacks,
        })
    }

    /// Every `AWS::Lambda::Function` of every stack.
    pub fn functions(&self) -> Vec<Function> {
        let mut out = Vec::new();
        for (s, stack) in self.stacks.iter().enumerate() {
            for (id, r) in stack.of_type("AWS::Lambda::Function") {
                let p = &r["Properties"];
                let tag = |k: &str| {
                    p["Tags"].as_array().and_then(|tags| {
                        tags.iter()
                            .find(|t| t["Key"] == k)
                            .and_then(|t| t["Value"].as_str())
                            .map(str::to_owned)
                    })
                };
                let asset = p["Code"]["S3Key"]
                    .as_str()
                    .map(|key| self.dir.join(format!("asset.{key}")));
                let env = p["Environment"]["Variables"]
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default();
                let role = p["Role"]["Fn::GetAtt"][0].as_str().map(str::to_owned);
                out.push(Function {
                    stack: s,
                    logical_id: id.clone(),
                    name: tag("amazon-lite:function").unwrap_or_else(|| id.clone()),
                    kind: tag("amazon-lite:kind").unwrap_or_default(),
                    runtime: p["Runtime"].as_str().unwrap_or_default().to_owned(),
                    asset,
                    env,
                    role,
                    memory_mb: p["MemorySize"].as_u64().unwrap_or(128),
                    timeout_secs: p["Timeout"].as_u64().unwrap_or(3),
                });
            }
        }
        out
    }

    /// The policy statements of `role` (a role's logical id in `stack`):
    /// its inline policies and every `AWS::IAM::Policy` of the stack
    /// attached to it. Managed policies (the basic execution role's log
    /// permissions) are not in the template and cover no call the
    /// functions make through the SDK.
    pub fn role_statements(&self, stack: StackId, role: &str) -> Vec<Value> {
        let st = &self.stacks[stack];
        let mut out = Vec::new();
        if let Some(r) = st.resource(role) {
            for p in r["Properties"]["Policies"].as_array().into_iter().flatten() {
                out.extend(statements(&p["PolicyDocument"]));
            }
        }
        for (_, p) in st.of_type("AWS::IAM::Policy") {
            let attached = p["Properties"]["Roles"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["Ref"].as_str() == Some(role));
            if attached {
                out.extend(statements(&p["Properties"]["PolicyDocument"]));
            }
        }
        out
    }
}

fn statements(doc: &Value) -> Vec<Value> {
    match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        Value::Object(_) => vec![doc["Statement"].clone()],
        _ => Vec::new(),
    }
}
