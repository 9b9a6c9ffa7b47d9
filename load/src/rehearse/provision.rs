//! Creates in moto what the template declares and the functions talk to:
//! the table (with its stream and TTL), the secrets (values generated as
//! `GenerateSecretString` asks), the event bus, every SQS queue with its
//! redrive policy, the bus's rules with their SQS targets, and the state
//! machine from its definition. Each created resource's name/ARN/URL goes
//! into the resolver; the Lambda functions get their tag names.

use super::moto::{Moto, Service};
use super::resolve::{Physical, Resolver, ACCOUNT, REGION};
use super::template::StackId;
use rand::Rng;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// What was created, for the rest of the rehearsal.
#[derive(Debug, Default)]
pub struct Provisioned {
    /// Secret ARN -> generated value.
    pub secrets: HashMap<String, String>,
    /// Queue ARN -> URL.
    pub queues: HashMap<String, String>,
    pub table_name: String,
    pub stream_arn: String,
    pub state_machine_arn: String,
    /// One line per thing done or left out, printed by the caller.
    pub log: Vec<String>,
}

impl Provisioned {
    pub fn queue_url(&self, arn: &str) -> Option<&str> {
        self.queues.get(arn).map(String::as_str)
    }
}

fn prop<'a>(r: &'a Value, k: &str) -> &'a Value {
    &r["Properties"][k]
}

/// Physical names: CloudFormation's `<stack>-<logical id>` shape for what
/// the template leaves unnamed.
fn physical_name(given: &Value, id: &str) -> String {
    given
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("AmazonLiteStack-{id}"))
}

