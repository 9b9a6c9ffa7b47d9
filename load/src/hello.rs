//! An axum hello-world on the workspace's axum/hyper/tokio versions: the machine's ceiling that the
//! hot-path benchmarks compare the local API against (same machine, same run, same wrk settings).
//!
//! `hello [PORT]` listens on 127.0.0.1:PORT (0 picks a free port) and prints `listening on ADDR`.

use axum::{routing::get, Router};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let app = Router::new().route("/", get(|| async { "Hello, World!" }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
