//! Lambda init benchmark: how long a function binary takes from `exec` to
//! asking the Runtime API for its first event.
//!
//! For each run a fake Lambda Runtime API (`lite_fake_runtime`) listens on
//! 127.0.0.1 (loopback only, a fresh port per run), the binary is started
//! with the environment Lambda gives a function (`AWS_LAMBDA_RUNTIME_API`
//! pointing at the fake), and the time
//! from just before `spawn` to the arrival of its first
//! `GET /2018-06-01/runtime/invocation/next` is recorded. That request is
//! never answered: the child is killed and the next run starts. Each run is
//! bounded by a timeout (5 s). One extra warm-up run (not counted) first
//! brings the binary into the page cache, so every counted run sees the same
//! disk state.
//!
//! This measures the function's own init (process start, runtime and SDK
//! client construction, router building); it does not include what AWS adds
//! around it (downloading the package, starting the sandbox).
//!
//! Two modes:
//! - one binary: `lambda-init [--runs N] [--timeout-ms MS] [--env K=V]... <binary>`
//!   (environment: the Lambda one plus `TABLE_NAME` and the cursor secret's
//!   ARN, plus `--env`);
//! - every artifact: `lambda-init --manifest target/lambda/manifest.json
//!   [--cdk-out DIR] [--runs N] ...` starts each `bootstrap` that
//!   scripts/build-lambdas wrote, with the environment the synthesized
//!   template gives its function (`--cdk-out`, from `cdk synth`; see
//!   lambda_init/artifacts.rs), and prints one table: zip MB, unzipped MB,
//!   init p50 / p90.
//!
//! It prints figures; it never fails on them. The exit code is non-zero only
//! when runs fail (timeout, crash, init error) or the arguments are wrong.

#[path = "lambda_init/artifacts.rs"]
mod artifacts;

use artifacts::Artifact;
use lite_fake_runtime::{Output, Start};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Limits of the deployment (load/README.md): zip size and median init.
const ZIP_LIMIT_MB: f64 = 5.0;
const INIT_LIMIT_MS: f64 = 10.0;

enum Target {
    Binary(String),
    Manifest {
        manifest: PathBuf,
        cdk_out: Option<PathBuf>,
    },
}

struct Args {
    runs: usize,
    timeout: Duration,
    target: Target,
    /// Extra `K=V` pairs added to (or replacing) the Lambda environment.
    env: Vec<(String, String)>,
}

fn usage() -> &'static str {
    "usage: lambda-init [--runs N] [--timeout-ms MS] [--env K=V]... <path-to-lambda-binary>\n\
     \x20      lambda-init --manifest target/lambda/manifest.json [--cdk-out DIR] [--runs N] [--timeout-ms MS] [--env K=V]...\n\
     \n\
     Starts the binary N times (default 30) against a fake Lambda Runtime API on\n\
     127.0.0.1 and prints exec -> first invocation/next in ms (min / median / p90 / max).\n\
     Each run times out after MS milliseconds (default 5000). --env adds or overrides\n\
     one variable of the Lambda environment (repeatable).\n\
     \n\
     --manifest starts every artifact scripts/build-lambdas built (its unzipped bootstrap)\n\
     and prints one table (zip MB, unzipped MB, init p50/p90). --cdk-out DIR (a `cdk synth`\n\
     output made with those artifacts) gives each one its function's environment."
}

fn positive(flag: &str, v: &str) -> Result<u64, String> {
    v.parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(format!("{flag}: `{v}` is not a positive number"))
}

