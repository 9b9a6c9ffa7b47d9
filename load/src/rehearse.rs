//! The deploy rehearsal: every Lambda function of the synthesized stack
//! started from its deployed artifact, with the environment the template
//! gives it, against AWS emulated by moto, invoked with an event of its
//! kind, its answer checked and every AWS call it made checked against its
//! role.
//!
//! ```text
//! rehearse --cdk-out DIR --moto http://127.0.0.1:PORT [--manifest target/lambda/manifest.json]
//!          [--routes infra/routes.json] [--table infra/table.json] [--events events/lambda]
//!          [--work target/rehearsal] [--starts N] [--parameter K=V]...
//! ```
//!
//! 1. Provision: the table (infra/table.json's, with its stream), secrets
//!    with generated values, the bus, every queue with its redrive policy,
//!    the rules with their SQS targets, the state machine; every token of
//!    the functions' environments resolved to what moto created.
//! 2. Every function: its zip (the CDK asset, byte-equal to a
//!    scripts/build-lambdas artifact) unzipped, `bootstrap` started against
//!    a fake Runtime API (`N` measured starts, then the invoked one), one
//!    event of its kind, the answer checked.
//! 3. The chain: orders placed through the route functions; the relay fed
//!    the table's stream records read from moto; the bus's rules put the
//!    events on the consumers' queues; checkout-start's StartExecution is
//!    listed by moto's Step Functions.
//! 4. IAM: each function's `AWS_ENDPOINT_URL` is a recording proxy in front
//!    of moto; every call is matched against the role's statements.
//!
//! Last line: `rehearsal: N of N functions started and answered; largest
//! zip X MB; slowest init p50 Y ms`. Exit 1 when anything failed.

#[path = "rehearse/mod.rs"]
mod rehearse;

use rehearse::flow::{Mapping, StreamCursor};
use rehearse::harness::{Harness, Outcome, Prepared, Received};
use rehearse::iam::Statement;
use rehearse::moto::Moto;
use rehearse::plan::{Plan, NOT_EMULATED};
use rehearse::resolve::{Physical, Resolver};
use rehearse::template::App;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Args {
    cdk_out: PathBuf,
    moto: String,
    manifest: PathBuf,
    routes: PathBuf,
    table: PathBuf,
    events: PathBuf,
    work: PathBuf,
    starts: usize,
    parameters: HashMap<String, String>,
}

const USAGE: &str = "usage: rehearse --cdk-out DIR --moto http://127.0.0.1:PORT [--manifest target/lambda/manifest.json]\n\
\x20      [--routes infra/routes.json] [--table infra/table.json] [--events events/lambda]\n\
\x20      [--work target/rehearsal] [--starts N (measured starts per function, default 3)] [--parameter K=V]...";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        cdk_out: PathBuf::new(),
        moto: String::new(),
        manifest: "target/lambda/manifest.json".into(),
        routes: "infra/routes.json".into(),
        table: "infra/table.json".into(),
        events: "events/lambda".into(),
        work: "target/rehearsal".into(),
        starts: 3,
        parameters: HashMap::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let v = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--cdk-out" => a.cdk_out = v.into(),
            "--moto" => a.moto = v,
            "--manifest" => a.manifest = v.into(),
            "--routes" => a.routes = v.into(),
            "--table" => a.table = v.into(),
            "--events" => a.events = v.into(),
            "--work" => a.work = v.into(),
            "--starts" => {
                a.starts = v
                    .parse()
                    .map_err(|_| format!("--starts: `{v}` is not a number"))?
            }
            "--parameter" => {
                let (k, val) = v
                    .split_once('=')
                    .ok_or(format!("--parameter: `{v}` is not K=V"))?;
                a.parameters.insert(k.into(), val.into());
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    if a.cdk_out.as_os_str().is_empty() || a.moto.is_empty() {
        return Err("--cdk-out and --moto are required".into());
    }
    Ok(a)
}

/// One artifact of target/lambda/manifest.json.
struct Artifact {
    binary: String,
    zip: PathBuf,
    zip_bytes: u64,
    unzipped_bytes: u64,
}

