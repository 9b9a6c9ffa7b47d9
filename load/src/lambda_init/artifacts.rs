//! The artifacts to start (target/lambda/manifest.json, written by
//! scripts/build-lambdas) and, from a synthesized CDK app (cdk.out), the
//! environment the template gives each one.
//!
//! A function's code in the template is an asset (`Code.S3Key` =
//! `<hash>.zip`, staged as `cdk.out/asset.<hash>.zip`); the asset whose bytes
//! are an artifact's zip runs that artifact. Of the functions running one
//! binary, a route's environment is used when there is one (a service
//! binary serves its routes unless `AMAZON_LITE_CONSUMER` names a consumer),
//! otherwise the first function's. Values the template computes at deploy
//! (references, joins) become stand-ins of the same shape: an ARN for
//! `*_ARN`, an https URL for `*_ENDPOINT` / `*_URL`, the logical id
//! otherwise. Init does no network I/O, so stand-ins are enough.

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One entry of the manifest.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub binary: String,
    pub arch: String,
    pub zip: PathBuf,
    pub zip_bytes: u64,
    pub unzipped_bytes: u64,
}

impl Artifact {
    /// The unzipped binary scripts/build-lambdas leaves next to the zip.
    pub fn bootstrap(&self) -> PathBuf {
        self.zip.with_file_name("bootstrap")
    }
}

pub fn read_manifest(path: &Path) -> Result<Vec<Artifact>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let entries: Vec<Value> =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    entries
        .iter()
        .map(|e| {
            let field = |k: &str| {
                e.get(k)
                    .ok_or_else(|| format!("{}: an entry without {k}: {e}", path.display()))
            };
            let text = |k: &str| -> Result<String, String> {
                field(k)?
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{}: {k} is not a string: {e}", path.display()))
            };
            let number = |k: &str| -> Result<u64, String> {
                field(k)?
                    .as_u64()
                    .ok_or_else(|| format!("{}: {k} is not a number: {e}", path.display()))
            };
            Ok(Artifact {
                binary: text("binary")?,
                arch: text("arch")?,
                zip: PathBuf::from(text("zip")?),
                zip_bytes: number("zipBytes")?,
                unzipped_bytes: number("unzippedBytes")?,
            })
        })
        .collect()
}

/// One Lambda function of the templates.
struct Function {
    name: String,
    kind: String,
    asset: PathBuf,
    env: Vec<(String, String)>,
}

/// Each artifact's environment (by binary) from the templates in `cdk_out`;
/// `AWS_LAMBDA_FUNCTION_NAME` is the chosen function's name. An artifact no
/// function runs is missing from the map.
pub fn environments(
    cdk_out: &Path,
    artifacts: &[Artifact],
) -> Result<HashMap<String, Vec<(String, String)>>, String> {
    let functions = functions(cdk_out)?;
    let mut zips = Vec::new();
    for a in artifacts {
        let bytes = std::fs::read(&a.zip).map_err(|e| format!("{}: {e}", a.zip.display()))?;
        zips.push((a.binary.clone(), bytes));
    }
    let mut asset_binary: HashMap<PathBuf, Option<String>> = HashMap::new();
    let mut chosen: HashMap<String, &Function> = HashMap::new();
    for f in &functions {
        if !asset_binary.contains_key(&f.asset) {
            let found = match std::fs::read(&f.asset) {
                Ok(bytes) => zips
                    .iter()
                    .find(|(_, z)| *z == bytes)
                    .map(|(b, _)| b.clone()),
                Err(_) => None,
            };
            asset_binary.insert(f.asset.clone(), found);
        }
        let Some(Some(binary)) = asset_binary.get(&f.asset) else {
            continue;
        };
        let better = match chosen.get(binary.as_str()) {
            None => true,
            Some(current) => current.kind != "route" && f.kind == "route",
        };
        if better {
            chosen.insert(binary.clone(), f);
        }
    }
    Ok(chosen
        .into_iter()
        .map(|(binary, f)| {
            let mut env = vec![("AWS_LAMBDA_FUNCTION_NAME".to_owned(), f.name.clone())];
            env.extend(f.env.iter().cloned());
            (binary, env)
        })
        .collect())
}

