//! The load suites of Amazon Lite on goose: `mix` (the day-to-day traffic
//! of a shop), `flash-sale` (N buyers at one instant for M units) and
//! `soak-10k` (10,000 shoppers for minutes), and `import` (administrators
//! creating products as fast as the API takes them, then every product
//! searchable and stocked). Each runs against any base
//! URL, writes goose's reports, checks the end state it promises and ends
//! in one summary line:
//!
//! ```text
//! load: <scenario> <requests> requests, <errors> errors, p99 <ms> ms[, consistent]
//! ```
//!
//! ```no_run
//! # async fn demo() -> Result<(), load::scenarios::LoadError> {
//! use load::scenarios::{run, Options, Scenario};
//! let options = Options::new(Scenario::Mix, "http://127.0.0.1:3000".parse().unwrap());
//! let report = run(&options).await?;
//! println!("{}", report.summary_line());
//! # Ok(()) }
//! ```

mod admin;
mod api;
mod catalog;
mod clients;
mod flash_sale;
mod import;
mod ledger;
mod mix;
mod options;
mod report;
mod shopper;
mod soak;

pub use ledger::{Outcome, PaymentToken};
pub use options::{parse_duration, Admin, Options, Scenario, Think};
pub use report::{KindStats, Report};

use goose::config::GooseConfiguration;
use goose::prelude::*;
use std::sync::Arc;

/// Why a load run could not be carried out (as opposed to a run that went
/// through and found errors: those are in the [`Report`]).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("goose: {0:?}")]
    Goose(#[from] GooseError),
    #[error("setting up the run: {0}")]
    Setup(String),
    #[error("http: {0}")]
    Http(#[from] reqwest13::Error),
    #[error("unexpected answer: {0}")]
    Answer(String),
    #[error("writing the report: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs one scenario to its end and checks its end state.
pub async fn run(options: &Options) -> Result<Report, LoadError> {
    std::fs::create_dir_all(&options.report_dir)?;
    match options.scenario {
        Scenario::Mix => mix::run(options).await,
        Scenario::FlashSale => flash_sale::run(options).await,
        Scenario::Soak => soak::run(options).await,
        Scenario::Import => import::run(options).await,
    }
}

/// Goose's configuration for one run: no command line (the caller's flags
/// are ours), the reports where the options say, and every request counted
/// from the first (goose would otherwise reset its metrics once all users
/// have started, losing the sign-ups of the ramp).
fn goose_configuration(
    options: &Options,
    users: usize,
    ramp_per_second: f64,
    run_time: Option<std::time::Duration>,
    iterations: Option<usize>,
) -> GooseConfiguration {
    let mut c = GooseConfiguration::default();
    c.host = Some(options.host.to_string());
    c.users = Some(users);
    c.increase_rate = Some(format!("{ramp_per_second:.3}"));
    c.run_time = run_time.map(|d| d.as_secs().max(1).to_string());
    c.iterations = iterations;
    // (Goose refuses the setting with a number of iterations, where it
    // never resets them.)
    c.no_reset_metrics = iterations.is_none();
    c.no_telnet = true;
    c.quiet = 1;
    // The table per kind is ours (Report::details); goose's is in its reports.
    c.no_print_metrics = true;
    c.report_file = ["json", "html", "md"]
        .iter()
        .map(|ext| {
            options
                .report_dir
                .join(format!("{}.{ext}", options.scenario.name()))
                .display()
                .to_string()
        })
        .collect();
    c
}

/// Starts goose with the scenario's users sharing the pooled clients
/// (`clients::ClientPool`: each simulated user takes its own source address
/// on loopback in `shopper::begin`).
async fn attack(
    configuration: GooseConfiguration,
    scenarios: Vec<goose::goose::Scenario>,
) -> Result<GooseMetrics, LoadError> {
    let mut attack = GooseAttack::initialize_with_config(configuration)?
        .set_client_builder_without_cookies(
            goose::client::GooseClientBuilder::new()
                .without_cookies()
                .timeout(std::time::Duration::from_secs(60)),
        )?;
    for s in scenarios {
        attack = attack.register_scenario(s);
    }
    Ok(attack.execute().await?)
}

/// What every scenario's users share: where, with which clients, the
/// catalog they shop in and the orders they placed.
pub(crate) struct Shared {
    pub options: Options,
    pub clients: clients::ClientPool,
    pub catalog: catalog::Catalog,
    pub ledger: ledger::Ledger,
    /// Failures that are no request's (a broken expectation in a
    /// transaction); counted as errors.
    pub faults: report::Faults,
    /// Distinct e-mail addresses across runs against one API.
    pub run_id: String,
}

impl Shared {
    async fn new(options: &Options, users: usize) -> Result<Arc<Self>, LoadError> {
        let clients = clients::ClientPool::new(&options.host, users, options.connections)?;
        let catalog = catalog::Catalog::load(clients.observer(), &options.host).await?;
        Ok(Arc::new(Shared {
            options: options.clone(),
            clients,
            catalog,
            ledger: ledger::Ledger::default(),
            faults: report::Faults::default(),
            run_id: run_id(),
        }))
    }
}

fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{:x}", nanos & 0xffff_ffff_ffff)
}