fn read_manifest(path: &Path) -> Result<Vec<Artifact>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {e} (run scripts/build-lambdas)", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    v.as_array()
        .ok_or(format!("{}: not a list", path.display()))?
        .iter()
        .map(|e| {
            Ok(Artifact {
                binary: e["binary"].as_str().ok_or("manifest: binary")?.to_owned(),
                zip: PathBuf::from(e["zip"].as_str().ok_or("manifest: zip")?),
                zip_bytes: e["zipBytes"].as_u64().ok_or("manifest: zipBytes")?,
                unzipped_bytes: e["unzippedBytes"]
                    .as_u64()
                    .ok_or("manifest: unzippedBytes")?,
            })
        })
        .collect()
}

/// A server on 127.0.0.1 that records every request and answers `status`
/// with `body`: the stack's API endpoint as the sandbox payment provider
/// calls it (webhooks), the custom resource's ResponseURL, and the
/// OpenSearch collection stand-in (503: not emulated).
async fn recorder(
    status: u16,
    body: &'static str,
    log: Arc<Mutex<Vec<Received>>>,
) -> Result<String, String> {
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    let router = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, b: axum::body::Bytes| {
            let log = log.clone();
            async move {
                log.lock().expect("lock").push(Received {
                    method: method.to_string(),
                    path: uri.path().to_owned(),
                    headers: headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                        .collect(),
                    body: String::from_utf8_lossy(&b).into_owned(),
                });
                (
                    StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                    [("content-type", "application/json")],
                    body,
                )
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(url)
}

fn unzip(zip: &Path, dir: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let status = std::process::Command::new("unzip")
        .args(["-o", "-q"])
        .arg(zip)
        .arg("-d")
        .arg(dir)
        .status()
        .map_err(|e| format!("unzip: {e}"))?;
    let bootstrap = dir.join("bootstrap");
    if !status.success() || !bootstrap.is_file() {
        return Err(format!("{}: unzip gave no bootstrap", zip.display()));
    }
    Ok(bootstrap)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn rehearse(args: Args) -> Result<bool, String> {
    let app = App::load(&args.cdk_out)?;
    let functions = app.functions();
    let artifacts = read_manifest(&args.manifest)?;
    let table_spec: Value = serde_json::from_str(
        &std::fs::read_to_string(&args.table)
            .map_err(|e| format!("{}: {e}", args.table.display()))?,
    )
    .map_err(|e| format!("{}: {e}", args.table.display()))?;
    let routes = rehearse::http::read_routes(
        &std::fs::read_to_string(&args.routes)
            .map_err(|e| format!("{}: {e}", args.routes.display()))?,
    )?;
    std::fs::create_dir_all(&args.work).map_err(|e| format!("{}: {e}", args.work.display()))?;
    for entry in std::fs::read_dir(&args.work)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        if entry.path().extension().is_some_and(|x| x == "log") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    println!(
        "rehearse: {} stacks, {} functions in {}; {} artifacts; moto at {}",
        app.stacks.len(),
        functions.len(),
        args.cdk_out.display(),
        artifacts.len(),
        args.moto
    );

    // Which artifact each function's asset is (byte-equal zips).
    let zips: Vec<(usize, Vec<u8>)> = artifacts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            std::fs::read(&a.zip)
                .map(|b| (i, b))
                .map_err(|e| format!("{}: {e}", a.zip.display()))
        })
        .collect::<Result<_, _>>()?;
    let mut binary_of: HashMap<String, usize> = HashMap::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut unmatched: Vec<String> = Vec::new();
    for f in &functions {
        if !f.runtime.starts_with("provided") {
            skipped.push(format!(
                "{} ({}): CDK's provider framework for the admin bootstrap, not built here; the rehearsal plays its part (the custom-resource event to auth-admin-bootstrap)",
                f.name, f.runtime
            ));
            continue;
        }
        let bytes = f.asset.as_ref().and_then(|p| std::fs::read(p).ok());
        match bytes.and_then(|b| zips.iter().find(|(_, z)| *z == b).map(|(i, _)| *i)) {
            Some(i) => {
                binary_of.insert(f.name.clone(), i);
            }
            None => unmatched.push(f.name.clone()),
        }
    }
    let mut bootstraps: HashMap<usize, PathBuf> = HashMap::new();
    for i in binary_of
        .values()
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
    {
        let a = &artifacts[i];
        bootstraps.insert(
            i,
            unzip(&a.zip, &args.work.join("functions").join(&a.binary))?,
        );
    }

    let received = Arc::new(Mutex::new(Vec::new()));
    let api_url = recorder(200, "{}", received.clone()).await?;
    let opensearch_url = recorder(
        503,
        "{\"error\":\"OpenSearch is not emulated in the rehearsal\"}",
        Arc::new(Mutex::new(Vec::new())),
    )
    .await?;

    let mut resolver = Resolver::new(&app, args.parameters.clone());
    for (s, stack) in app.stacks.iter().enumerate() {
        for (id, r) in stack.resources() {
            match r["Type"].as_str() {
                Some("AWS::ApiGatewayV2::Api") => {
                    resolver.set(s, id, Physical::new(id).attr("ApiEndpoint", &api_url))
                }
                Some("AWS::OpenSearchServerless::Collection") => resolver.set(
                    s,
                    id,
                    Physical::new(id)
                        .attr("CollectionEndpoint", &opensearch_url)
                        .attr(
                            "Arn",
                            format!("arn:aws:aoss:us-east-1:123456789012:collection/{id}"),
                        ),
                ),
                _ => {}
            }
        }
    }
    let moto = Moto::new(&args.moto);
    println!("\n1. provision moto from the template");
    let provisioned = rehearse::provision::provision(&moto, &mut resolver, &table_spec).await?;
    for l in &provisioned.log {
        println!("  {l}");
    }
    // SES: the sender must be a verified identity (a deploy prerequisite).
    let from = match app.stacks[0].template["Parameters"].get("NotificationsFromAddress") {
        Some(_) => resolver.resolve(0, &serde_json::json!({"Ref": "NotificationsFromAddress"}))?,
        None => String::new(),
    };
    if !from.is_empty() {
        moto.query(
            "ses",
            &[
                ("Action", "VerifyEmailIdentity"),
                ("Version", "2010-12-01"),
                ("EmailAddress", &from),
            ],
        )
        .await?;
        println!("  SES identity {from} verified (as the deploy requires)");
    }

    // Each function: its resolved environment, its role's statements.
    let mut prepared = BTreeMap::new();
    let mut outcomes: BTreeMap<String, Outcome> = BTreeMap::new();
    for name in &unmatched {
        outcomes
            .entry(name.clone())
            .or_default()
            .failures
            .push(format!(
                "no artifact of {} is its code (synthesize with the zips of this build)",
                args.manifest.display()
            ));
    }
    for f in &functions {
        let Some(&i) = binary_of.get(&f.name) else {
            continue;
        };
        let mut env = Vec::new();
        let mut problems = Vec::new();
        for (k, v) in &f.env {
            match resolver.resolve(f.stack, v) {
                Ok(s) => env.push((k.clone(), s)),
                Err(e) => problems.push(format!("environment {k}: {e}")),
            }
        }
        let mut statements = Vec::new();
        for s in f
            .role
            .as_ref()
            .map(|r| app.role_statements(f.stack, r))
            .unwrap_or_default()
        {
            match Statement::parse(&s, |v| resolver.resolve(f.stack, v)) {
                Ok(st) => statements.push(st),
                Err(e) => problems.push(format!("role statement {s}: {e}")),
            }
        }
        let arn = resolver.resolve(
            f.stack,
            &serde_json::json!({"Fn::GetAtt": [f.logical_id, "Arn"]}),
        )?;
        if !problems.is_empty() {
            outcomes
                .entry(f.name.clone())
                .or_default()
                .failures
                .extend(problems);
            continue;
        }
        prepared.insert(
            f.name.clone(),
            Prepared {
                function: f.clone(),
                bootstrap: bootstraps[&i].clone(),
                env,
                statements,
                arn,
            },
        );
    }

    let mut mappings = Vec::new();
    for (s, stack) in app.stacks.iter().enumerate() {
        for (id, r) in stack.of_type("AWS::Lambda::EventSourceMapping") {
            let p = &r["Properties"];
            let target = p["FunctionName"]["Ref"].as_str().unwrap_or_default();
            let Some(f) = functions
                .iter()
                .find(|f| f.stack == s && f.logical_id == target)
            else {
                return Err(format!(
                    "event source mapping {id}: function {target} not found"
                ));
            };
            let filters = p["FilterCriteria"]["Filters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| {
                    serde_json::from_str(x["Pattern"].as_str().unwrap_or("{}"))
                        .map_err(|e| format!("{id}: filter: {e}"))
                })
                .collect::<Result<Vec<Value>, String>>()?;
            mappings.push(Mapping {
                function: f.name.clone(),
                source_arn: resolver.resolve(s, &p["EventSourceArn"])?,
                batch_size: p["BatchSize"].as_u64().unwrap_or(10) as usize,
                filters,
            });
        }
    }

    let admin_secret_arn = app.stacks[0]
        .of_type("Custom::AdminBootstrap")
        .next()
        .map(|(_, r)| resolver.resolve(0, &r["Properties"]["SecretArn"]))
        .transpose()?
        .unwrap_or_default();
    let service_token = app.stacks[0]
        .of_type("Custom::AdminBootstrap")
        .next()
        .map(|(_, r)| resolver.resolve(0, &r["Properties"]["ServiceToken"]))
        .transpose()?
        .unwrap_or_default();
    let state_machine_arn = provisioned.state_machine_arn.clone();

    let mut h = Harness {
        moto: moto.clone(),
        provisioned,
        functions: prepared,
        outcomes,
        work: args.work.clone(),
        extra_starts: args.starts,
        received,
        vars: HashMap::new(),
    };
    let mut plan = Plan {
        routes: routes
            .iter()
            .map(|r| (r.function.clone(), r.clone()))
            .collect(),
        mappings,
        events_dir: args.events.clone(),
        admin_secret_arn,
        service_token,
        response_url: format!("{api_url}/cfn-response/rehearsal?X-Amz-Signature=rehearsal"),
        state_machine_arn,
        counter: 0,
    };

    println!("\n2. every function with an event of its kind");
    plan.admin_bootstrap(&mut h).await;
    plan.shop(&mut h).await;
    plan.reviews(&mut h).await;
    plan.place(&mut h, "orderA", "tok_visa", false).await;
    plan.place(&mut h, "orderB", "tok_chargeDeclined", true)
        .await;
    plan.place(&mut h, "orderC", "tok_visa", true).await;

    println!(
        "\n3. the chain: table stream -> relay -> bus -> queues -> consumers -> Step Functions"
    );
    let mut cursor = StreamCursor::default();
    plan.drain(&mut h, &mut cursor).await?;
    let executions = plan.executions(&h).await?;
    let mut chain_ok = true;
    for var in ["orderA", "orderB", "orderC"] {
        let order = h.var(var);
        match executions.iter().find(|(name, _)| *name == order) {
            Some((name, status)) => println!("  Step Functions lists execution {name} ({status})"),
            None => {
                chain_ok = false;
                h.fail("checkout-start", format!("no execution for {order} in moto's Step Functions (executions: {executions:?})"));
            }
        }
    }

    println!("\n   the saga's tasks, as the state machine calls them");
    plan.saga_tasks(&mut h).await;
    println!("\n   routes after the saga");
    plan.after_saga(&mut h).await;
    println!("\n   the events those produced");
    plan.drain(&mut h, &mut cursor).await?;
    plan.sweeper(&mut h).await;

    // Everything exercised?
    for r in &routes {
        if h.outcomes
            .get(&r.function)
            .is_none_or(|o| o.invocations == 0)
        {
            h.fail(&r.function, "the plan never invoked this route");
        }
    }
    let names: Vec<String> = h.functions.keys().cloned().collect();
    for n in &names {
        if h.outcomes.get(n).is_none_or(|o| o.invocations == 0) {
            h.fail(
                n,
                "never invoked (no message reached its queue, or the plan lacks it)",
            );
        }
    }
    Ok(report(
        &h, &artifacts, &binary_of, &unmatched, &skipped, chain_ok,
    ))
}