pub async fn provision(
    moto: &Moto,
    resolver: &mut Resolver<'_>,
    table_spec: &Value,
) -> Result<Provisioned, String> {
    let app = resolver.app;
    let mut out = Provisioned::default();
    let all = |ty: &'static str| -> Vec<(StackId, String, Value)> {
        app.stacks
            .iter()
            .enumerate()
            .flat_map(|(s, st)| {
                st.of_type(ty)
                    .map(move |(id, r)| (s, id.clone(), r.clone()))
            })
            .collect()
    };

    for f in app.functions() {
        let arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{}", f.name);
        resolver.set(
            f.stack,
            &f.logical_id,
            Physical::new(&f.name).attr("Arn", arn),
        );
    }

    for (s, id, r) in all("AWS::DynamoDB::Table") {
        check_table(&r, table_spec)?;
        let name = physical_name(prop(&r, "TableName"), &id);
        let mut req = json!({
            "TableName": name,
            "AttributeDefinitions": prop(&r, "AttributeDefinitions"),
            "KeySchema": prop(&r, "KeySchema"),
            "BillingMode": prop(&r, "BillingMode").as_str().unwrap_or("PAY_PER_REQUEST"),
        });
        if let Some(gsis) = prop(&r, "GlobalSecondaryIndexes").as_array() {
            req["GlobalSecondaryIndexes"] = Value::Array(gsis.clone());
        }
        if let Some(view) = prop(&r, "StreamSpecification")["StreamViewType"].as_str() {
            req["StreamSpecification"] = json!({"StreamEnabled": true, "StreamViewType": view});
        }
        let created = moto.call(Service::DynamoDb, "CreateTable", req).await?;
        let d = &created["TableDescription"];
        let arn = d["TableArn"].as_str().unwrap_or_default().to_owned();
        let stream = d["LatestStreamArn"].as_str().unwrap_or_default().to_owned();
        if let Some(ttl) = prop(&r, "TimeToLiveSpecification")["AttributeName"].as_str() {
            moto.call(
                Service::DynamoDb,
                "UpdateTimeToLive",
                json!({"TableName": name, "TimeToLiveSpecification": {"AttributeName": ttl, "Enabled": true}}),
            )
            .await?;
        }
        out.log.push(format!("table {name} (stream {stream})"));
        resolver.set(
            s,
            &id,
            Physical::new(&name)
                .attr("Arn", &arn)
                .attr("StreamArn", &stream),
        );
        out.table_name = name;
        out.stream_arn = stream;
    }

    for (s, id, r) in all("AWS::SecretsManager::Secret") {
        let value = generate_secret(prop(&r, "GenerateSecretString"), prop(&r, "SecretString"))?;
        let name = physical_name(prop(&r, "Name"), &id);
        let created = moto
            .call(
                Service::Secrets,
                "CreateSecret",
                json!({"Name": name, "SecretString": value}),
            )
            .await?;
        let arn = created["ARN"]
            .as_str()
            .ok_or("CreateSecret: no ARN")?
            .to_owned();
        out.log
            .push(format!("secret {name} (generated, {} chars)", value.len()));
        out.secrets.insert(arn.clone(), value);
        resolver.set(s, &id, Physical::new(&arn).attr("Id", &arn));
    }

    for (s, id, r) in all("AWS::Events::EventBus") {
        let name = physical_name(prop(&r, "Name"), &id);
        let created = moto
            .call(Service::Events, "CreateEventBus", json!({"Name": name}))
            .await?;
        let arn = created["EventBusArn"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        out.log.push(format!("event bus {name}"));
        resolver.set(
            s,
            &id,
            Physical::new(&name).attr("Arn", &arn).attr("Name", &name),
        );
    }

    // Dead-letter queues first: a redrive policy names its DLQ's ARN.
    let mut queues = all("AWS::SQS::Queue");
    queues.sort_by_key(|(_, _, r)| !prop(r, "RedrivePolicy").is_null());
    for (s, id, r) in queues {
        let name = physical_name(prop(&r, "QueueName"), &id);
        let mut attributes = Map::new();
        for k in [
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
        ] {
            if !prop(&r, k).is_null() {
                attributes.insert(k.into(), json!(resolver.resolve(s, prop(&r, k))?));
            }
        }
        let redrive = prop(&r, "RedrivePolicy");
        if !redrive.is_null() {
            let dlq = resolver.resolve(s, &redrive["deadLetterTargetArn"])?;
            let policy =
                json!({"deadLetterTargetArn": dlq, "maxReceiveCount": redrive["maxReceiveCount"]});
            attributes.insert("RedrivePolicy".into(), json!(policy.to_string()));
        }
        let created = moto
            .call(
                Service::Sqs,
                "CreateQueue",
                json!({"QueueName": name, "Attributes": attributes}),
            )
            .await?;
        let url = created["QueueUrl"]
            .as_str()
            .ok_or("CreateQueue: no QueueUrl")?
            .to_owned();
        let arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}");
        out.log.push(format!(
            "queue {name}{}",
            if redrive.is_null() {
                String::new()
            } else {
                format!(" (redrive after {} receives)", redrive["maxReceiveCount"])
            }
        ));
        out.queues.insert(arn.clone(), url.clone());
        resolver.set(
            s,
            &id,
            Physical::new(&url)
                .attr("Arn", &arn)
                .attr("QueueName", &name)
                .attr("QueueUrl", &url),
        );
    }

    for (s, id, r) in all("AWS::Events::Rule") {
        let bus = match prop(&r, "EventBusName") {
            Value::Null => "default".to_owned(),
            v => resolver.resolve(s, v)?,
        };
        let mut rule = json!({"Name": id, "EventBusName": bus, "State": prop(&r, "State").as_str().unwrap_or("ENABLED")});
        if let Some(p) = prop(&r, "EventPattern").as_object() {
            rule["EventPattern"] = json!(Value::Object(p.clone()).to_string());
        }
        if let Some(e) = prop(&r, "ScheduleExpression").as_str() {
            rule["ScheduleExpression"] = json!(e);
        }
        moto.call(Service::Events, "PutRule", rule).await?;
        let mut targets = Vec::new();
        for t in prop(&r, "Targets").as_array().into_iter().flatten() {
            let arn = resolver.resolve(s, &t["Arn"])?;
            if !arn.starts_with("arn:aws:sqs:") {
                out.log.push(format!(
                    "rule {id}: target {arn} not emulated (moto runs no Lambda code)"
                ));
                continue;
            }
            let mut target = json!({"Id": t["Id"], "Arn": arn});
            for k in ["Input", "InputPath"] {
                if let Some(v) = t[k].as_str() {
                    target[k] = json!(v);
                }
            }
            if t["InputTransformer"].is_object() {
                target["InputTransformer"] = t["InputTransformer"].clone();
            }
            if !t["DeadLetterConfig"]["Arn"].is_null() {
                target["DeadLetterConfig"] =
                    json!({"Arn": resolver.resolve(s, &t["DeadLetterConfig"]["Arn"])?});
            }
            targets.push(target);
        }
        if !targets.is_empty() {
            let n = targets.len();
            let put = moto
                .call(
                    Service::Events,
                    "PutTargets",
                    json!({"Rule": id, "EventBusName": bus, "Targets": targets}),
                )
                .await?;
            if put["FailedEntryCount"].as_u64().unwrap_or(0) > 0 {
                return Err(format!("PutTargets {id}: {put}"));
            }
            out.log
                .push(format!("rule {id} on {bus}: {n} SQS target(s)"));
        }
    }

    for (s, id, r) in all("AWS::StepFunctions::StateMachine") {
        let mut definition = resolver.resolve(s, prop(&r, "DefinitionString"))?;
        if let Some(subs) = prop(&r, "DefinitionSubstitutions").as_object() {
            for (k, v) in subs {
                definition = definition.replace(&format!("${{{k}}}"), &resolver.resolve(s, v)?);
            }
        }
        serde_json::from_str::<Value>(&definition).map_err(|e| {
            format!("state machine {id}: the definition is not JSON after substitution: {e}")
        })?;
        let name = physical_name(prop(&r, "StateMachineName"), &id);
        let role = resolver.resolve(s, prop(&r, "RoleArn"))?;
        let created = moto
            .call(
                Service::States,
                "CreateStateMachine",
                json!({"name": name, "definition": definition, "roleArn": role,
                       "type": prop(&r, "StateMachineType").as_str().unwrap_or("STANDARD")}),
            )
            .await?;
        let arn = created["stateMachineArn"]
            .as_str()
            .ok_or("CreateStateMachine: no ARN")?
            .to_owned();
        out.log.push(format!(
            "state machine {name} ({} bytes of ASL, not executed: moto runs no Lambda task code)",
            definition.len()
        ));
        resolver.set(
            s,
            &id,
            Physical::new(&arn).attr("Arn", &arn).attr("Name", &name),
        );
        out.state_machine_arn = arn;
    }
    Ok(out)
}

