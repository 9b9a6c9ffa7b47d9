//! Lambda init benchmark: how long a function binary takes from `exec` to
//! asking the Runtime API for its first event.
//!
//! A tiny fake Lambda Runtime API listens on 127.0.0.1 (loopback only). For
//! each run the binary is started with the environment Lambda gives a
//! function (`AWS_LAMBDA_RUNTIME_API` pointing at the fake), and the time
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
//! Usage: `lambda-init [--runs N] [--timeout-ms MS] [--env K=V]... <path-to-lambda-binary>`
//! e.g. `cargo run --release -p load --bin lambda-init -- target/release/catalog`
//!
//! It prints figures; it never fails on them. The exit code is non-zero only
//! when runs fail (timeout, crash, init error) or the arguments are wrong.

use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const NEXT: &str = "GET /2018-06-01/runtime/invocation/next";
const INIT_ERROR: &str = "POST /2018-06-01/runtime/init/error";
const MAX_HEAD: usize = 16 * 1024;

struct Args {
    runs: usize,
    timeout: Duration,
    binary: String,
    /// Extra `K=V` pairs added to (or replacing) the Lambda environment.
    env: Vec<(String, String)>,
}

fn usage() -> &'static str {
    "usage: lambda-init [--runs N] [--timeout-ms MS] [--env K=V]... <path-to-lambda-binary>\n\
     \n\
     Starts the binary N times (default 30) against a fake Lambda Runtime API on\n\
     127.0.0.1 and prints exec -> first invocation/next in ms (min / median / p90 / max).\n\
     Each run times out after MS milliseconds (default 5000). --env adds or overrides\n\
     one variable of the Lambda environment (repeatable)."
}

fn parse_args() -> Result<Args, String> {
    let mut runs = 30;
    let mut timeout = Duration::from_secs(5);
    let mut binary = None;
    let mut env = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--runs" | "-n" => {
                let v = it.next().ok_or("--runs needs a number")?;
                runs = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(format!("--runs: `{v}` is not a positive number"))?;
            }
            "--timeout-ms" => {
                let v = it.next().ok_or("--timeout-ms needs a number")?;
                let ms: u64 = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(format!("--timeout-ms: `{v}` is not a positive number"))?;
                timeout = Duration::from_millis(ms);
            }
            "--env" => {
                let v = it.next().ok_or("--env needs K=V")?;
                let (k, val) = v
                    .split_once('=')
                    .filter(|(k, _)| !k.is_empty())
                    .ok_or(format!("--env: `{v}` is not K=V"))?;
                env.push((k.to_owned(), val.to_owned()));
            }
            s if s.starts_with("--runs=") => {
                let v = &s["--runs=".len()..];
                runs = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(format!("--runs: `{v}` is not a positive number"))?;
            }
            s if s.starts_with('-') => return Err(format!("unknown option `{s}`")),
            s => {
                if binary.replace(s.to_owned()).is_some() {
                    return Err("give exactly one binary".into());
                }
            }
        }
    }
    let binary = binary.ok_or("missing the path of the Lambda binary")?;
    Ok(Args {
        runs,
        timeout,
        binary,
        env,
    })
}

/// What the fake Runtime API saw.
#[derive(Debug)]
enum Seen {
    /// The first `invocation/next`, and when it arrived.
    Next(Instant),
    /// The function reported an init error (body, truncated).
    InitError(String),
}

/// Serves connections until the process ends. Every request head is read;
/// `invocation/next` is reported and the connection is then held open
/// (never answered) until the child dies; anything else gets a 202.
async fn runtime_api(listener: TcpListener, seen: mpsc::UnboundedSender<Seen>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let seen = seen.clone();
        tokio::spawn(async move {
            let _ = connection(stream, seen).await;
        });
    }
}

