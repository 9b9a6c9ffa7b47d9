//! One start of a function binary against its own fake Lambda Runtime API:
//! the time from exec to its first `invocation/next` (init), then, when an
//! event is given, that event served as the invocation and the function's
//! answer (`/response` or `/error`) returned. Each start gets a fresh
//! listener on 127.0.0.1, so nothing a killed child sends can reach the
//! next one.

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
use tokio::sync::{mpsc, Notify};

/// What the function answered.
#[derive(Debug)]
pub enum Answer {
    Response(Value),
    /// `errorType`, `errorMessage`.
    Error(String, String),
}

/// One start.
#[derive(Debug)]
pub struct Run {
    pub init: Duration,
    /// `None` when no event was given.
    pub answer: Option<Answer>,
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

const REQUEST_ID: &str = "rehearsal-0000-0000-0000-000000000001";

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

/// How to start one function.
pub struct Start<'a> {
    pub bootstrap: &'a FsPath,
    /// The function's environment (template values resolved) and the
    /// runtime's own variables.
    pub env: &'a [(String, String)],
    pub function_arn: &'a str,
    pub timeout: Duration,
    /// stdout and stderr of the child go here (appended).
    pub log: &'a FsPath,
}

/// Starts the binary once; with `event`, invokes it once and waits for its
/// answer (within the start's timeout). The child is killed afterwards.
pub async fn run(start: &Start<'_>, event: Option<Value>) -> Result<Run, String> {
    let (tx, mut seen) = mpsc::unbounded_channel();
    let api = Arc::new(Api {
        event: Mutex::new(event.clone()),
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
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(start.log)
        .map_err(|e| format!("{}: {e}", start.log.display()))?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    let began = Instant::now();
    let mut child = tokio::process::Command::new(start.bootstrap)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LANG", "C.UTF-8")
        .env("TZ", ":UTC")
        .env("AWS_LAMBDA_RUNTIME_API", &address)
        .envs(start.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log2))
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", start.bootstrap.display()))?;
    let deadline = began + start.timeout + Duration::from_secs(2);
    let outcome = async {
        let mut init = None;
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            tokio::select! {
                m = seen.recv() => match m {
                    Some(Seen::Next(at)) => {
                        if init.is_none() {
                            init = Some(at - began);
                            if event.is_none() {
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
                    if let Ok(Seen::Answer(a)) = seen.try_recv() {
                        if let Some(init) = init {
                            return Ok(Run { init, answer: Some(a) });
                        }
                    }
                    return Err(format!("exited ({}) {}", status.map(|s| s.to_string()).unwrap_or_default(),
                        if init.is_some() { "during the invocation" } else { "before asking for an event" }));
                }
                _ = tokio::time::sleep(wait) => {
                    return Err(format!("no {} within {:?}",
                        if init.is_some() { "answer" } else { "invocation/next" }, start.timeout));
                }
            }
        }
    }
    .await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    api.never.notify_waiters();
    server.abort();
    outcome
}
