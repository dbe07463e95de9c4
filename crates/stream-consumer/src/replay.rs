//! `deeprubin replay`: produce alert files to a topic as the surveys do (ZTF: one container file
//! per message; Rubin: Confluent-framed messages; files holding several container records are sent
//! as they are). Malformed files are produced unchanged: that is how poison messages are tested.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rdkafka::producer::FutureRecord;

use crate::kafka;

#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub brokers: String,
    pub topic: String,
    pub partitions: i32,
    /// Messages per second; `None` sends as fast as the broker takes them.
    pub rate: Option<f64>,
    /// Wait for each message's acknowledgement before sending the next, so each lands in its own
    /// record batch (exact resumption on brokers that mis-handle mid-batch fetches).
    pub one_per_batch: bool,
    pub options: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReplaySummary {
    pub messages: u64,
    pub bytes: u64,
}

/// Produces each payload (file contents, or bytes made by the caller), keyed by its index.
pub async fn replay_payloads(
    options: &ReplayOptions,
    payloads: impl IntoIterator<Item = Vec<u8>>,
) -> Result<ReplaySummary, rdkafka::error::KafkaError> {
    kafka::ensure_topics(
        &options.brokers,
        &options.options,
        &[&options.topic],
        options.partitions,
    )
    .await?;
    let mut producer_options = options.options.clone();
    if options.one_per_batch {
        producer_options.insert("linger.ms".into(), "0".into());
    }
    let producer = kafka::producer(&options.brokers, &producer_options)?;
    let started = Instant::now();
    let mut summary = ReplaySummary::default();
    let mut pending = Vec::new();
    for payload in payloads {
        if let Some(rate) = options.rate.filter(|r| *r > 0.0) {
            let due = started + Duration::from_secs_f64(summary.messages as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        let key = summary.messages.to_string();
        summary.bytes += payload.len() as u64;
        summary.messages += 1;
        let send = {
            let producer = producer.clone();
            let topic = options.topic.clone();
            async move {
                producer
                    .send(
                        FutureRecord::to(&topic).key(&key).payload(&payload),
                        Duration::from_secs(30),
                    )
                    .await
                    .map(|_| ())
                    .map_err(|(e, _)| e)
            }
        };
        if options.one_per_batch {
            send.await?;
        } else {
            pending.push(tokio::spawn(send));
            if pending.len() >= 10_000 {
                for handle in pending.drain(..) {
                    join(handle).await?;
                }
            }
        }
    }
    for handle in pending {
        join(handle).await?;
    }
    Ok(summary)
}

async fn join(
    handle: tokio::task::JoinHandle<Result<(), rdkafka::error::KafkaError>>,
) -> Result<(), rdkafka::error::KafkaError> {
    handle
        .await
        .unwrap_or(Err(rdkafka::error::KafkaError::Canceled))
}

/// Reads alert files (directories searched recursively for `*.avro`) in sorted order.
pub fn read_files(paths: &[PathBuf]) -> std::io::Result<Vec<Vec<u8>>> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files)?;
    }
    files.iter().map(std::fs::read).collect()
}

fn collect(path: &std::path::Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for entry in entries {
            if entry.is_dir() || entry.extension().is_some_and(|e| e == "avro") {
                collect(&entry, out)?;
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}
