//! The events path as Lambda's event source mappings run it, on moto: the
//! table's stream records (DynamoDB Streams API), filtered as the relay's
//! mapping says, handed to the relay, which publishes to the moto bus; the
//! bus's rules put each event on its consumers' queues; each consumer gets
//! a batch received from its own queue, and what it did not report as
//! failed is deleted, as the mapping does.

use super::harness::Harness;
use super::moto::Service;
use serde_json::{json, Value};
use std::collections::HashMap;

/// An event source mapping of the template, resolved.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub function: String,
    pub source_arn: String,
    pub batch_size: usize,
    pub filters: Vec<Value>,
}

/// Where the stream was read up to, per shard.
#[derive(Default)]
pub struct StreamCursor {
    after: HashMap<String, String>,
}

/// Every new record of the table's stream since the last read.
pub async fn read_stream(h: &Harness, cursor: &mut StreamCursor) -> Result<Vec<Value>, String> {
    let stream = h.provisioned.stream_arn.clone();
    let described = h
        .moto
        .call(
            Service::Streams,
            "DescribeStream",
            json!({"StreamArn": stream}),
        )
        .await?;
    let mut out = Vec::new();
    for shard in described["StreamDescription"]["Shards"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let id = shard["ShardId"].as_str().unwrap_or_default().to_owned();
        let mut req =
            json!({"StreamArn": stream, "ShardId": id, "ShardIteratorType": "TRIM_HORIZON"});
        if let Some(seq) = cursor.after.get(&id) {
            req["ShardIteratorType"] = json!("AFTER_SEQUENCE_NUMBER");
            req["SequenceNumber"] = json!(seq);
        }
        let mut iterator = h
            .moto
            .call(Service::Streams, "GetShardIterator", req)
            .await?["ShardIterator"]
            .clone();
        while let Some(it) = iterator.as_str().map(str::to_owned) {
            let page = h
                .moto
                .call(
                    Service::Streams,
                    "GetRecords",
                    json!({"ShardIterator": it, "Limit": 1000}),
                )
                .await?;
            let records = page["Records"].as_array().cloned().unwrap_or_default();
            if records.is_empty() {
                break;
            }
            for mut r in records {
                if let Some(seq) = r["dynamodb"]["SequenceNumber"].as_str() {
                    cursor.after.insert(id.clone(), seq.to_owned());
                }
                r["eventSourceARN"] = json!(stream);
                // Lambda hands over epoch seconds; moto's Streams API writes
                // an ISO timestamp.
                if let Some(t) = r["dynamodb"]["ApproximateCreationDateTime"].as_str() {
                    r["dynamodb"]["ApproximateCreationDateTime"] = json!(epoch_seconds(t)?);
                }
                out.push(r);
            }
            iterator = page["NextShardIterator"].clone();
        }
    }
    Ok(out)
}

