//! A fake Lambda Runtime API and one start of a function binary against
//! it: the time from exec to the function's first
//! `GET /2018-06-01/runtime/invocation/next` (its init), then, when an
//! event is given, that event served as the one invocation and the
//! function's answer (`/response` or `/error`) returned. Later
//! `invocation/next` requests are held open until the child is killed.
//!
//! Each start gets a fresh listener on 127.0.0.1 (port chosen by the OS),
//! so nothing a killed child sends can reach the next one. The child's
//! environment is cleared: it gets `PATH`, `LANG`, `TZ`,
//! `AWS_LAMBDA_RUNTIME_API` and exactly the variables of [`Start::env`]
//! (the caller gives what Lambda sets: region, credentials, function name).
//!
//! Users: the init benchmark (`load`, binary `lambda-init`), the deploy
//! rehearsal (`load`, binary `rehearse`) and the `api` binary's EMF test
//! (`functions/platform/tests/emf.rs`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use std::path::Path as FsPath;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::sync::{mpsc, Notify};

/// The request id of the one invocation.
pub const REQUEST_ID: &str = "fake-runtime-0000-0000-000000000001";

/// What the function answered.
#[derive(Debug)]
pub enum Answer {
    /// The body of `/response`, as JSON (a JSON string when it is not).
    Response(Value),
    /// `errorType`, `errorMessage` of `/error`.
    Error(String, String),
}

/// One start.
#[derive(Debug)]
pub struct Run {
    /// exec → the first `invocation/next`.
    pub init: Duration,
    /// `None` when no event was given.
    pub answer: Option<Answer>,
}

/// Where the child's stdout and stderr go.
#[derive(Debug, Clone, Copy)]
pub enum Output<'a> {
    /// Both appended to this file (a function's log).
    Append(&'a FsPath),
    /// stdout discarded; stderr kept, and its first 2,000 characters added
    /// to the error of a failed start.
    StderrInError,
}

/// How to start one function.
#[derive(Debug, Clone, Copy)]
pub struct Start<'a> {
    pub binary: &'a FsPath,
    /// The function's environment and the runtime's own variables.
    pub env: &'a [(String, String)],
    /// `lambda-runtime-invoked-function-arn` of the invocation.
    pub function_arn: &'a str,
    /// The function's timeout: the invocation's deadline
    /// (`lambda-runtime-deadline-ms`). Without an event, the start fails
    /// when no `invocation/next` arrives within it; with one, when no
    /// answer arrives within it and 2 s more (the function's own deadline
    /// handling goes first).
    pub timeout: Duration,
    pub output: Output<'a>,
}

enum Seen {
    Next(Instant),
    InitError(String),
    Answer(Answer),
}

struct Api {
    event: Mutex<Option<Value>>,
    function_arn: String,
    deadline_ms: u64,
    seen: mpsc::UnboundedSender<Seen>,
    never: Notify,
}

async fn next(State(api): State<Arc<Api>>) -> Response {
    let _ = api.seen.send(Seen::Next(Instant::now()));
    let event = api.event.lock().expect("lock").take();
    let Some(event) = event else {
        // No (more) event: hold the request; the child is killed.
        api.never.notified().await;
        return StatusCode::GONE.into_response();
    };
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
        + api.deadline_ms;
    let mut headers = HeaderMap::new();
    let mut set = |k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            headers.insert(k, v);
        }
    };
    set("lambda-runtime-aws-request-id", REQUEST_ID.into());
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        api.function_arn.clone(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c;Parent=0;Sampled=0".into(),
    );
    set("content-type", "application/json".into());
    (StatusCode::OK, headers, event.to_string()).into_response()
}

async fn response(State(api): State<Arc<Api>>, Path(_id): Path<String>, body: Bytes) -> StatusCode {
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    let _ = api.seen.send(Seen::Answer(Answer::Response(value)));
    StatusCode::ACCEPTED
}