/// The template's table must be infra/table.json's: the same keys, indexes,
/// TTL attribute and stream view.
fn check_table(r: &Value, spec: &Value) -> Result<(), String> {
    let key = |schema: &Value, kind: &str| {
        schema
            .as_array()
            .and_then(|a| a.iter().find(|k| k["KeyType"] == kind))
            .and_then(|k| k["AttributeName"].as_str())
            .map(str::to_owned)
    };
    let mut differences = Vec::new();
    if key(prop(r, "KeySchema"), "HASH").as_deref() != spec["partitionKey"].as_str() {
        differences.push("partition key");
    }
    if key(prop(r, "KeySchema"), "RANGE").as_deref() != spec["sortKey"].as_str() {
        differences.push("sort key");
    }
    let template_gsis: Vec<(String, Option<String>, Option<String>)> =
        prop(r, "GlobalSecondaryIndexes")
            .as_array()
            .into_iter()
            .flatten()
            .map(|g| {
                (
                    g["IndexName"].as_str().unwrap_or("").to_owned(),
                    key(&g["KeySchema"], "HASH"),
                    key(&g["KeySchema"], "RANGE"),
                )
            })
            .collect();
    let spec_gsis: Vec<(String, Option<String>, Option<String>)> = spec["globalSecondaryIndexes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| {
            (
                g["indexName"].as_str().unwrap_or("").to_owned(),
                g["partitionKey"].as_str().map(str::to_owned),
                g["sortKey"].as_str().map(str::to_owned),
            )
        })
        .collect();
    if template_gsis != spec_gsis {
        differences.push("global secondary indexes");
    }
    if prop(r, "StreamSpecification")["StreamViewType"].as_str() != spec["stream"].as_str() {
        differences.push("stream");
    }
    if prop(r, "TimeToLiveSpecification")["AttributeName"].as_str()
        != spec["timeToLiveAttribute"].as_str()
    {
        differences.push("TTL attribute");
    }
    if differences.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the template's table differs from infra/table.json in: {}",
            differences.join(", ")
        ))
    }
}