fn parse_args() -> Result<Args, String> {
    let mut runs = 30;
    let mut timeout = Duration::from_secs(5);
    let mut binary = None;
    let mut manifest = None;
    let mut cdk_out = None;
    let mut env = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or(format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--runs" | "-n" => runs = positive("--runs", &value("--runs")?)? as usize,
            "--timeout-ms" => {
                timeout = Duration::from_millis(positive("--timeout-ms", &value("--timeout-ms")?)?)
            }
            "--env" => {
                let v = value("--env")?;
                let (k, val) = v
                    .split_once('=')
                    .filter(|(k, _)| !k.is_empty())
                    .ok_or(format!("--env: `{v}` is not K=V"))?;
                env.push((k.to_owned(), val.to_owned()));
            }
            "--manifest" => manifest = Some(PathBuf::from(value("--manifest")?)),
            "--cdk-out" => cdk_out = Some(PathBuf::from(value("--cdk-out")?)),
            s if s.starts_with('-') => return Err(format!("unknown option `{s}`")),
            s => {
                if binary.replace(s.to_owned()).is_some() {
                    return Err("give exactly one binary".into());
                }
            }
        }
    }
    let target = match (binary, manifest) {
        (Some(b), None) if cdk_out.is_none() => Target::Binary(b),
        (None, Some(manifest)) => Target::Manifest { manifest, cdk_out },
        (Some(_), None) => return Err("--cdk-out goes with --manifest".into()),
        (Some(_), Some(_)) => return Err("give a binary or --manifest, not both".into()),
        (None, None) => return Err("missing the path of the Lambda binary (or --manifest)".into()),
    };
    Ok(Args {
        runs: runs.max(1),
        timeout,
        target,
        env,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(sorted: &[Duration]) -> Duration {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

/// What Lambda sets in every function's environment (before the
/// function's own variables, which win).
fn lambda_env() -> Vec<(String, String)> {
    [
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "x"),
        ("AWS_SECRET_ACCESS_KEY", "x"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "x"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "x"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// One start: exec → the first `invocation/next`, never answered (the
/// child is killed then).
async fn start_once(
    binary: &Path,
    env: &[(String, String)],
    timeout: Duration,
) -> Result<Duration, String> {
    let start = Start {
        binary,
        env,
        function_arn: "arn:aws:lambda:us-east-1:000000000000:function:init-benchmark",
        timeout,
        output: Output::StderrInError,
    };
    lite_fake_runtime::run(&start, None)
        .await
        .map(|run| run.init)
}

/// A warm-up start, then `runs` counted starts. Sorted samples and the
/// number of failed runs (each failure is printed), or why nothing could be
/// measured.
async fn measure(
    binary: &Path,
    env: &[(String, String)],
    runs: usize,
    timeout: Duration,
) -> Result<(Vec<Duration>, usize), String> {
    let env: Vec<_> = lambda_env()
        .into_iter()
        .chain(env.iter().cloned())
        .collect();
    start_once(binary, &env, timeout)
        .await
        .map_err(|e| format!("warm-up run failed: {e}"))?;
    let mut samples = Vec::with_capacity(runs);
    let mut failures = 0;
    for i in 1..=runs {
        match start_once(binary, &env, timeout).await {
            Ok(d) => samples.push(d),
            Err(e) => {
                failures += 1;
                eprintln!("{}: run {i}: {e}", binary.display());
            }
        }
    }
    if samples.is_empty() {
        return Err("every run failed".into());
    }
    samples.sort();
    Ok((samples, failures))
}

/// The single-binary mode's environment besides the Lambda one: what the
/// catalog's route functions need (a route function name, the table, the
/// cursor key).
fn default_env() -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_FUNCTION_NAME", "catalog-get-product"),
        ("TABLE_NAME", "amazon-lite"),
        (
            "AMAZON_LITE_CURSOR_SECRET_ARN",
            "arn:aws:secretsmanager:us-east-1:000000000000:secret:cursor",
        ),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

async fn one_binary(args: &Args, binary: &str) -> ExitCode {
    if !std::path::Path::new(binary).is_file() {
        eprintln!("lambda-init: {binary} is not a file");
        return ExitCode::from(2);
    }
    let size = std::fs::metadata(binary).map(|m| m.len()).unwrap_or(0);
    println!(
        "lambda-init: {binary} ({:.1} MB), fake Runtime API on 127.0.0.1, {} runs (+1 warm-up), timeout {:?}",
        mb(size),
        args.runs,
        args.timeout
    );
    for (k, v) in &args.env {
        println!("  extra environment: {k}={v}");
    }
    let mut env = default_env();
    env.extend(args.env.iter().cloned());
    let measured = measure(Path::new(binary), &env, args.runs, args.timeout).await;
    let (samples, failures) = match measured {
        Ok(m) => m,
        Err(e) => {
            eprintln!("lambda-init: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "exec -> first invocation/next over {} runs{}: min {:.1} ms / median {:.1} ms / p90 {:.1} ms / max {:.1} ms",
        samples.len(),
        if failures > 0 {
            format!(" ({failures} failed)")
        } else {
            String::new()
        },
        ms(samples[0]),
        ms(median(&samples)),
        ms(percentile(&samples, 90.0)),
        ms(*samples.last().expect("non-empty")),
    );
    if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// One row of the table.
struct Row {
    artifact: Artifact,
    env_from: String,
    /// p50 and p90, or why the artifact could not be measured.
    init: Result<(Duration, Duration), String>,
    failures: usize,
}

async fn every_artifact(
    args: &Args,
    manifest: &std::path::Path,
    cdk_out: Option<&std::path::Path>,
) -> ExitCode {
    let artifacts = match artifacts::read_manifest(manifest) {
        Ok(a) if !a.is_empty() => a,
        Ok(_) => {
            eprintln!("lambda-init: {} lists no artifact", manifest.display());
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("lambda-init: {e} (run scripts/build-lambdas first)");
            return ExitCode::from(2);
        }
    };
    let envs = match cdk_out.map(|dir| artifacts::environments(dir, &artifacts)) {
        None => Default::default(),
        Some(Ok(envs)) => envs,
        Some(Err(e)) => {
            eprintln!("lambda-init: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "lambda-init: {} artifacts of {}, fake Runtime API on 127.0.0.1, {} runs each (+1 warm-up), timeout {:?}",
        artifacts.len(),
        manifest.display(),
        args.runs,
        args.timeout
    );
    let mut rows = Vec::new();
    for artifact in artifacts {
        let (mut env, env_from) = match envs.get(&artifact.binary) {
            Some(env) => {
                let name = env
                    .iter()
                    .find(|(k, _)| k == "AWS_LAMBDA_FUNCTION_NAME")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                (env.clone(), format!("template ({name})"))
            }
            None if cdk_out.is_some() => (default_env(), "no function in the template".into()),
            None => (default_env(), "default".into()),
        };
        env.extend(args.env.iter().cloned());
        let bootstrap = artifact.bootstrap();
        let measured = measure(&bootstrap, &env, args.runs, args.timeout).await;
        let (init, failures) = match measured {
            Ok((s, failures)) => (Ok((median(&s), percentile(&s, 90.0))), failures),
            Err(e) => (Err(e), args.runs),
        };
        rows.push(Row {
            artifact,
            env_from,
            init,
            failures,
        });
    }
    print_table(&rows);
    if rows.iter().any(|r| r.failures > 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn print_table(rows: &[Row]) {
    println!();
    println!("| function binary | arch | zip MB | unzipped MB | init p50 ms | init p90 ms | environment |");
    println!("|---|---|---:|---:|---:|---:|---|");
    for r in rows {
        let a = &r.artifact;
        let over = |over: bool| if over { " (over)" } else { "" };
        let (p50, p90) = match &r.init {
            Ok((p50, p90)) => (
                format!("{:.1}{}", ms(*p50), over(ms(*p50) > INIT_LIMIT_MS)),
                format!("{:.1}", ms(*p90)),
            ),
            Err(e) => {
                eprintln!("{}: {e}", a.binary);
                ("failed".into(), "failed".into())
            }
        };
        println!(
            "| {} | {} | {:.2}{} | {:.2} | {p50} | {p90} | {} |",
            a.binary,
            a.arch,
            mb(a.zip_bytes),
            over(mb(a.zip_bytes) > ZIP_LIMIT_MB),
            mb(a.unzipped_bytes),
            r.env_from
        );
    }
    let largest = rows.iter().map(|r| &r.artifact).max_by_key(|a| a.zip_bytes);
    let slowest = rows
        .iter()
        .filter_map(|r| r.init.as_ref().ok().map(|(p50, _)| (r, *p50)))
        .max_by_key(|(_, p50)| *p50);
    println!();
    if let (Some(largest), Some((slowest, p50))) = (largest, slowest) {
        println!(
            "largest zip {:.2} MB ({}; limit {ZIP_LIMIT_MB} MB); slowest init p50 {:.1} ms ({}; limit {INIT_LIMIT_MS} ms); {} of {} artifacts measured",
            mb(largest.zip_bytes),
            largest.binary,
            ms(p50),
            slowest.artifact.binary,
            rows.iter().filter(|r| r.init.is_ok()).count(),
            rows.len()
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("lambda-init: {e}\n");
            }
            eprintln!("{}", usage());
            return if e.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    match &args.target {
        Target::Binary(binary) => one_binary(&args, binary).await,
        Target::Manifest { manifest, cdk_out } => {
            every_artifact(&args, manifest, cdk_out.as_deref()).await
        }
    }
}