fn diagnostic(headers: &HeaderMap, body: &[u8]) -> (String, String) {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let kind = v["errorType"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get("lambda-runtime-function-error-type")
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let message = v["errorMessage"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(500).collect());
    (kind, message)
}

async fn error(
    State(api): State<Arc<Api>>,
    Path(_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let (kind, message) = diagnostic(&headers, &body);
    let _ = api.seen.send(Seen::Answer(Answer::Error(kind, message)));
    StatusCode::ACCEPTED
}

async fn init_error(State(api): State<Arc<Api>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let (kind, message) = diagnostic(&headers, &body);
    let _ = api.seen.send(Seen::InitError(format!("{kind}: {message}")));
    StatusCode::ACCEPTED
}

/// Starts the binary once; with `event`, invokes it once and waits for its
/// answer. The child is killed afterwards.
pub async fn run(start: &Start<'_>, event: Option<Value>) -> Result<Run, String> {
    let (tx, mut seen) = mpsc::unbounded_channel();
    let invoked = event.is_some();
    let api = Arc::new(Api {
        event: Mutex::new(event),
        function_arn: start.function_arn.to_owned(),
        deadline_ms: start.timeout.as_millis() as u64,
        seen: tx,
        never: Notify::new(),
    });
    let router = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(api.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
    let address = listener
        .local_addr()
        .map_err(|e| e.to_string())?
        .to_string();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let (stdout, stderr) = match start.output {
        Output::Append(path) => {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let log2 = log.try_clone().map_err(|e| e.to_string())?;
            (Stdio::from(log), Stdio::from(log2))
        }
        Output::StderrInError => (Stdio::null(), Stdio::piped()),
    };
    let began = Instant::now();
    let mut child = tokio::process::Command::new(start.binary)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LANG", "C.UTF-8")
        .env("TZ", ":UTC")
        .env("AWS_LAMBDA_RUNTIME_API", &address)
        .envs(start.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", start.binary.display()))?;
    // Read stderr as it comes, so a chatty child never blocks on the pipe.
    let stderr_text = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().map(|mut pipe| {
        let text = stderr_text.clone();
        tokio::spawn(async move {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                text.lock().expect("lock").extend_from_slice(&chunk[..n]);
            }
        })
    });
    let grace = if invoked {
        Duration::from_secs(2)
    } else {
        Duration::ZERO
    };
    let deadline = began + start.timeout + grace;
    let outcome = async {
        let mut init = None;
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            tokio::select! {
                m = seen.recv() => match m {
                    Some(Seen::Next(at)) => {
                        if init.is_none() {
                            init = Some(at - began);
                            if !invoked {
                                return Ok(Run { init: at - began, answer: None });
                            }
                        }
                    }
                    Some(Seen::InitError(e)) => return Err(format!("init error: {e}")),
                    Some(Seen::Answer(a)) => {
                        let init = init.ok_or("answered before asking for an event")?;
                        return Ok(Run { init, answer: Some(a) });
                    }
                    None => return Err("the fake Runtime API stopped".into()),
                },
                status = child.wait() => {
                    // A last message may have arrived just before the exit.
                    while let Ok(m) = seen.try_recv() {
                        match m {
                            Seen::Next(at) if init.is_none() => {
                                init = Some(at - began);
                                if !invoked {
                                    return Ok(Run { init: at - began, answer: None });
                                }
                            }
                            Seen::Answer(a) => {
                                if let Some(init) = init {
                                    return Ok(Run { init, answer: Some(a) });
                                }
                            }
                            _ => {}
                        }
                    }
                    return Err(format!("exited ({}) {}", status.map(|s| s.to_string()).unwrap_or_default(),
                        if init.is_some() { "during the invocation" } else { "before asking for an event" }));
                }
                _ = tokio::time::sleep(wait) => {
                    return Err(format!("no {} within {:?}",
                        if init.is_some() { "answer" } else { "invocation/next" }, start.timeout + grace));
                }
            }
        }
    }
    .await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    api.never.notify_waiters();
    server.abort();
    if let Some(reader) = stderr {
        // The pipe closes when the child is gone, unless a process it
        // started still holds it: then what came so far is enough.
        let _ = tokio::time::timeout(Duration::from_millis(500), reader).await;
    }
    let stderr = String::from_utf8_lossy(&stderr_text.lock().expect("lock")).into_owned();
    outcome.map_err(|e| {
        if stderr.trim().is_empty() {
            e
        } else {
            let stderr: String = stderr.chars().take(2000).collect();
            format!("{e}\n{stderr}")
        }
    })
}
