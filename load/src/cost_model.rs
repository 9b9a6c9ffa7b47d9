//! `cost-model`: what AWS would bill per 1,000 checkouts and per 1,000,000
//! product views, counted, not estimated. The whole local system runs in
//! this process with counting decorators over its ports (store, search,
//! notifier, saga tasks, consumers, HTTP); shoppers drive it over HTTP; the
//! counts are multiplied by load/prices-us-east-1.json.
//!
//! `cargo run -p load --bin cost-model -- [--checkouts N] [--visits M] [--views P]`
//! (its tests: `cargo test -p load --bin cost-model`).

mod cost;

use cost::bill::{self, Prices};
use cost::flows;
use cost::report;
use cost::system::MeteredSystem;

struct Args {
    checkouts: usize,
    visits: usize,
    views: usize,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        checkouts: 50,
        visits: 50,
        views: 300,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?
            .parse::<usize>()
            .map_err(|e| format!("{flag}: {e}"))?;
        match flag.as_str() {
            "--checkouts" => a.checkouts = value.max(1),
            "--visits" => a.visits = value.max(1),
            "--views" => a.views = value.max(1),
            other => {
                return Err(format!(
                    "unknown flag {other} (--checkouts N, --visits M, --views P)"
                ))
            }
        }
    }
    Ok(a)
}

async fn run(a: Args) -> Result<(), String> {
    let prices = Prices::load()?;
    let sys = MeteredSystem::start().await?;
    let seeded = amazon_lite::seed::demo(&sys.system.ctx).await?;
    let shoppers = flows::shoppers(sys.raw_store(), a.checkouts).await?;
    sys.settle().await;
    let client = reqwest::Client::new();
    let products = flows::product_ids(&sys, &client).await?;
    if products.is_empty() {
        return Err("the demo catalog has no product in stock".into());
    }
    println!(
        "cost model, prices {} (us-east-1, arm64, on-demand list prices), Lambda {} MB; demo catalog: {seeded:?}",
        prices.as_of(),
        bill::LAMBDA_MEMORY_MB
    );

    // 1. Checkouts.
    sys.meter.reset();
    for (i, shopper) in shoppers.iter().enumerate() {
        flows::checkout(&sys, &client, shopper, &products[i % products.len()]).await?;
    }
    sys.settle().await;
    let checkouts = sys.meter.snapshot();
    println!(
        "\n== {} checkouts: {} ==",
        a.checkouts,
        flows::CHECKOUT_REQUESTS.join(" → ")
    );
    print!(
        "{}",
        report::phase(
            &checkouts,
            &prices,
            a.checkouts as f64,
            "checkout",
            1000.0,
            "1,000 checkouts"
        )?
    );
    let standard =
        bill::step_functions_standard(&checkouts, &prices)? * 1000.0 / a.checkouts as f64;
    let express_split =
        bill::step_functions_express(&checkouts, &prices, 2, 0)? * 1000.0 / a.checkouts as f64;
    let express_wait =
        bill::step_functions_express(&checkouts, &prices, 1, 5_000)? * 1000.0 / a.checkouts as f64;
    println!("  saga per 1,000 checkouts: Standard ${standard:.4} (state transitions); Express split in two at the payment callback ${express_split:.4}; one Express execution holding a 5 s payment wait ${express_wait:.4} (not possible: Express has no .waitForTaskToken)");

    // 2. Browsing visits.
    sys.meter.reset();
    for n in 0..a.visits {
        flows::visit(&sys, &client, &products, n).await?;
    }
    sys.settle().await;
    let visits = sys.meter.snapshot();
    let views = a.visits as f64 * flows::VIEWS_PER_VISIT as f64;
    println!(
        "\n== {} browsing visits: {} ==",
        a.visits,
        flows::VISIT_REQUESTS.join(", ")
    );
    print!(
        "{}",
        report::phase(
            &visits,
            &prices,
            views,
            "product view (a third of a visit)",
            1e6,
            "1,000,000 product views (whole visits)"
        )?
    );

    // 3. Product pages alone.
    sys.meter.reset();
    for n in 0..a.views {
        flows::product_view(&sys, &client, &products[n % products.len()]).await?;
    }
    let pages = sys.meter.snapshot();
    println!(
        "\n== {} product pages alone: GET /v1/products/{{id}} ==",
        a.views
    );
    print!(
        "{}",
        report::phase(
            &pages,
            &prices,
            a.views as f64,
            "product view",
            1e6,
            "1,000,000 product views (the page alone)"
        )?
    );
    let ocu = prices.get("opensearch.serverless_per_ocu_hour")?
        * prices.get("opensearch.serverless_minimum_ocu")?
        * 730.0;
    println!("\nnot per unit: OpenSearch Serverless at its minimum ${ocu:.0}/month whatever the traffic; the reservation sweeper (one scheduled invocation a minute); SQS long polls of idle queues by Lambda; DynamoDB storage and PITR; CloudWatch logs and metrics; data transfer out.");
    sys.stop().await;
    Ok(())
}

#[tokio::main]
async fn main() {
    let result = match args() {
        Ok(a) => run(a).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        eprintln!("cost-model: {e}");
        std::process::exit(1);
    }
}
