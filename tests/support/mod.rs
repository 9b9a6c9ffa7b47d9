//! Black-box test support: the real `amazon-lite` binary, started on a free
//! port with its own temporary data directory, driven over HTTP.
//!
//! ```text
//! let api = TestApi::spawn(Seed::None).await;
//! let resp = api.client().get(api.url("/v1/health")).send().await.unwrap();
//! ```
//!
//! The binary is the workspace's `target/<profile>/amazon-lite` (next to the
//! test executable, honouring `CARGO_TARGET_DIR`), or `AMAZON_LITE_BIN` when
//! that is set. When it is missing, or older than the sources it is built
//! from, it is built once per test process with `cargo build -p amazon-lite`.
//! Every server's stdout and stderr go to `server.log` in its data directory;
//! a test that panics prints the tail of that log.

use reqwest::header::HeaderMap;
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use std::fs::{File, OpenOptions};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};
use tempfile::TempDir;

/// The admin account every test server creates at start-up.
pub const ADMIN_EMAIL: &str = "admin@amazon-lite.test";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// How long a server may take to answer `GET /v1/health`.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a graceful shutdown may take.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Lines of the server log shown when something fails.
const LOG_TAIL_LINES: usize = 80;

/// What the server loads into an empty store (`AMAZON_LITE_SEED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    /// The demo catalog (about 240 products with stock).
    Demo,
    /// Nothing: an empty catalog.
    None,
}

impl Seed {
    fn env_value(self) -> &'static str {
        match self {
            Seed::Demo => "demo",
            Seed::None => "none",
        }
    }
}

/// One running `amazon-lite` process and its data directory.
pub struct TestApi {
    addr: SocketAddr,
    seed: Seed,
    child: Option<Child>,
    client: Client,
    log_path: PathBuf,
    /// Extra environment of the server (kept across restarts).
    env: Vec<(String, String)>,
    /// Access tokens issued by this server's auth service at spawn time
    /// (admin from ADMIN_EMAIL/ADMIN_PASSWORD, and a signed-up customer).
    admin_token: String,
    customer_token: String,
    /// Dropped last: the process is stopped before its directory goes.
    data: TempDir,
}

impl TestApi {
    /// Starts the binary on a free port with a fresh data directory that
    /// trusts the test signing key, and waits until it is healthy.
    pub async fn spawn(seed: Seed) -> TestApi {
        TestApi::spawn_with_env(seed, &[]).await
    }

    /// [`TestApi::spawn`] with extra environment variables, which stay in
    /// force across restarts until [`TestApi::remove_env`].
    pub async fn spawn_with_env(seed: Seed, env: &[(&str, &str)]) -> TestApi {
        let mut api = TestApi::spawn_untouched(seed, env).await;
        if api.child.is_some() {
            api.admin_token = api
                .token(
                    "/v1/auth/login",
                    json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
                )
                .await;
            let customer = json!({"email": "customer@amazon-lite.test", "password": ADMIN_PASSWORD, "name": "Casey Customer"});
            api.customer_token = api.token("/v1/auth/signup", customer).await;
        }
        api
    }

    /// [`TestApi::spawn_with_env`] without the sign-in and sign-up: the
    /// server has answered nothing but its health checks, and the token
    /// accessors return empty strings.
    pub async fn spawn_untouched(seed: Seed, env: &[(&str, &str)]) -> TestApi {
        let binary = binary().to_path_buf();
        let data = tempfile::Builder::new()
            .prefix("amazon-lite-test-")
            .tempdir()
            .expect("create a temporary data directory");
        let log_path = data.path().join("server.log");
        let client = Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("build the HTTP client");
        let mut api = TestApi {
            addr: free_addr(),
            seed,
            child: None,
            client,
            log_path,
            env: [
                ("ADMIN_EMAIL", ADMIN_EMAIL),
                ("ADMIN_PASSWORD", ADMIN_PASSWORD),
            ]
            .iter()
            .chain(env.iter())
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
            admin_token: String::new(),
            customer_token: String::new(),
            data,
        };
        api.start_with(&binary).await;
        api
    }