fn report(
    h: &Harness,
    artifacts: &[Artifact],
    binary_of: &HashMap<String, usize>,
    unmatched: &[String],
    skipped: &[String],
    chain_ok: bool,
) -> bool {
    println!("\n4. IAM: calls per function, each allowed by its role");
    println!("\n| function | kind | binary | invocations | init p50 ms | AWS calls (distinct) | result |");
    println!("|---|---|---|---:|---:|---|---|");
    let mut ok_count = 0;
    let mut total = 0;
    let mut per_binary: BTreeMap<usize, Vec<Duration>> = BTreeMap::new();
    for &i in binary_of.values() {
        per_binary.entry(i).or_default();
    }
    let mut names: Vec<&String> = binary_of.keys().chain(unmatched).collect();
    names.sort();
    for name in names {
        total += 1;
        let i = binary_of.get(name).copied();
        let empty = Outcome::default();
        let o = h.outcomes.get(name).unwrap_or(&empty);
        let mut inits = o.inits.clone();
        inits.sort();
        if let Some(i) = i {
            per_binary
                .entry(i)
                .or_default()
                .extend(inits.iter().copied());
        }
        let ok = o.failures.is_empty() && o.answered > 0;
        if ok {
            ok_count += 1;
        }
        let kind = h
            .functions
            .get(name)
            .map(|p| p.function.kind.clone())
            .unwrap_or_default();
        let actions: std::collections::BTreeSet<&str> =
            o.calls.iter().map(|c| c.action.as_str()).collect();
        let note = NOT_EMULATED
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, why)| format!(" ({why})"))
            .unwrap_or_default();
        println!(
            "| {name} | {kind} | {} | {} | {} | {} | {}{note} |",
            i.map(|i| artifacts[i].binary.as_str()).unwrap_or("-"),
            o.invocations,
            if inits.is_empty() {
                "-".into()
            } else {
                format!("{:.1}", ms(percentile(&inits, 50.0)))
            },
            if actions.is_empty() {
                "none".into()
            } else {
                actions.into_iter().collect::<Vec<_>>().join(", ")
            },
            if ok {
                "ok".to_owned()
            } else {
                format!("FAILED: {}", o.failures.join("; "))
            }
        );
    }
    for s in skipped {
        println!("\nnot started: {s}");
    }
    println!("\n| binary | zip MB | unzipped MB | starts | init p50 ms | init p90 ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut slowest = Duration::ZERO;
    let mut largest = 0u64;
    for (i, mut inits) in per_binary {
        inits.sort();
        let a = &artifacts[i];
        largest = largest.max(a.zip_bytes);
        let (p50, p90) = if inits.is_empty() {
            ("-".to_owned(), "-".to_owned())
        } else {
            let p50 = percentile(&inits, 50.0);
            slowest = slowest.max(p50);
            (
                format!("{:.1}", ms(p50)),
                format!("{:.1}", ms(percentile(&inits, 90.0))),
            )
        };
        println!(
            "| {} | {:.2} | {:.2} | {} | {p50} | {p90} |",
            a.binary,
            a.zip_bytes as f64 / 1e6,
            a.unzipped_bytes as f64 / 1e6,
            inits.len()
        );
    }
    println!(
        "\nchain (orders-place -> stream -> relay -> bus -> checkout-start queue -> checkout-start -> StartExecution): {}",
        if chain_ok { "ok" } else { "FAILED" }
    );
    println!(
        "rehearsal: {ok_count} of {total} functions started and answered; largest zip {:.2} MB; slowest init p50 {:.1} ms",
        largest as f64 / 1e6,
        ms(slowest)
    );
    ok_count == total && chain_ok
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("rehearse: {e}\n");
            }
            eprintln!("{USAGE}");
            return if e.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    match rehearse(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("rehearse: {e}");
            ExitCode::FAILURE
        }
    }
}
