//! Memory soak: the real `amazon-lite` binary under a fuzz-like mix of
//! requests, with its resident memory read before, during and after.
//!
//! It starts the given binary on a free 127.0.0.1 port with a temporary data
//! directory (demo seed, an admin account), waits for `/v1/health`, lets it
//! settle and prints its idle memory. Then it sends `--requests` requests
//! (`--concurrency` at a time) drawn from a seeded random mix of what a
//! schema fuzzer sends: listings with random filter combinations and garbage
//! cursors, product gets (real and made-up ids), searches and suggests with
//! random strings, signups and logins (valid and not), guest carts,
//! authenticated profile and address calls, admin product creates and
//! patches (each one a store transaction, events and a search commit), bad
//! JSON, bodies over the 256 KiB limit, forged bearer tokens, unknown paths
//! and wrong methods. A tenth of the requests open a fresh connection.
//!
//! Memory is read from `/proc/<pid>/status`: `VmRSS` (resident), its
//! `RssAnon` (heap) and `RssFile` (mapped files: the binary, the search
//! index) parts, and `VmHWM` (the peak). It is sampled every 250 ms during
//! the run; the figures after the run are read at once and again after an
//! idle pause. The server is then stopped (SIGTERM, then SIGKILL after 10 s)
//! and the data directory removed.
//!
//! Usage: `soak-rss [--requests N] [--concurrency C] [--seed S] [--max-secs T]
//! [--settle-secs S] [--env K=V]... [path-to-amazon-lite]`
//! (default `target/release/amazon-lite`). The child inherits this process's
//! environment (so `MALLOC_ARENA_MAX=2 soak-rss …` or `LD_PRELOAD=…` reach
//! it); `--env` adds or overrides one variable.
//!
//! It prints figures; it never fails on them. The exit code is non-zero only
//! when the server cannot be started or the arguments are wrong.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Args {
    requests: u64,
    concurrency: usize,
    seed: u64,
    max: Duration,
    settle: Duration,
    binary: String,
    env: Vec<(String, String)>,
    /// Kinds of request left out of the mix (to attribute memory to them).
    skip: Vec<String>,
}

fn usage() -> &'static str {
    "usage: soak-rss [--requests N] [--concurrency C] [--seed S] [--max-secs T] [--settle-secs S]\n\
     \x20               [--env K=V]... [--skip KIND,...] [path-to-amazon-lite]\n\
     \n\
     Starts amazon-lite (default target/release/amazon-lite) on a free 127.0.0.1 port with a\n\
     temporary data dir, prints its memory idle, sends N fuzz-like requests (default 40000,\n\
     C at a time, default 4, seeded by S, default 1, stopping after T seconds, default 1200),\n\
     prints its memory after (at once and after S seconds idle, default 5) and its peak, and\n\
     stops it. --skip leaves kinds of request out of the mix (the names in the response tally)."
}

