//! The table and the emulator for tests and local development.
//!
//! - [`TableDefinition`] is `infra/table.json`, the one definition of the
//!   single table; [`create_table`] builds it (tests, or a developer's moto
//!   server for `cargo lambda watch`; see `examples/create_table.rs`).
//! - [`MotoServer::shared`] is the moto server of this test process: the
//!   one the test command started (`AMAZON_LITE_TEST_DYNAMODB_ENDPOINT`), or
//!   one started here from `<repo>/.venv` that dies with the process.
//! - [`test_store`] is a store on a table created once per test process.
//!   Each call builds a fresh client: every `#[tokio::test]` has its own
//!   runtime, and a client's pooled connections die with the runtime that
//!   opened them.

use crate::{errors, DynamoStore};
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus,
    TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use lite_store::{Store, StoreError};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Set by the test command to the moto server it started for the whole run.
pub const ENDPOINT_ENV: &str = "AMAZON_LITE_TEST_DYNAMODB_ENDPOINT";

/// The repository root (found from this crate's manifest directory).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .unwrap_or(manifest)
        .to_path_buf()
}

/// One global secondary index of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GsiDefinition {
    pub index_name: String,
    pub partition_key: String,
    pub sort_key: String,
}

/// The single table as `infra/table.json` defines it (every key attribute
/// is a string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDefinition {
    pub partition_key: String,
    pub sort_key: String,
    pub global_secondary_indexes: Vec<GsiDefinition>,
    pub time_to_live_attribute: Option<String>,
    /// Stream view type, e.g. `NEW_AND_OLD_IMAGES`; `None`: no stream.
    pub stream: Option<String>,
}

impl TableDefinition {
    /// `<repo>/infra/table.json`.
    pub fn path() -> PathBuf {
        repo_root().join("infra").join("table.json")
    }

    /// The repository's table definition.
    pub fn load() -> Result<Self, String> {
        let path = Self::path();
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        let json: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let string = |v: &Value, field: &str| -> Result<String, String> {
            v.get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("{field} must be a string"))
        };
        let optional = |field: &str| -> Result<Option<String>, String> {
            match json.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("{field} must be a string")),
            }
        };
        let indexes = match json.get("globalSecondaryIndexes") {
            None => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|gsi| {
                    Ok(GsiDefinition {
                        index_name: string(gsi, "indexName")?,
                        partition_key: string(gsi, "partitionKey")?,
                        sort_key: string(gsi, "sortKey")?,
                    })
                })
                .collect::<Result<_, String>>()?,
            Some(_) => return Err("globalSecondaryIndexes must be a list".into()),
        };
        Ok(Self {
            partition_key: string(&json, "partitionKey")?,
            sort_key: string(&json, "sortKey")?,
            global_secondary_indexes: indexes,
            time_to_live_attribute: optional("timeToLiveAttribute")?,
            stream: optional("stream")?,
        })
    }
}

/// Creates table `name` from `def`: on-demand billing, string keys, GSIs
/// projecting all attributes, the stream if any; waits until it is active,
/// then turns on TTL. Fails if the table exists.
pub async fn create_table(
    client: &Client,
    name: &str,
    def: &TableDefinition,
) -> Result<(), StoreError> {
    let key = |attr: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(attr)
            .key_type(key_type)
            .build()
            .map_err(build_error)
    };
    let mut attributes = vec![def.partition_key.clone(), def.sort_key.clone()];
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(&def.partition_key, KeyType::Hash)?)
        .key_schema(key(&def.sort_key, KeyType::Range)?);
    for gsi in &def.global_secondary_indexes {
        attributes.extend([gsi.partition_key.clone(), gsi.sort_key.clone()]);
        let index = GlobalSecondaryIndex::builder()
            .index_name(&gsi.index_name)
            .key_schema(key(&gsi.partition_key, KeyType::Hash)?)
            .key_schema(key(&gsi.sort_key, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(build_error)?;
        request = request.global_secondary_indexes(index);
    }
    attributes.sort();
    attributes.dedup();
    for attr in attributes {
        let definition = AttributeDefinition::builder()
            .attribute_name(attr)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(build_error)?;
        request = request.attribute_definitions(definition);
    }
    if let Some(view) = &def.stream {
        let stream = StreamSpecification::builder()
            .stream_enabled(true)
            .stream_view_type(StreamViewType::from(view.as_str()))
            .build()
            .map_err(build_error)?;
        request = request.stream_specification(stream);
    }
    request
        .send()
        .await
        .map_err(|e| errors::from_sdk("CreateTable", e))?;
    wait_until_active(client, name).await?;
    if let Some(ttl) = &def.time_to_live_attribute {
        let spec = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(ttl)
            .build()
            .map_err(build_error)?;
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(|e| errors::from_sdk("UpdateTimeToLive", e))?;
    }
    Ok(())
}

/// Creates the table unless it exists; returns whether it created it.
pub async fn ensure_table(
    client: &Client,
    name: &str,
    def: &TableDefinition,
) -> Result<bool, StoreError> {
    match client.describe_table().table_name(name).send().await {
        Ok(_) => Ok(false),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            create_table(client, name, def).await.map(|()| true)
        }
        Err(e) => Err(errors::from_sdk("DescribeTable", e)),
    }
}

