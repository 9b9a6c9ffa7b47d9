//! Creates the single table from `infra/table.json` wherever the standard
//! AWS settings point, e.g. a local moto server for `cargo lambda watch`:
//!
//! ```text
//! scripts/moto.sh ensure && scripts/moto.sh start 5000
//! AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_REGION=us-east-1 \
//! AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
//!   cargo run -p lite-dynamo --example create_table -- amazon-lite
//! ```
//!
//! The table name is the first argument, else `TABLE_NAME`. An existing
//! table is left as it is.

use lite_dynamo::testing::{ensure_table, TableDefinition};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("TABLE_NAME").ok())
        .ok_or("usage: create_table TABLE_NAME (or set TABLE_NAME)")?;
    let def = TableDefinition::load()?;
    let config = lite_aws::sdk_config(lite_aws::Profile::Consumer).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    if ensure_table(&client, &name, &def).await? {
        println!("created table {name}");
    } else {
        println!("table {name} already exists");
    }
    Ok(())
}