/// `YYYY-MM-DDTHH:MM:SS[.ffffff][Z|+00:00]` (UTC) as epoch seconds.
pub fn epoch_seconds(iso: &str) -> Result<f64, String> {
    let bad = || format!("not an ISO timestamp: {iso}");
    let (date, time) = iso.split_once('T').ok_or_else(bad)?;
    let time = time.trim_end_matches('Z').trim_end_matches("+00:00");
    let d: Vec<i64> = date
        .split('-')
        .map(|x| x.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let t: Vec<i64> = hms
        .split(':')
        .map(|x| x.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    if d.len() != 3 || t.len() != 3 {
        return Err(bad());
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m, day) = (if d[1] <= 2 { d[0] - 1 } else { d[0] }, d[1], d[2]);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let fraction: f64 = format!("0.{frac}").parse().map_err(|_| bad())?;
    Ok((days * 86400 + t[0] * 3600 + t[1] * 60 + t[2]) as f64 + fraction)
}

/// Lambda's event filtering, for the subset of the pattern language the
/// template uses: objects nest, an array lists alternatives, each a literal
/// or `{"prefix": ...}`.
pub fn matches(pattern: &Value, event: &Value) -> bool {
    match pattern {
        Value::Object(m) => m.iter().all(|(k, p)| matches(p, &event[k.as_str()])),
        Value::Array(alternatives) => alternatives.iter().any(|a| match a {
            Value::Object(o) if o.contains_key("prefix") => event
                .as_str()
                .zip(o["prefix"].as_str())
                .is_some_and(|(s, p)| s.starts_with(p)),
            Value::Object(o) if o.contains_key("exists") => {
                o["exists"].as_bool() == Some(!event.is_null())
            }
            literal => literal == event,
        }),
        literal => literal == event,
    }
}

/// Whether a record passes the mapping's filters (no filter: all pass).
pub fn passes(filters: &[Value], record: &Value) -> bool {
    filters.is_empty() || filters.iter().any(|f| matches(f, record))
}

/// Feeds the new stream records to the relay in batches; the number of
/// records given.
pub async fn relay(
    h: &mut Harness,
    mapping: &Mapping,
    cursor: &mut StreamCursor,
) -> Result<usize, String> {
    let records: Vec<Value> = read_stream(h, cursor)
        .await?
        .into_iter()
        .filter(|r| passes(&mapping.filters, r))
        .collect();
    for batch in records.chunks(mapping.batch_size.max(1)) {
        let answer = h
            .expect_response(&mapping.function, json!({"Records": batch}))
            .await;
        if let Some(a) = answer {
            let failed = a["batchItemFailures"].as_array().map(Vec::len).unwrap_or(0);
            if failed > 0 || !a["batchItemFailures"].is_array() {
                h.fail(
                    &mapping.function,
                    format!("answered {a} for {} stream records", batch.len()),
                );
            }
        }
    }
    Ok(records.len())
}

/// Gives `mapping`'s consumer every message waiting on its queue, in
/// batches; deletes what it did not report failed. `expect_failed`: the
/// consumer cannot succeed here (its backend is not emulated), so every
/// message must come back as failed (and stays queued). The number of
/// messages given.
pub async fn consume(
    h: &mut Harness,
    mapping: &Mapping,
    expect_failed: bool,
) -> Result<usize, String> {
    let url = h
        .provisioned
        .queue_url(&mapping.source_arn)
        .ok_or_else(|| format!("{}: no queue {}", mapping.function, mapping.source_arn))?
        .to_owned();
    let mut given = 0;
    loop {
        let received = h
            .moto
            .call(
                Service::Sqs,
                "ReceiveMessage",
                json!({"QueueUrl": url, "MaxNumberOfMessages": mapping.batch_size.clamp(1, 10),
                       "AttributeNames": ["All"], "VisibilityTimeout": 600, "WaitTimeSeconds": 0}),
            )
            .await?;
        let messages = received["Messages"].as_array().cloned().unwrap_or_default();
        if messages.is_empty() {
            return Ok(given);
        }
        given += messages.len();
        let event = Harness::sqs_event(&mapping.source_arn, &messages);
        let Some(answer) = h.expect_response(&mapping.function, event).await else {
            continue;
        };
        let failed: Vec<String> = answer["batchItemFailures"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_owned))
            .collect();
        if !answer["batchItemFailures"].is_array() {
            h.fail(
                &mapping.function,
                format!("answered {answer}, not a batch response"),
            );
        } else if expect_failed && failed.len() != messages.len() {
            h.fail(
                &mapping.function,
                format!("expected every message reported failed, got {answer}"),
            );
        } else if !expect_failed && !failed.is_empty() {
            h.fail(
                &mapping.function,
                format!(
                    "reported {} of {} messages failed",
                    failed.len(),
                    messages.len()
                ),
            );
        }
        for m in &messages {
            let id = m["MessageId"].as_str().unwrap_or_default();
            if !failed.iter().any(|f| f == id) {
                h.moto
                    .call(
                        Service::Sqs,
                        "DeleteMessage",
                        json!({"QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"]}),
                    )
                    .await?;
            }
        }
        if expect_failed {
            // They stay queued (invisible for the visibility timeout): done.
            return Ok(given);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_timestamps_become_epoch_seconds() {
        assert_eq!(epoch_seconds("1970-01-01T00:00:00").unwrap(), 0.0);
        assert_eq!(epoch_seconds("2026-03-01T10:00:00Z").unwrap(), 1772359200.0);
        assert_eq!(
            epoch_seconds("2026-12-06T20:39:39.5").unwrap(),
            1796589579.5
        );
        assert!(epoch_seconds("yesterday").is_err());
    }

    #[test]
    fn the_relay_filter_takes_outbox_inserts_only() {
        let pattern: Value = serde_json::from_str(
            "{\"eventName\":[\"INSERT\"],\"dynamodb\":{\"NewImage\":{\"PK\":{\"S\":[{\"prefix\":\"OUTBOX#\"}]}}}}",
        )
        .unwrap();
        let record = |name: &str, pk: &str| json!({"eventName": name, "dynamodb": {"NewImage": {"PK": {"S": pk}}}});
        assert!(passes(
            std::slice::from_ref(&pattern),
            &record("INSERT", "OUTBOX#evt_1")
        ));
        assert!(!passes(
            std::slice::from_ref(&pattern),
            &record("MODIFY", "OUTBOX#evt_1")
        ));
        assert!(!passes(
            std::slice::from_ref(&pattern),
            &record("INSERT", "ORDER#ord_1")
        ));
        assert!(!passes(
            std::slice::from_ref(&pattern),
            &json!({"eventName": "REMOVE"})
        ));
        assert!(passes(&[], &record("REMOVE", "X")));
    }
}
