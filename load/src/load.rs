//! `load SCENARIO --host URL [--users N] [--duration D] [...]`: runs one
//! load suite (`load::scenarios`), prints its per-kind table, its checks
//! and, last, its summary line; exits non-zero on any error or failed
//! check. `scripts/load` builds and runs it.

use load::scenarios::{parse_duration, run, Options, Scenario};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: load SCENARIO --host URL [--users N] [--duration D] [--think MIN..MAX]
            [--ramp D] [--units M] [--payment-timeout D] [--connections N] [--report-dir DIR]

SCENARIO  mix | flash-sale | soak-10k | import
--users   simulated users (flash-sale: buyers; import: administrators); defaults 200, 100, 10000, 8
--duration  how long users run (mix 2m, soak-10k 5m, import 30s; flash-sale: longest wait for the release)
--think   pause between a shopper's steps (mix 500ms..3s, soak-10k 3s..10s)
--ramp    time over which the users start (a fifth of the duration, at most 1m)
--units   flash-sale: units on sale (a tenth of the buyers)
--payment-timeout  the API's CHECKOUT_PAYMENT_TIMEOUT_SECS: shoppers then pay with
          tok_noWebhook now and then, and the run waits for those orders to fail
--connections  connections open at most, all users together (512; the local API takes 1024):
          requests beyond them wait for one, and the wait is reported
--report-dir  goose's reports, <scenario>.json|html|md (target/load)
flash-sale and import sign in as ADMIN_EMAIL / ADMIN_PASSWORD.";

fn parse(args: &[String]) -> Result<Options, String> {
    let mut it = args.iter();
    let scenario: Scenario = it.next().ok_or("no scenario")?.parse()?;
    let mut host = None;
    let mut rest: Vec<(String, String)> = Vec::new();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        if flag == "--host" {
            host = Some(value.parse().map_err(|e| format!("--host {value}: {e}"))?);
        } else {
            rest.push((flag.clone(), value.clone()));
        }
    }
    let mut o = Options::new(scenario, host.ok_or("--host URL is required")?);
    for (flag, value) in rest {
        match flag.as_str() {
            "--users" => o.users = value.parse().map_err(|_| format!("--users {value}"))?,
            "--duration" => o.duration = parse_duration(&value)?,
            "--think" => o.think = value.parse()?,
            "--ramp" => o.ramp = Some(parse_duration(&value)?),
            "--units" => o.units = Some(value.parse().map_err(|_| format!("--units {value}"))?),
            "--payment-timeout" => o.payment_timeout = Some(parse_duration(&value)?),
            "--report-dir" => o.report_dir = PathBuf::from(value),
            "--connections" => {
                o.connections = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("--connections {value}: a number of at least 1"))?
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if o.users == 0 {
        return Err("--users must be at least 1".into());
    }
    Ok(o)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let options = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("load: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options).await {
        Ok(report) => {
            println!("{}", report.details());
            println!(
                "reports: {}/{}.{{json,html,md}}",
                options.report_dir.display(),
                options.scenario.name()
            );
            println!("{}", report.summary_line());
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("load: {} could not run: {e}", options.scenario.name());
            println!(
                "load: {} 0 requests, 1 errors, p99 0 ms",
                options.scenario.name()
            );
            ExitCode::FAILURE
        }
    }
}