async fn connection(
    mut stream: TcpStream,
    seen: mpsc::UnboundedSender<Seen>,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        // One request head (and for init errors, whatever body came with it).
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            if buf.len() > MAX_HEAD {
                return Ok(());
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let at = Instant::now();
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        if head.starts_with(NEXT) {
            let _ = seen.send(Seen::Next(at));
            // Hold the connection: the benchmark kills the child now.
            while stream.read(&mut chunk).await? != 0 {}
            return Ok(());
        }
        let length = content_length(&head);
        while buf.len() < head_end + length {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body_end = (head_end + length).min(buf.len());
        if head.starts_with(INIT_ERROR) {
            let body = String::from_utf8_lossy(&buf[head_end..body_end]);
            let _ = seen.send(Seen::InitError(body.chars().take(500).collect()));
        }
        stream
            .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
            .await?;
        buf.drain(..body_end);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &str) -> usize {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The environment Lambda gives a function, pointed at the fake API. The
/// parent's environment is not inherited (no stray AWS_* settings).
fn spawn(binary: &str, api: &str, extra: &[(String, String)]) -> std::io::Result<Child> {
    Command::new(binary)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LANG", "C.UTF-8")
        .env("TZ", ":UTC")
        .env("AWS_LAMBDA_RUNTIME_API", api)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_LAMBDA_FUNCTION_NAME", "catalog-get-product")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "x")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "x")
        .env("TABLE_NAME", "amazon-lite")
        .env(
            "AMAZON_LITE_CURSOR_SECRET_ARN",
            "arn:aws:secretsmanager:us-east-1:000000000000:secret:cursor",
        )
        .envs(extra.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
}

fn stop(mut child: Child) -> String {
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        use std::io::Read;
        let _ = stderr.read_to_string(&mut err);
    }
    err.chars().take(2000).collect()
}

/// One start of the binary: exec → first `invocation/next`.
async fn run_once(
    args: &Args,
    api: &str,
    seen: &mut mpsc::UnboundedReceiver<Seen>,
) -> Result<Duration, String> {
    while seen.try_recv().is_ok() {} // nothing from an earlier child counts
    let start = Instant::now();
    let mut child = spawn(&args.binary, api, &args.env)
        .map_err(|e| format!("cannot start {}: {e}", args.binary))?;
    let deadline = start + args.timeout;
    loop {
        match tokio::time::timeout(Duration::from_millis(5), seen.recv()).await {
            Ok(Some(Seen::Next(at))) if at >= start => {
                stop(child);
                return Ok(at - start);
            }
            Ok(Some(Seen::Next(_))) => {}
            Ok(Some(Seen::InitError(body))) => {
                let err = stop(child);
                return Err(format!("init error reported: {body}\n{err}"));
            }
            Ok(None) => return Err("the fake Runtime API stopped".into()),
            Err(_) => {}
        }
        if let Ok(Some(status)) = child.try_wait() {
            // It may have asked for the next event just before exiting.
            if let Ok(Seen::Next(at)) = seen.try_recv() {
                if at >= start {
                    return Ok(at - start);
                }
            }
            let err = stop(child);
            return Err(format!(
                "exited with {status} before invocation/next\n{err}"
            ));
        }
        if Instant::now() >= deadline {
            let err = stop(child);
            return Err(format!(
                "no invocation/next within {:?}; killed\n{err}",
                args.timeout
            ));
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
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
    if !std::path::Path::new(&args.binary).is_file() {
        eprintln!("lambda-init: {} is not a file", args.binary);
        return ExitCode::from(2);
    }
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("lambda-init: cannot listen on 127.0.0.1: {e}");
            return ExitCode::FAILURE;
        }
    };
    let api = listener.local_addr().expect("bound address").to_string();
    let (tx, mut seen) = mpsc::unbounded_channel();
    tokio::spawn(runtime_api(listener, tx));

    let size = std::fs::metadata(&args.binary)
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "lambda-init: {} ({:.1} MB), fake Runtime API on {api}, {} runs (+1 warm-up), timeout {:?}",
        args.binary,
        size as f64 / 1_000_000.0,
        args.runs,
        args.timeout
    );
    for (k, v) in &args.env {
        println!("  extra environment: {k}={v}");
    }

    if let Err(e) = run_once(&args, &api, &mut seen).await {
        eprintln!("lambda-init: warm-up run failed: {e}");
        return ExitCode::FAILURE;
    }
    let mut samples = Vec::with_capacity(args.runs);
    let mut failures = 0;
    for i in 1..=args.runs {
        match run_once(&args, &api, &mut seen).await {
            Ok(d) => samples.push(d),
            Err(e) => {
                failures += 1;
                eprintln!("run {i}: {e}");
            }
        }
    }
    if samples.is_empty() {
        eprintln!("lambda-init: every run failed");
        return ExitCode::FAILURE;
    }
    samples.sort();
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