fn number<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
    let v = v.ok_or(format!("{flag} needs a number"))?;
    v.parse()
        .map_err(|_| format!("{flag}: `{v}` is not a number"))
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        requests: 40_000,
        concurrency: 4,
        seed: 1,
        max: Duration::from_secs(1200),
        settle: Duration::from_secs(5),
        binary: "target/release/amazon-lite".to_owned(),
        env: Vec::new(),
        skip: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--requests" | "-n" => args.requests = number(&arg, it.next())?,
            "--concurrency" | "-c" => args.concurrency = number(&arg, it.next())?,
            "--seed" => args.seed = number(&arg, it.next())?,
            "--max-secs" => args.max = Duration::from_secs(number(&arg, it.next())?),
            "--settle-secs" => args.settle = Duration::from_secs(number(&arg, it.next())?),
            "--env" => {
                let v = it.next().ok_or("--env needs K=V")?;
                let (k, val) = v
                    .split_once('=')
                    .ok_or(format!("--env: `{v}` is not K=V"))?;
                args.env.push((k.to_owned(), val.to_owned()));
            }
            "--skip" => {
                let v = it.next().ok_or("--skip needs kinds, e.g. signup,login")?;
                args.skip.extend(v.split(',').map(str::to_owned));
            }
            other if other.starts_with('-') => return Err(format!("unknown flag {other}")),
            path => args.binary = path.to_owned(),
        }
    }
    if args.concurrency == 0 || args.requests == 0 {
        return Err("--requests and --concurrency must be positive".into());
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("soak-rss: {e}");
            }
            eprintln!("{}", usage());
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("soak-rss: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("soak-rss: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------- memory

/// The memory lines of `/proc/<pid>/status`, in KiB.
#[derive(Debug, Clone, Copy, Default)]
struct Memory {
    rss: u64,
    anon: u64,
    file: u64,
    hwm: u64,
    threads: u64,
}

impl Memory {
    fn read(pid: u32) -> Option<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        Some(Memory::parse(&status))
    }

    fn parse(status: &str) -> Memory {
        let mut m = Memory::default();
        for line in status.lines() {
            let Some((name, rest)) = line.split_once(':') else {
                continue;
            };
            let value = rest
                .split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            match name {
                "VmRSS" => m.rss = value,
                "RssAnon" => m.anon = value,
                "RssFile" => m.file = value,
                "VmHWM" => m.hwm = value,
                "Threads" => m.threads = value,
                _ => {}
            }
        }
        m
    }

    fn show(&self) -> String {
        format!(
            "VmRSS {:.1} MiB (anon {:.1}, file {:.1}), threads {}",
            mib(self.rss),
            mib(self.anon),
            mib(self.file),
            self.threads
        )
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn dir_size(path: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

// ---------------------------------------------------------------- server

const ADMIN_EMAIL: &str = "soak-admin@example.com";
const ADMIN_PASSWORD: &str = "soak-admin-passphrase-1";

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(args: &Args, data_dir: &std::path::Path) -> Result<Server, String> {
        // The OS picks a free port; it is released just before the server
        // binds it (a race only another process on this machine can lose us).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("cannot find a free port: {e}"))?
            .port();
        let log = std::fs::File::create(data_dir.with_extension("log"))
            .map_err(|e| format!("cannot create the server log: {e}"))?;
        let mut command = Command::new(&args.binary);
        command
            .arg("serve")
            .env("AMAZON_LITE_ADDR", format!("127.0.0.1:{port}"))
            .env("AMAZON_LITE_DATA_DIR", data_dir)
            .env("AMAZON_LITE_SEED", "demo")
            .env("ADMIN_EMAIL", ADMIN_EMAIL)
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in &args.env {
            command.env(k, v);
        }
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", args.binary))?;
        Ok(Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn wait_ready(&mut self, client: &reqwest::Client) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("the server exited at start-up ({status})"));
            }
            let health = client.get(format!("{}/v1/health", self.base)).send().await;
            if matches!(health, Ok(r) if r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("the server was not healthy within 60 s".into())
    }

    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------- traffic

/// What the workers share: the server, known ids and tokens, tallies.
struct Shared {
    base: String,
    pooled: reqwest::Client,
    fresh: reqwest::Client,
    product_ids: Vec<String>,
    skus: Vec<String>,
    admin_token: Mutex<String>,
    user_tokens: Mutex<Vec<String>>,
    cart_tokens: Mutex<Vec<String>>,
    next: AtomicU64,
    total: u64,
    deadline: Instant,
    statuses: Mutex<BTreeMap<String, u64>>,
    latencies_us: Mutex<Vec<u64>>,
    unique: AtomicU64,
    skip: Vec<String>,
}

const CATEGORIES: &[&str] = &[
    "laptops", "phones", "audio", "cameras", "home", "kitchen", "books", "toys", "sports",
    "beauty", "garden", "office", "nope", "", "LAPTOPS", "%00",
];
const SORTS: &[&str] = &[
    "newest",
    "price_asc",
    "price_desc",
    "rating",
    "relevance",
    "bogus",
    "",
];
const WORDS: &[&str] = &[
    "laptop",
    "labtop",
    "wireless",
    "headphones",
    "hedphones",
    "northwind",
    "camera",
    "lens",
    "coffee",
    "running",
    "shoes",
    "lamp",
    "smart",
    "speaker",
    "blender",
    "yoga",
    "serum",
    "kids",
];

fn random_string(rng: &mut StdRng, max_len: usize) -> String {
    let len = rng.gen_range(0..=max_len);
    (0..len)
        .map(|_| match rng.gen_range(0..10) {
            0 => char::from_u32(rng.gen_range(0x80..0x3000)).unwrap_or('é'),
            1 => *[' ', '"', '\\', '*', '~', '(', ')', ':', '+', '-', '%', '\0']
                .get(rng.gen_range(0..12))
                .unwrap_or(&' '),
            _ => rng.gen_range(b'a'..=b'z') as char,
        })
        .collect()
}

fn random_query(rng: &mut StdRng) -> String {
    match rng.gen_range(0..4) {
        0 => random_string(rng, 40),
        1 => random_string(rng, 300),
        _ => {
            let n = rng.gen_range(1..4);
            (0..n)
                .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
                .collect::<Vec<_>>()
                .join(" ")
        }
    }
}

fn random_price(rng: &mut StdRng) -> String {
    match rng.gen_range(0..6) {
        0 => "-5".into(),
        1 => "abc".into(),
        2 => "999999999999".into(),
        _ => rng.gen_range(0..300_000).to_string(),
    }
}

/// Random filters for a listing or a search.
fn filters(rng: &mut StdRng, search: bool) -> Vec<(String, String)> {
    let mut q = Vec::new();
    if rng.gen_bool(0.5) {
        q.push((
            "category".into(),
            CATEGORIES[rng.gen_range(0..CATEGORIES.len())].into(),
        ));
    }
    if rng.gen_bool(0.5) {
        q.push(("sort".into(), SORTS[rng.gen_range(0..SORTS.len())].into()));
    }
    if rng.gen_bool(0.3) {
        q.push(("minPrice".into(), random_price(rng)));
    }
    if rng.gen_bool(0.3) {
        q.push(("maxPrice".into(), random_price(rng)));
    }
    if rng.gen_bool(0.4) {
        let limit = match rng.gen_range(0..5) {
            0 => "0".into(),
            1 => "101".into(),
            2 => "x".into(),
            _ => rng.gen_range(1..=100).to_string(),
        };
        q.push(("limit".into(), limit));
    }
    if rng.gen_bool(0.15) {
        q.push(("cursor".into(), random_string(rng, 80)));
    }
    if search && rng.gen_bool(0.3) {
        q.push((
            "brand".into(),
            ["Northwind", "Acme", "", "zzz"][rng.gen_range(0..4)].into(),
        ));
    }
    if rng.gen_bool(0.1) {
        q.push((random_string(rng, 8), random_string(rng, 8)));
    }
    q
}

enum Body {
    None,
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

struct Call {
    method: reqwest::Method,
    path: String,
    query: Vec<(String, String)>,
    body: Body,
    bearer: Option<String>,
    cart: Option<String>,
    /// Tally name (so status counts say what they were for).
    kind: &'static str,
}

impl Call {
    fn new(kind: &'static str, method: reqwest::Method, path: impl Into<String>) -> Call {
        Call {
            method,
            path: path.into(),
            query: Vec::new(),
            body: Body::None,
            bearer: None,
            cart: None,
            kind,
        }
    }
    fn query(mut self, q: Vec<(String, String)>) -> Call {
        self.query = q;
        self
    }
    fn json(mut self, v: Value) -> Call {
        self.body = Body::Json(v);
        self
    }
    fn raw(mut self, content_type: &'static str, bytes: Vec<u8>) -> Call {
        self.body = Body::Raw(content_type, bytes);
        self
    }
    fn bearer(mut self, t: Option<String>) -> Call {
        self.bearer = t;
        self
    }
}

fn pick<T: Clone>(rng: &mut StdRng, items: &[T]) -> Option<T> {
    if items.is_empty() {
        None
    } else {
        Some(items[rng.gen_range(0..items.len())].clone())
    }
}

fn user_token(shared: &Shared, rng: &mut StdRng) -> Option<String> {
    let tokens = shared.user_tokens.lock().ok()?;
    pick(rng, &tokens)
}

/// One request of the mix.
fn next_call(shared: &Shared, rng: &mut StdRng) -> Call {
    use reqwest::Method;
    let n = shared.unique.fetch_add(1, Ordering::Relaxed);
    let product = pick(rng, &shared.product_ids).unwrap_or_default();
    match rng.gen_range(0..100) {
        // Reads, most of what a fuzzer's positive cases are.
        0..=17 => Call::new("list", Method::GET, "/v1/products").query(filters(rng, false)),
        18..=25 => {
            let id = match rng.gen_range(0..3) {
                0 => format!("prd_{}", random_string(rng, 30)),
                _ => product.clone(),
            };
            Call::new("product", Method::GET, format!("/v1/products/{id}"))
        }
        26..=39 => {
            let mut q = filters(rng, true);
            q.push(("q".into(), random_query(rng)));
            Call::new("search", Method::GET, "/v1/search").query(q)
        }
        40..=45 => {
            let prefix: String = random_query(rng)
                .chars()
                .take(rng.gen_range(0..12))
                .collect();
            Call::new("suggest", Method::GET, "/v1/search/suggest")
                .query(vec![("q".into(), prefix)])
        }
        46..=47 => Call::new(
            "reviews",
            Method::GET,
            format!("/v1/products/{product}/reviews"),
        )
        .query(filters(rng, false)),
        // Accounts: valid signups (limited per address), bad ones, logins.
        48..=51 => {
            let body = match rng.gen_range(0..4) {
                0 => json!({"email": random_string(rng, 20), "password": "x", "name": ""}),
                1 => json!({"email": format!("soak{n}@example.com")}),
                _ => json!({
                    "email": format!("soak{n}-{}@example.com", rng.gen::<u32>()),
                    "password": "correct-horse-battery",
                    "name": random_string(rng, 30),
                }),
            };
            Call::new("signup", Method::POST, "/v1/auth/signup").json(body)
        }
        52..=54 => {
            let body = match rng.gen_range(0..3) {
                0 => json!({"email": ADMIN_EMAIL, "password": "wrong-password-1"}),
                1 => json!({"email": random_string(rng, 20), "password": random_string(rng, 20)}),
                _ => {
                    json!({"email": format!("nobody{n}@example.com"), "password": "whatever-1234"})
                }
            };
            Call::new("login", Method::POST, "/v1/auth/login").json(body)
        }
        55 => Call::new("refresh", Method::POST, "/v1/auth/refresh")
            .json(json!({"refreshToken": random_string(rng, 60)})),
        // Carts: guest carts (new and existing), bad quantities.
        56..=62 => {
            let quantity = match rng.gen_range(0..5) {
                0 => json!(0),
                1 => json!("two"),
                _ => json!(rng.gen_range(1..5)),
            };
            let mut call = Call::new("cart_add", Method::POST, "/v1/cart/items")
                .json(json!({"productId": product, "quantity": quantity}));
            if rng.gen_bool(0.6) {
                call.cart = shared.cart_tokens.lock().ok().and_then(|t| pick(rng, &t));
            }
            call
        }
        63..=64 => {
            let mut call = Call::new("cart_get", Method::GET, "/v1/cart");
            call.cart = shared
                .cart_tokens
                .lock()
                .ok()
                .and_then(|t| pick(rng, &t))
                .or_else(|| Some(random_string(rng, 40)));
            call
        }
        // Signed-in calls.
        65..=69 => {
            let token = user_token(shared, rng);
            match rng.gen_range(0..5) {
                0 => Call::new("me", Method::GET, "/v1/me").bearer(token),
                1 => Call::new("me_patch", Method::PATCH, "/v1/me")
                    .json(json!({"name": random_string(rng, 50)}))
                    .bearer(token),
                2 => Call::new("address_add", Method::POST, "/v1/me/addresses")
                    .json(json!({
                        "label": "home", "line1": random_string(rng, 30), "city": "Springfield",
                        "region": "IL", "postalCode": "62701", "country": "US", "isDefault": rng.gen_bool(0.5)
                    }))
                    .bearer(token),
                3 => Call::new("orders", Method::GET, "/v1/orders").bearer(token),
                _ => Call::new("notifications", Method::GET, "/v1/me/notifications").bearer(token),
            }
        }
        // Forged and garbage tokens (the verifier's unknown-kid path).
        70..=72 => {
            let token = match rng.gen_range(0..3) {
                0 => random_string(rng, 100)
                    .chars()
                    .filter(|c| c.is_ascii_graphic())
                    .collect(),
                1 => {
                    // A well-formed header naming a random kid.
                    use base64::Engine;
                    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
                    let header = b64.encode(
                        json!({"alg": "EdDSA", "typ": "JWT", "kid": format!("kid-{n}")})
                            .to_string(),
                    );
                    format!("{header}.e30.c2ln")
                }
                _ => "Bearer".into(),
            };
            Call::new("forged_token", Method::GET, "/v1/me").bearer(Some(token))
        }
        // Admin writes: store transactions, events, search commits.
        73..=75 => {
            let admin = shared.admin_token.lock().ok().map(|t| t.clone());
            if rng.gen_bool(0.5) {
                let sku = format!("SOAK-{n}-{}", rng.gen_range(0..1000));
                Call::new("product_create", Method::POST, "/v1/products")
                    .json(json!({
                        "sku": sku,
                        "name": format!("{} {}", WORDS[rng.gen_range(0..WORDS.len())], random_string(rng, 20)),
                        "description": random_string(rng, 400),
                        "category": CATEGORIES[rng.gen_range(0..12)],
                        "brand": "Soak",
                        "price": {"amount": rng.gen_range(1..500_000), "currency": "USD"},
                        "images": [],
                        "attributes": {"color": random_string(rng, 8)},
                    }))
                    .bearer(admin)
            } else {
                Call::new(
                    "product_patch",
                    Method::PATCH,
                    format!("/v1/products/{product}"),
                )
                .json(json!({
                    "description": random_string(rng, 400),
                    "price": {"amount": rng.gen_range(1..500_000), "currency": "USD"},
                }))
                .bearer(admin)
            }
        }
        76 => {
            let admin = shared.admin_token.lock().ok().map(|t| t.clone());
            let sku = pick(rng, &shared.skus).unwrap_or_default();
            Call::new("inventory_get", Method::GET, format!("/v1/inventory/{sku}")).bearer(admin)
        }
        // Malformed input of every kind.
        77..=82 => {
            let path = [
                "/v1/auth/signup",
                "/v1/cart/items",
                "/v1/auth/login",
                "/v1/products",
            ][rng.gen_range(0..4)];
            let body: Vec<u8> = match rng.gen_range(0..3) {
                0 => b"{\"email\": ".to_vec(),
                1 => random_string(rng, 200).into_bytes(),
                _ => b"[1,2,3]".to_vec(),
            };
            Call::new("bad_json", Method::POST, path).raw("application/json", body)
        }
        83..=85 => {
            // Over the 256 KiB limit, or just under it (parsed, then refused).
            let size = if rng.gen_bool(0.5) {
                300 * 1024
            } else {
                250 * 1024
            };
            let filler = "a".repeat(size);
            let body =
                format!("{{\"email\":\"a@example.com\",\"password\":\"{filler}\",\"name\":\"x\"}}");
            Call::new("big_body", Method::POST, "/v1/auth/signup")
                .raw("application/json", body.into_bytes())
        }
        86..=89 => Call::new(
            "unknown_path",
            Method::GET,
            format!("/v1/{}", random_string(rng, 30).replace(['?', '#'], "")),
        ),
        90..=91 => Call::new("wrong_method", Method::DELETE, "/v1/products"),
        92 => Call::new("wrong_type", Method::POST, "/v1/auth/login")
            .raw("text/plain", b"email=a&password=b".to_vec()),
        93 => Call::new("webhook", Method::POST, "/v1/payments/webhook")
            .json(json!({"id": random_string(rng, 20), "type": "payment.authorized"})),
        94 => Call::new("jwks", Method::GET, "/.well-known/jwks.json"),
        95 => Call::new("openapi", Method::GET, "/v1/openapi.json"),
        96..=97 => Call::new(
            "order_get",
            Method::GET,
            format!("/v1/orders/ord_{}", random_string(rng, 26)),
        )
        .bearer(user_token(shared, rng)),
        _ => Call::new("health", Method::GET, "/v1/health"),
    }
}

async fn send(shared: &Shared, call: Call, fresh: bool) -> Result<(u16, Option<Value>), String> {
    let client = if fresh { &shared.fresh } else { &shared.pooled };
    let url = format!("{}{}", shared.base, call.path);
    let mut req = client.request(call.method, &url);
    if !call.query.is_empty() {
        req = req.query(&call.query);
    }
    if let Some(t) = &call.bearer {
        req = req.bearer_auth(t);
    }
    if let Some(c) = &call.cart {
        req = req.header("X-Cart-Token", c);
    }
    req = match call.body {
        Body::None => req,
        Body::Json(v) => req.json(&v),
        Body::Raw(ct, bytes) => req.header("content-type", ct).body(bytes),
    };
    let res = req.send().await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let bytes = res.bytes().await.map_err(|e| e.to_string())?;
    let body = if matches!(call.kind, "signup" | "cart_add" | "product_create") {
        serde_json::from_slice(&bytes).ok()
    } else {
        None
    };
    Ok((status, body))
}

async fn admin_login(shared: &Shared) -> Result<(), String> {
    let res = shared
        .pooled
        .post(format!("{}/v1/auth/login", shared.base))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status();
    let body: Value = res.json().await.map_err(|e| e.to_string())?;
    let token = body["accessToken"]
        .as_str()
        .ok_or(format!("admin login answered {status}: {body}"))?;
    if let Ok(mut t) = shared.admin_token.lock() {
        *t = token.to_owned();
    }
    Ok(())
}

async fn worker(shared: Arc<Shared>, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    while shared.next.fetch_add(1, Ordering::Relaxed) < shared.total
        && Instant::now() < shared.deadline
    {
        let call = next_call(&shared, &mut rng);
        let kind = call.kind;
        if shared.skip.iter().any(|s| s == kind) {
            // Not sent, but counted, so the run still ends.
            continue;
        }
        let admin = call.bearer.is_some()
            && matches!(kind, "product_create" | "product_patch" | "inventory_get");
        let fresh = rng.gen_bool(0.1);
        let start = Instant::now();
        let outcome = send(&shared, call, fresh).await;
        let took = start.elapsed().as_micros() as u64;
        let label = match &outcome {
            Ok((status, body)) => {
                learn(&shared, kind, *status, body.as_ref());
                if admin && *status == 401 {
                    // The admin's access token expired (15 min): sign in again.
                    let _ = admin_login(&shared).await;
                }
                format!("{kind} {status}")
            }
            Err(_) => format!("{kind} transport-error"),
        };
        if let Ok(mut s) = shared.statuses.lock() {
            *s.entry(label).or_default() += 1;
        }
        if let Ok(mut l) = shared.latencies_us.lock() {
            l.push(took);
        }
    }
}

/// Remembers tokens the mix reuses (bounded, so the client stays small).
fn learn(shared: &Shared, kind: &str, status: u16, body: Option<&Value>) {
    let Some(body) = body else { return };
    let keep = |list: &Mutex<Vec<String>>, v: &str| {
        if let Ok(mut l) = list.lock() {
            if l.len() < 200 {
                l.push(v.to_owned());
            }
        }
    };
    match (kind, status) {
        ("signup", 201) => {
            if let Some(t) = body["accessToken"].as_str() {
                keep(&shared.user_tokens, t);
            }
        }
        ("cart_add", 200) => {
            if let Some(t) = body["cartToken"].as_str() {
                keep(&shared.cart_tokens, t);
            }
        }
        _ => {}
    }
}

/// Every product id and sku of the demo catalog, from the listing.
async fn catalog(
    client: &reqwest::Client,
    base: &str,
) -> Result<(Vec<String>, Vec<String>), String> {
    let (mut ids, mut skus) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    loop {
        let mut req = client
            .get(format!("{base}/v1/products"))
            .query(&[("limit", "100")]);
        if let Some(c) = &cursor {
            req = req.query(&[("cursor", c)]);
        }
        let page: Value = req
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        for item in page["items"].as_array().into_iter().flatten() {
            if let (Some(id), Some(sku)) = (item["id"].as_str(), item["sku"].as_str()) {
                ids.push(id.to_owned());
                skus.push(sku.to_owned());
            }
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return Ok((ids, skus)),
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank] as f64 / 1000.0
}

async fn run(args: Args) -> Result<(), String> {
    let data = tempfile::tempdir().map_err(|e| format!("cannot create a temp dir: {e}"))?;
    let data_dir = data.path().join("data");
    let mut server = Server::start(&args, &data_dir)?;
    let pid = server.pid();
    let pooled = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let fresh = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| e.to_string())?;
    let result = async {
        server.wait_ready(&pooled).await?;
        let (product_ids, skus) = catalog(&pooled, &server.base).await?;
        // The seed's events (stock records, search upserts) settle first.
        tokio::time::sleep(args.settle).await;
        let idle = Memory::read(pid).ok_or("the server is gone")?;
        println!("amazon-lite {} (pid {pid}), {} products", args.binary, product_ids.len());
        println!("idle:            {}", idle.show());

        let shared = Arc::new(Shared {
            base: server.base.clone(),
            pooled: pooled.clone(),
            fresh,
            product_ids,
            skus,
            admin_token: Mutex::new(String::new()),
            user_tokens: Mutex::new(Vec::new()),
            cart_tokens: Mutex::new(Vec::new()),
            next: AtomicU64::new(0),
            total: args.requests,
            deadline: Instant::now() + args.max,
            statuses: Mutex::new(BTreeMap::new()),
            latencies_us: Mutex::new(Vec::new()),
            unique: AtomicU64::new(0),
            skip: args.skip.clone(),
        });
        admin_login(&shared).await?;

        let done = Arc::new(AtomicBool::new(false));
        let peak_rss = Arc::new(AtomicU64::new(idle.rss));
        let sampler = {
            let (done, peak_rss) = (Arc::clone(&done), Arc::clone(&peak_rss));
            tokio::spawn(async move {
                while !done.load(Ordering::Relaxed) {
                    if let Some(m) = Memory::read(pid) {
                        peak_rss.fetch_max(m.rss, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            })
        };
        let start = Instant::now();
        let workers: Vec<_> = (0..args.concurrency)
            .map(|i| tokio::spawn(worker(Arc::clone(&shared), args.seed * 1000 + i as u64)))
            .collect();
        futures::future::join_all(workers).await;
        let elapsed = start.elapsed();
        done.store(true, Ordering::Relaxed);
        let _ = sampler.await;

        let after = Memory::read(pid).ok_or("the server is gone")?;
        tokio::time::sleep(args.settle).await;
        let settled = Memory::read(pid).ok_or("the server is gone")?;
        let sent = shared.next.load(Ordering::Relaxed).min(args.requests);
        let mut latencies = shared
            .latencies_us
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default();
        latencies.sort_unstable();
        println!(
            "sent {sent} requests in {:.1} s ({:.0}/s, concurrency {}), latency p50 {:.2} ms, p99 {:.2} ms",
            elapsed.as_secs_f64(),
            sent as f64 / elapsed.as_secs_f64(),
            args.concurrency,
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
        );
        println!("after:           {}", after.show());
        println!("after {:>2} s idle: {}", args.settle.as_secs(), settled.show());
        println!(
            "peak:            VmHWM {:.1} MiB (sampled VmRSS max {:.1} MiB)",
            mib(settled.hwm),
            mib(peak_rss.load(Ordering::Relaxed))
        );
        println!(
            "data dir:        {:.1} MiB",
            dir_size(&data_dir) as f64 / (1024.0 * 1024.0)
        );
        if let Ok(statuses) = shared.statuses.lock() {
            let line: Vec<String> = statuses.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            println!("responses:       {}", line.join(", "));
        }
        Ok::<(), String>(())
    }
    .await;
    server.stop();
    result
}