fn functions(cdk_out: &Path) -> Result<Vec<Function>, String> {
    let dir = std::fs::read_dir(cdk_out).map_err(|e| format!("{}: {e}", cdk_out.display()))?;
    let mut templates: Vec<PathBuf> = dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".template.json"))
        .collect();
    templates.sort();
    let mut out = Vec::new();
    for path in templates {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let template: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
            continue;
        };
        for (id, r) in resources {
            if r.get("Type").and_then(Value::as_str) != Some("AWS::Lambda::Function") {
                continue;
            }
            let props = &r["Properties"];
            let Some(key) = props["Code"]["S3Key"].as_str() else {
                continue;
            };
            let tag = |k: &str| {
                props["Tags"].as_array().and_then(|tags| {
                    tags.iter()
                        .find(|t| t["Key"] == k)
                        .and_then(|t| t["Value"].as_str())
                        .map(str::to_owned)
                })
            };
            let env = props["Environment"]["Variables"]
                .as_object()
                .map(|vars| {
                    vars.iter()
                        .map(|(k, v)| (k.clone(), stand_in(k, v)))
                        .collect()
                })
                .unwrap_or_default();
            out.push(Function {
                name: tag("amazon-lite:function").unwrap_or_else(|| id.clone()),
                kind: tag("amazon-lite:kind").unwrap_or_default(),
                asset: cdk_out.join(format!("asset.{key}")),
                env,
            });
        }
    }
    Ok(out)
}

/// A literal value as it is; a value computed at deploy as a stand-in of
/// its variable's shape.
fn stand_in(name: &str, value: &Value) -> String {
    if let Some(s) = value.as_str() {
        return s.to_owned();
    }
    let id = logical_id(value).unwrap_or_else(|| name.to_lowercase().replace('_', "-"));
    if name.ends_with("_ARN") {
        format!("arn:aws:secretsmanager:us-east-1:000000000000:secret:{id}")
    } else if name.ends_with("_ENDPOINT") || name.ends_with("_URL") {
        format!("https://{}.invalid", id.to_lowercase())
    } else {
        id
    }
}

/// The first logical id a `Ref` or `Fn::GetAtt` names in `value`.
fn logical_id(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(id)) = map.get("Ref") {
                if !id.starts_with("AWS::") {
                    return Some(id.clone());
                }
            }
            if let Some(Value::Array(a)) = map.get("Fn::GetAtt") {
                if let Some(Value::String(id)) = a.first() {
                    return Some(id.clone());
                }
            }
            map.values().find_map(logical_id)
        }
        Value::Array(items) => items.iter().find_map(logical_id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals_stay_and_computed_values_get_stand_ins_of_their_shape() {
        assert_eq!(stand_in("RUST_LOG", &json!("info")), "info");
        assert_eq!(
            stand_in("TABLE_NAME", &json!({"Ref": "TableCD117FA1"})),
            "TableCD117FA1"
        );
        assert_eq!(
            stand_in("PAYMENT_WEBHOOK_SECRET_ARN", &json!({"Ref": "Secret1"})),
            "arn:aws:secretsmanager:us-east-1:000000000000:secret:Secret1"
        );
        assert_eq!(
            stand_in(
                "OPENSEARCH_ENDPOINT",
                &json!({"Fn::GetAtt": ["Collection", "CollectionEndpoint"]})
            ),
            "https://collection.invalid"
        );
        assert_eq!(
            stand_in(
                "PAYMENT_WEBHOOK_URL",
                &json!({"Fn::Join": ["", [{"Ref": "AWS::Partition"}, {"Ref": "Api"}, "/x"]]})
            ),
            "https://api.invalid"
        );
    }
}