async fn wait_until_active(client: &Client, name: &str) -> Result<(), StoreError> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let out = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| errors::from_sdk("DescribeTable", e))?;
        let table = out.table.as_ref();
        let table_active =
            table.and_then(|t| t.table_status.as_ref()) == Some(&TableStatus::Active);
        let indexes_active = table
            .map(|t| t.global_secondary_indexes())
            .unwrap_or_default()
            .iter()
            .all(|i| {
                i.index_status
                    .as_ref()
                    .is_none_or(|s| s.as_str() == "ACTIVE")
            });
        if table_active && indexes_active {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(StoreError::Unavailable(format!(
                "table {name} did not become active"
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn build_error(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Invalid(format!("could not build the DynamoDB request: {e}"))
}

/// A DynamoDB client for the emulator at `endpoint`: dummy credentials,
/// region us-east-1.
pub fn client(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        // The workspace's SDK crates have no default HTTP client.
        .http_client(lite_aws::http_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        // moto accepts one connection at a time from a short queue: 500
        // buyers connecting at once under a loaded machine overflow it, and
        // the SDK's default 3.1 s connect timeout then fails a test that
        // is not about connecting. A patient client for the emulator.
        .timeout_config(
            aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
                .connect_timeout(std::time::Duration::from_secs(15))
                .build(),
        )
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::standard().with_max_attempts(5))
        .credentials_provider(Credentials::new(
            "AKIDTEST",
            "secret",
            None,
            None,
            "lite-dynamo-tests",
        ))
        .build();
    Client::from_conf(config)
}

/// The moto server of this test process.
pub struct MotoServer;

static MOTO_ENDPOINT: OnceLock<String> = OnceLock::new();
static MOTO_WATCHDOG: OnceLock<std::sync::Mutex<std::process::Child>> = OnceLock::new();

impl MotoServer {
    /// Its endpoint URL: `AMAZON_LITE_TEST_DYNAMODB_ENDPOINT` when set,
    /// otherwise a server started on the first call (from `<repo>/.venv`)
    /// that stops when this process ends.
    pub async fn shared() -> String {
        if let Some(endpoint) = MOTO_ENDPOINT.get() {
            return endpoint.clone();
        }
        // Starting blocks for about a second; keep it off the runtime.
        match tokio::task::spawn_blocking(|| MOTO_ENDPOINT.get_or_init(start_or_find_moto).clone())
            .await
        {
            Ok(endpoint) => endpoint,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("starting moto was cancelled: {e}"),
        }
    }
}

fn start_or_find_moto() -> String {
    if let Some(endpoint) = std::env::var(ENDPOINT_ENV).ok().filter(|e| !e.is_empty()) {
        return endpoint;
    }
    let moto = repo_root().join(".venv").join("bin").join("moto_server");
    if !moto.is_file() {
        panic!("moto_server not found: run scripts/test (it installs moto into .venv) or set {ENDPOINT_ENV}");
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("no free local port for moto")
        .port();
    let log = std::env::temp_dir().join(format!("lite-dynamo-moto-{port}.log"));
    // `scripts/moto.sh serve` is moto_server with DynamoDB requests handled
    // one at a time (see the script for why).
    let script = repo_root().join("scripts").join("moto.sh");
    // A watchdog shell owns the server and stops it once this process is
    // gone, however it ends (statics are never dropped, and a test binary
    // may be killed), so no server outlives its tests.
    let watchdog = r#"script="$1" port="$2" parent="$3" log="$4"
bash "$script" serve "$port" >"$log" 2>&1 </dev/null &
server=$!
trap 'kill "$server" 2>/dev/null' EXIT
trap 'exit 0' TERM INT HUP
while kill -0 "$parent" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 0.5; done"#;
    let mut child = std::process::Command::new("bash")
        .arg("-c")
        .arg(watchdog)
        .arg("moto-watchdog")
        .arg(&script)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .arg(&log)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("could not run bash to start moto_server");
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            // Kept for the life of the process; the watchdog ends after it.
            let _ = MOTO_WATCHDOG.set(std::sync::Mutex::new(child));
            return format!("http://127.0.0.1:{port}");
        }
        let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "moto_server exited ({status}) before answering:\n{}",
                log_text()
            );
        }
        if Instant::now() > deadline {
            // SIGTERM, so the watchdog's trap stops the server too.
            let _ = std::process::Command::new("kill")
                .arg(child.id().to_string())
                .status();
            panic!(
                "moto_server did not answer on port {port} within 30 s:\n{}",
                log_text()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

static TEST_TABLE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// A [`DynamoStore`] on this process's test table in moto (created from
/// `infra/table.json` on first use; cases share it and use their own
/// partition keys).
pub async fn test_dynamo_store() -> DynamoStore {
    let endpoint = MotoServer::shared().await;
    let client = client(&endpoint);
    let table = TEST_TABLE
        .get_or_init(|| async {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            let name = format!("conformance-{}-{nanos}", std::process::id());
            let def = TableDefinition::load().unwrap_or_else(|e| panic!("table definition: {e}"));
            create_table(&client, &name, &def)
                .await
                .unwrap_or_else(|e| panic!("creating table {name} in moto: {e}"));
            name
        })
        .await;
    DynamoStore::new(client, table.clone())
}

/// [`test_dynamo_store`] behind the port, for the conformance suite.
pub async fn test_store() -> Arc<dyn Store> {
    Arc::new(test_dynamo_store().await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lite_store::{attr, Index};

    #[test]
    fn parses_a_definition() {
        let def = TableDefinition::from_json(
            r#"{"partitionKey":"PK","sortKey":"SK","globalSecondaryIndexes":[{"indexName":"G","partitionKey":"GP","sortKey":"GS"}],"stream":"NEW_IMAGE"}"#,
        )
        .unwrap();
        assert_eq!(def.partition_key, "PK");
        assert_eq!(def.global_secondary_indexes[0].sort_key, "GS");
        assert_eq!(def.time_to_live_attribute, None);
        assert_eq!(def.stream.as_deref(), Some("NEW_IMAGE"));
        assert!(TableDefinition::from_json(r#"{"partitionKey":1,"sortKey":"SK"}"#).is_err());
    }

    /// The port's attribute and index names are the ones the table has.
    #[test]
    fn the_repository_table_matches_the_port() {
        let def = TableDefinition::load().unwrap();
        assert_eq!(
            (def.partition_key.as_str(), def.sort_key.as_str()),
            (attr::PK, attr::SK)
        );
        let gsis: Vec<_> = def
            .global_secondary_indexes
            .iter()
            .map(|g| {
                (
                    Some(g.index_name.as_str()),
                    g.partition_key.as_str(),
                    g.sort_key.as_str(),
                )
            })
            .collect();
        let port: Vec<_> = [Index::Gsi1, Index::Gsi2]
            .into_iter()
            .map(|i| (i.name(), i.pk_attr(), i.sk_attr()))
            .collect();
        assert_eq!(gsis, port);
        assert_eq!(
            def.time_to_live_attribute.as_deref(),
            Some(attr::EXPIRES_AT)
        );
        assert_eq!(def.stream.as_deref(), Some("NEW_AND_OLD_IMAGES"));
    }
}
