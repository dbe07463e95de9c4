//! `deeprubin replay`: produce alert files to a topic as the surveys do (ZTF: one container file
//! per message; Rubin: Confluent-framed messages; files holding several container records are sent
//! as they are). Malformed files are produced unchanged: that is how poison messages are tested.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureRecord};

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
) -> Result<ReplaySummary, KafkaError> {
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
    // Deliveries awaited in send order; enqueueing in order keeps the topic in file order.
    let mut pending: std::collections::VecDeque<DeliveryFuture> = std::collections::VecDeque::new();
    for payload in payloads {
        if let Some(rate) = options.rate.filter(|r| *r > 0.0) {
            let due = started + Duration::from_secs_f64(summary.messages as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        let key = summary.messages.to_string();
        summary.bytes += payload.len() as u64;
        summary.messages += 1;
        let mut record = FutureRecord::to(&options.topic).key(&key).payload(&payload);
        let delivery = loop {
            match producer.send_result(record) {
                Ok(delivery) => break delivery,
                // The local queue is full: wait for the oldest delivery, then try again.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    match pending.pop_front() {
                        Some(oldest) => settle(oldest).await?,
                        None => tokio::time::sleep(Duration::from_millis(10)).await,
                    }
                }
                Err((e, _)) => return Err(e),
            }
        };
        pending.push_back(delivery);
        if options.one_per_batch || pending.len() >= 10_000 {
            while let Some(oldest) = pending.pop_front() {
                settle(oldest).await?;
            }
        }
    }
    while let Some(oldest) = pending.pop_front() {
        settle(oldest).await?;
    }
    Ok(summary)
}

async fn settle(delivery: DeliveryFuture) -> Result<(), KafkaError> {
    match delivery.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((e, _))) => Err(e),
        Err(_) => Err(KafkaError::Canceled),
    }
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