/// A value as `GenerateSecretString` describes it (or the literal `SecretString`).
pub fn generate_secret(spec: &Value, literal: &Value) -> Result<String, String> {
    if let Some(s) = literal.as_str() {
        return Ok(s.to_owned());
    }
    if spec.is_null() {
        return Err("a secret with neither SecretString nor GenerateSecretString".into());
    }
    let length = spec["PasswordLength"].as_u64().unwrap_or(32) as usize;
    let exclude: Vec<char> = spec["ExcludeCharacters"]
        .as_str()
        .unwrap_or("")
        .chars()
        .collect();
    let flag = |k: &str| spec[k].as_bool().unwrap_or(false);
    let mut alphabet: Vec<char> = Vec::new();
    if !flag("ExcludeLowercase") {
        alphabet.extend('a'..='z');
    }
    if !flag("ExcludeUppercase") {
        alphabet.extend('A'..='Z');
    }
    if !flag("ExcludeNumbers") {
        alphabet.extend('0'..='9');
    }
    if !flag("ExcludePunctuation") {
        alphabet.extend("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".chars());
    }
    if flag("IncludeSpace") {
        alphabet.push(' ');
    }
    alphabet.retain(|c| !exclude.contains(c));
    if alphabet.is_empty() {
        return Err("GenerateSecretString excludes every character".into());
    }
    let mut rng = rand::thread_rng();
    let password = loop {
        let p: String = (0..length)
            .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
            .collect();
        let has = |f: fn(&char) -> bool| !alphabet.iter().any(f) || p.chars().any(|c| f(&c));
        if !flag("RequireEachIncludedType")
            || (has(char::is_ascii_lowercase)
                && has(char::is_ascii_uppercase)
                && has(char::is_ascii_digit))
        {
            break p;
        }
    };
    match (
        spec["SecretStringTemplate"].as_str(),
        spec["GenerateStringKey"].as_str(),
    ) {
        (Some(template), Some(key)) => {
            let mut v: Value =
                serde_json::from_str(template).map_err(|e| format!("SecretStringTemplate: {e}"))?;
            v[key] = json!(password);
            Ok(v.to_string())
        }
        _ => Ok(password),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_follow_the_template_spec() {
        let plain = generate_secret(
            &json!({"ExcludePunctuation": true, "IncludeSpace": false, "PasswordLength": 64}),
            &Value::Null,
        )
        .unwrap();
        assert_eq!(plain.len(), 64);
        assert!(plain.chars().all(|c| c.is_ascii_alphanumeric()));
        let admin = generate_secret(
            &json!({"ExcludePunctuation": true, "GenerateStringKey": "password", "PasswordLength": 32,
                    "RequireEachIncludedType": true, "SecretStringTemplate": "{\"email\":\"ops@example.com\"}"}),
            &Value::Null,
        )
        .unwrap();
        let v: Value = serde_json::from_str(&admin).unwrap();
        assert_eq!(v["email"], "ops@example.com");
        let p = v["password"].as_str().unwrap();
        assert_eq!(p.len(), 32);
        assert!(p.chars().any(|c| c.is_ascii_digit()) && p.chars().any(|c| c.is_ascii_uppercase()));
        assert_eq!(
            generate_secret(&Value::Null, &json!("given")).unwrap(),
            "given"
        );
        assert!(generate_secret(&Value::Null, &Value::Null).is_err());
    }

    #[test]
    fn the_table_must_be_the_one_of_infra_table_json() {
        let spec: Value = serde_json::from_str(include_str!("../../../infra/table.json")).unwrap();
        let table = json!({"Properties": {
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            "GlobalSecondaryIndexes": [
                {"IndexName": "GSI1", "KeySchema": [{"AttributeName": "GSI1PK", "KeyType": "HASH"}, {"AttributeName": "GSI1SK", "KeyType": "RANGE"}]},
                {"IndexName": "GSI2", "KeySchema": [{"AttributeName": "GSI2PK", "KeyType": "HASH"}, {"AttributeName": "GSI2SK", "KeyType": "RANGE"}]}],
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": true}}});
        check_table(&table, &spec).unwrap();
        let mut no_stream = table.clone();
        no_stream["Properties"]["StreamSpecification"] = Value::Null;
        assert!(check_table(&no_stream, &spec)
            .unwrap_err()
            .contains("stream"));
    }
}
