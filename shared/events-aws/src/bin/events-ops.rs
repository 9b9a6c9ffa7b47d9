//! Operations on the events backbone.
//!
//! ```text
//! events-ops dlq list <queue-url> [--max N]
//!     Prints up to N (default 100) messages of the queue as JSON lines,
//!     without deleting them.
//! events-ops dlq redrive <dlq-url> <queue-url> [--max N]
//!     Moves up to N (default: all) messages from the DLQ back to the queue.
//!     On AWS prefer SQS's StartMessageMoveTask (console: "Start DLQ
//!     redrive"); this works everywhere, the emulator included.
//! ```
//! AWS settings come from the environment (`AWS_REGION`, credentials,
//! `AWS_ENDPOINT_URL` for an emulator).

use lite_events_aws::dlq;
use std::process::ExitCode;

const USAGE: &str = "usage:
  events-ops dlq list <queue-url> [--max N]
  events-ops dlq redrive <dlq-url> <queue-url> [--max N]";

enum Command {
    List {
        queue: String,
        max: usize,
    },
    Redrive {
        dlq: String,
        queue: String,
        max: usize,
    },
}

fn parse(args: &[String]) -> Result<Command, String> {
    let mut positional = Vec::new();
    let mut max = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--max" => {
                let value = it.next().ok_or("--max needs a number")?;
                max = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| format!("--max {value}: not a number"))?,
                );
            }
            "-h" | "--help" => return Err(String::new()),
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            other => positional.push(other.to_owned()),
        }
    }
    match positional.as_slice() {
        [group, cmd, queue] if group == "dlq" && cmd == "list" => Ok(Command::List {
            queue: queue.clone(),
            max: max.unwrap_or(100),
        }),
        [group, cmd, dlq, queue] if group == "dlq" && cmd == "redrive" => Ok(Command::Redrive {
            dlq: dlq.clone(),
            queue: queue.clone(),
            max: max.unwrap_or(usize::MAX),
        }),
        _ => Err("unknown command".into()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse(&args) {
        Ok(c) => c,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("events-ops: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let aws = lite_aws::sdk_config(lite_aws::Profile::Consumer).await;
    let client = aws_sdk_sqs::Client::new(&aws);
    let result =
        match command {
            Command::List { queue, max } => dlq::list(&client, &queue, max).await.map(|messages| {
                for m in &messages {
                    println!("{}", serde_json::to_string(m).unwrap_or_default());
                }
                eprintln!("{} message(s) listed; none deleted", messages.len());
            }),
            Command::Redrive { dlq, queue, max } => dlq::redrive(&client, &dlq, &queue, max)
                .await
                .map(|report| {
                    println!("{}", serde_json::to_string(&report).unwrap_or_default());
                }),
        };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("events-ops: {e}");
            ExitCode::FAILURE
        }
    }
}