    /// Signs up or logs in through the real auth routes.
    async fn token(&self, path: &str, body: serde_json::Value) -> String {
        let reply = send(self.request(Method::POST, path).json(&body)).await;
        assert!(
            reply.status.is_success(),
            "{path} failed: {} {}\n{}",
            reply.status,
            reply.body,
            self.log_tail()
        );
        reply.body["accessToken"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    /// `http://127.0.0.1:<port>` followed by `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// A client with no default headers (each test says what it sends).
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// A request to `path` on this server.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A bearer token with the admin role, trusted by this server.
    pub fn admin_token(&self) -> String {
        self.admin_token.clone()
    }

    /// A bearer token with only the customer role, trusted by this server.
    pub fn customer_token(&self) -> String {
        self.customer_token.clone()
    }

    /// Everything the server(s) of this data directory printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The last lines of the server log, without successful requests (a
    /// test polling a resource would drown everything else in them).
    pub fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| !l.contains(r#""message":"request finished","status":2"#))
            .collect();
        let from = lines.len().saturating_sub(LOG_TAIL_LINES);
        lines[from..].join("\n")
    }

    /// The seed the next start uses (the store keeps what it has).
    pub fn set_seed(&mut self, seed: Seed) {
        self.seed = seed;
    }

    /// Drops an extra environment variable for the next start.
    pub fn remove_env(&mut self, name: &str) {
        self.env.retain(|(k, _)| k != name);
    }

    /// Waits for the server to exit on its own (e.g. a fault hook) and
    /// returns its status; panics after `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            let child = self.child.as_mut().expect("the server is not running");
            if let Some(status) = child.try_wait().expect("poll the server process") {
                self.child = None;
                return status;
            }
            if Instant::now() > deadline {
                self.kill_hard();
                panic!(
                    "amazon-lite did not exit within {timeout:?}\n--- server log ---\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The process id of the running server.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is not running").id()
    }

    /// Graceful restart: SIGTERM, wait, assert exit code 0, then start again
    /// on the same data directory (and, if it is still free, the same port).
    pub async fn restart(&mut self) {
        let status = self.stop();
        assert!(
            status.success(),
            "graceful shutdown must exit 0, got {status}\n--- server log ---\n{}",
            self.log_tail()
        );
        self.start().await;
    }

    /// Sends SIGTERM and waits for the process to exit; returns its status.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the server is not running");
        let pid = child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run `kill -TERM`");
        assert!(sent.success(), "`kill -TERM {pid}` failed: {sent}");
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match child.try_wait().expect("wait for the server") {
                Some(status) => return status,
                None if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "the server did not stop within {STOP_TIMEOUT:?} of SIGTERM\n--- server log ---\n{}",
                        self.log_tail()
                    );
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    /// SIGKILL (a crash): the process is gone, nothing was flushed on
    /// purpose. Call [`TestApi::start`] to bring it back on the same data.
    pub fn kill_hard(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on this data directory (after `stop` or
    /// `kill_hard`) and waits until it is healthy.
    pub async fn start(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let binary = binary().to_path_buf();
        self.start_with(&binary).await;
    }

    async fn start_with(&mut self, binary: &Path) {
        // The port was free a moment ago; another test's server may have
        // taken it since. Then try another one.
        for attempt in 1..=5 {
            if attempt > 1 {
                self.addr = free_addr();
            }
            let log = self.open_log();
            self.write_log_marker(&format!("starting attempt {attempt} on {}", self.addr));
            let child = Command::new(binary)
                .arg("serve")
                .env("AMAZON_LITE_ADDR", self.addr.to_string())
                .env("AMAZON_LITE_DATA_DIR", self.data.path())
                .env("AMAZON_LITE_SEED", self.seed.env_value())
                .env("RUST_LOG", "info")
                .env_remove("ADMIN_EMAIL")
                .env_remove("ADMIN_PASSWORD")
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone the log file handle"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            self.child = Some(child);
            match self.wait_healthy().await {
                Ok(()) => return,
                Err(Exited(status)) if self.log().contains("cannot listen") && attempt < 5 => {
                    eprintln!(
                        "amazon-lite could not listen on {} ({status}); retrying",
                        self.addr
                    );
                }
                Err(Exited(status)) => panic!(
                    "amazon-lite exited before it was healthy ({status})\n--- server log ---\n{}",
                    self.log_tail()
                ),
            }
        }
        unreachable!("the loop returns or panics");
    }

    /// Polls `GET /v1/health` until it answers 200 `{"status":"ok"}`.
    async fn wait_healthy(&mut self) -> Result<(), Exited> {
        let deadline = Instant::now() + START_TIMEOUT;
        let url = self.url("/v1/health");
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .expect("the server was started")
                .try_wait()
                .expect("poll the server process")
            {
                self.child = None;
                return Err(Exited(status));
            }
            if let Ok(resp) = self
                .client
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
            {
                if resp.status() == StatusCode::OK {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                self.kill_hard();
                panic!(
                    "amazon-lite was not healthy at {url} within {START_TIMEOUT:?}\n--- server log ---\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn open_log(&self) -> File {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open the server log")
    }

    fn write_log_marker(&self, text: &str) {
        use std::io::Write;
        let _ = writeln!(self.open_log(), "=== system-tests: {text} ===");
    }
}

impl Drop for TestApi {
    fn drop(&mut self) {
        self.kill_hard();
        if std::thread::panicking() {
            eprintln!(
                "--- amazon-lite log ({}) ---\n{}\n--- end of log ---",
                self.addr,
                self.log_tail()
            );
        }
    }
}

#[derive(Debug)]
struct Exited(ExitStatus);

/// A port that was free when asked (the OS picks it; the listener is closed
/// again so that the server can bind it).
fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("read the local address")
}

// ---------------------------------------------------------------- binary ---

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf()
}

/// Where the `amazon-lite` binary is expected.
fn binary_path() -> PathBuf {
    if let Some(explicit) = std::env::var_os("AMAZON_LITE_BIN") {
        return PathBuf::from(explicit);
    }
    let name = format!("amazon-lite{}", std::env::consts::EXE_SUFFIX);
    // The test executable is `<target>/<profile>/deps/<name>-<hash>`: its
    // grand-parent is the profile directory the binary is built into.
    if let Some(profile_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(Path::to_path_buf))
    {
        if profile_dir.join("deps").is_dir() && profile_dir.parent().is_some() {
            return profile_dir.join(name);
        }
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    };
    target.join("debug").join(name)
}

/// The binary, built first (once per process) when missing or stale.
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let path = binary_path();
        if std::env::var_os("AMAZON_LITE_BIN").is_some() {
            assert!(
                path.is_file(),
                "AMAZON_LITE_BIN={} is not a file",
                path.display()
            );
            return path;
        }
        let reason = match modified(&path) {
            None => Some("it is missing"),
            Some(built) if newest_source() > Some(built) => {
                Some("its sources changed since it was built")
            }
            Some(_) => None,
        };
        if let Some(reason) = reason {
            build(&path, reason);
        }
        path
    })
}

fn build(path: &Path, reason: &str) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!(
        "system-tests: building amazon-lite ({} {reason})",
        path.display()
    );
    let mut command = Command::new(&cargo);
    command
        .args(["build", "-p", "amazon-lite", "--bin", "amazon-lite"])
        .current_dir(workspace_root());
    // Build into the directory the binary is looked up in.
    if let Some(target) = path.parent().and_then(Path::parent) {
        command.env("CARGO_TARGET_DIR", target);
    }
    if path.parent().and_then(Path::file_name) == Some("release".as_ref()) {
        command.arg("--release");
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{cargo} build -p amazon-lite`: {e}"));
    assert!(
        output.status.success(),
        "`cargo build -p amazon-lite` failed ({}); the system tests need the binary at {}\n{}",
        output.status,
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        path.is_file(),
        "`cargo build -p amazon-lite` succeeded but {} does not exist",
        path.display()
    );
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The newest modification time of the sources the binary is built from.
fn newest_source() -> Option<SystemTime> {
    let root = workspace_root();
    let mut newest = modified(&root.join("Cargo.lock"));
    for dir in ["functions", "shared"] {
        newest_in(&root.join(dir), &mut newest);
    }
    newest
}

fn newest_in(dir: &Path, newest: &mut Option<SystemTime>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        if path.is_dir() {
            newest_in(&path, newest);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("rs" | "toml" | "json" | "pem")
        ) {
            let m = modified(&path);
            if m > *newest {
                *newest = m;
            }
        }
    }
}

// --------------------------------------------------------------- helpers ---

/// A response read to the end: status, headers and the body as JSON
/// (`Value::Null` when empty, a string when not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub async fn read(resp: reqwest::Response) -> Reply {
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("read the response body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem with this status and `code`, whose
    /// `correlationId` equals the `X-Correlation-Id` header.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> &Reply {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.body);
        let content_type = self.header("content-type").unwrap_or("");
        assert!(
            content_type.starts_with("application/problem+json"),
            "content-type {content_type:?}; body: {}",
            self.body
        );
        let b = &self.body;
        assert_eq!(b["status"], status, "problem status: {b}");
        assert_eq!(b["code"], code, "problem code: {b}");
        for field in ["type", "title", "detail", "correlationId"] {
            assert!(b[field].is_string(), "problem without {field}: {b}");
        }
        assert!(b["errors"].is_array(), "problem without errors[]: {b}");
        let header = self.header("x-correlation-id");
        assert!(header.is_some(), "no X-Correlation-Id header");
        assert_eq!(
            b["correlationId"].as_str(),
            header,
            "correlationId vs X-Correlation-Id"
        );
        self
    }

    /// Asserts a 400 `validation_failed` problem whose first error names
    /// `field`.
    #[track_caller]
    pub fn assert_invalid(&self, field: &str) -> &Reply {
        self.assert_problem(400, "validation_failed");
        assert_eq!(
            self.body["errors"][0]["field"], field,
            "errors[0].field; body: {}",
            self.body
        );
        self
    }

    /// The problem's `errors[].field` values.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Sends the request and reads the whole reply.
pub async fn send(request: RequestBuilder) -> Reply {
    Reply::read(request.send().await.expect("send the request")).await
}

// ------------------------------------------------------ shopping helpers ---
//
// Small building blocks shared by the test files that need a shopper, a
// product and a placed order (`discovery`, `after_sale`).

/// How often [`eventually`] looks again.
const POLL_EVERY: Duration = Duration::from_millis(50);

/// Calls `check` until it returns `Ok`, every 50 ms, and returns that value;
/// panics after `timeout` with `what` and the last `Err` it returned. For
/// what the system does asynchronously (events, the index, the saga).
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(last) if Instant::now() > deadline => {
                panic!("{what}: not so within {timeout:?}; last seen: {last}")
            }
            Err(_) => tokio::time::sleep(POLL_EVERY).await,
        }
    }
}

/// A string no other call in this process returns (for e-mails, SKUs,
/// idempotency keys).
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}-{nanos:x}-{}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A signed-up customer.
#[derive(Debug, Clone)]
pub struct Shopper {
    pub id: String,
    pub email: String,
    pub token: String,
}

/// Signs up a new customer named `name` with a default address (so that
/// it can check out).
pub async fn shopper(api: &TestApi, name: &str) -> Shopper {
    let email = format!("{}@shoppers.test", unique(&name.to_lowercase()));
    let r = send(api.request(Method::POST, "/v1/auth/signup").json(&json!({
        "email": email, "password": ADMIN_PASSWORD, "name": name
    })))
    .await;
    assert_eq!(r.status, 201, "signup: {}", r.body);
    let token = r.body["accessToken"].as_str().expect("a token").to_owned();
    let id = r.body["user"]["id"].as_str().expect("a user id").to_owned();
    let r = send(
        api.request(Method::POST, "/v1/me/addresses")
            .bearer_auth(&token)
            .json(&json!({
                "label": "Home", "line1": "1 Main St", "city": "Springfield",
                "postalCode": "12345", "country": "US"
            })),
    )
    .await;
    assert_eq!(r.status, 201, "address: {}", r.body);
    Shopper { id, email, token }
}

/// Creates a product as the admin (asserting 201) and gives it `stock`
/// units; returns the created product.
pub async fn stocked_product(api: &TestApi, body: Value, stock: i64) -> Value {
    let r = send(
        api.request(Method::POST, "/v1/products")
            .bearer_auth(api.admin_token())
            .json(&body),
    )
    .await;
    assert_eq!(r.status, 201, "create product {}: {}", body["sku"], r.body);
    let sku = r.body["sku"].as_str().expect("a sku");
    let s = send(
        api.request(Method::PUT, &format!("/v1/inventory/{sku}"))
            .bearer_auth(api.admin_token())
            .json(&json!({ "available": stock })),
    )
    .await;
    assert_eq!(s.status, 200, "set stock of {sku}: {}", s.body);
    r.body
}

/// Puts `quantity` of `product_id` in the shopper's cart and places the
/// order with the sandbox `payment_token`; returns the order id (202).
pub async fn place_order(
    api: &TestApi,
    token: &str,
    product_id: &str,
    quantity: u32,
    payment_token: &str,
) -> String {
    let r = send(
        api.request(Method::POST, "/v1/cart/items")
            .bearer_auth(token)
            .json(&json!({"productId": product_id, "quantity": quantity})),
    )
    .await;
    assert_eq!(r.status, 200, "add to cart: {}", r.body);
    let r = send(
        api.request(Method::POST, "/v1/orders")
            .bearer_auth(token)
            .header("Idempotency-Key", unique("order"))
            .json(&json!({"payment": {"method": "card", "token": payment_token}})),
    )
    .await;
    assert_eq!(r.status, 202, "place order: {}", r.body);
    r.body["id"].as_str().expect("an order id").to_owned()
}

/// Waits (30 s at most) until the order leaves PENDING; returns it.
pub async fn settled_order(api: &TestApi, token: &str, order_id: &str) -> Value {
    let path = format!("/v1/orders/{order_id}");
    let path = path.as_str();
    eventually(
        Duration::from_secs(30),
        &format!("order {order_id} settles"),
        || async move {
            let r = send(api.request(Method::GET, path).bearer_auth(token)).await;
            assert_eq!(r.status, 200, "GET {path}: {}", r.body);
            match r.body["status"].as_str() {
                Some("PENDING") => Err(r.body.to_string()),
                _ => Ok(r.body),
            }
        },
    )
    .await
}

/// One HTTP/1.1 message (a request or a response) read off `stream`: its
/// head (start line and headers, lower-cased) and its `Content-Length`
/// body. `None` when the peer closed (or the read failed) before a
/// complete message. For the tests that speak HTTP on a raw socket.
pub async fn read_http_message(stream: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some((head, buf[head_end..head_end + length].to_vec()))
}

/// A `POST /v1/products` body for a system test: a fresh sku under
/// `sku_prefix` (upper-cased), `name`, `category` and a USD price.
pub fn product_body(sku_prefix: &str, name: &str, category: &str, amount: i64) -> Value {
    json!({
        "sku": unique(sku_prefix).to_uppercase(),
        "name": name,
        "description": "A product made by a system test.",
        "category": category,
        "brand": "Wrenfield",
        "price": {"amount": amount, "currency": "USD"},
        "images": [],
        "attributes": {}
    })
}
