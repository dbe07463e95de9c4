//! `deeprubin bench-stream`: the stream measured end to end against a real broker and Postgres.
//!
//! Two phases over the same pipeline as production:
//! 1. throughput: a backlog of N alerts is produced first, then drained; alerts/s = N / drain time;
//! 2. latency: other alerts (new objects, so both phases add to the store rather than replay it)
//!    are produced at a fixed rate while the consumer runs; each output event carries its input's
//!    Kafka timestamp and its publication time, whose difference is the end-to-end latency
//!    (p50/p95/p99). The clock starts once the consumer has joined its group (a first alert is
//!    sent alone and its event awaited), and the first `--warmup-seconds` of the phase, while the
//!    new consumer and producer catch up, are reported apart.
//!
//! The store is used as it is: an existing database (say, one `deeprubin bench-store` filled with
//! a million objects) is neither emptied nor dropped, and its size at the start is reported.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde::Serialize;
use store::StateStore;
use tokio::sync::watch;

use crate::config::{ConsumerConfig, OutputFormat};
use crate::replay::{ReplayOptions, replay_payloads};
use crate::{ConsumeError, PipelineMetrics, decode_event, run_with_store};

#[derive(Debug, Clone, Serialize)]
pub struct StreamBenchReport {
    /// Objects and detections in the store before the benchmark.
    pub objects_at_start: u64,
    pub detections_at_start: u64,
    /// The model's name and version (content hash), when classifying.
    pub model: Option<String>,
    pub alerts: usize,
    pub drain_seconds: f64,
    pub alerts_per_second: f64,
    pub latency_rate_per_second: f64,
    pub latency_alerts: usize,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_p99_ms: f64,
    /// The first seconds of the latency phase, left out of its percentiles: a consumer that has
    /// just joined, and a producer that has just connected, catch up on their first batches.
    pub warmup_seconds: f64,
    pub warmup_alerts: usize,
    pub warmup_p99_ms: f64,
    pub warmup_max_ms: f64,
    /// Time spent per stage while draining the backlog (Prometheus sums).
    pub stage_seconds: Vec<String>,
}

impl std::fmt::Display for StreamBenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "store at start: {} objects, {} detections; model: {}",
            self.objects_at_start,
            self.detections_at_start,
            self.model.as_deref().unwrap_or("none (classification off)")
        )?;
        write!(
            f,
            "throughput: {} alerts in {:.2} s = {:.0} alerts/s\nlatency at {:.0} alerts/s over {} alerts: p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms",
            self.alerts,
            self.drain_seconds,
            self.alerts_per_second,
            self.latency_rate_per_second,
            self.latency_alerts,
            self.latency_p50_ms,
            self.latency_p95_ms,
            self.latency_p99_ms
        )?;
        write!(
            f,
            "\nleft out: the first {:.1} s of the latency phase ({} alerts): p99 {:.0} ms, max {:.0} ms",
            self.warmup_seconds, self.warmup_alerts, self.warmup_p99_ms, self.warmup_max_ms
        )?;
        for line in &self.stage_seconds {
            write!(f, "\n  {line}")?;
        }
        Ok(())
    }
}

/// Runs both phases: `backlog` is drained, `live` is produced at `rate` (its first
/// `warmup_seconds` left out of the percentiles); `base` names the broker and database, topics are
/// derived from `prefix`.
pub async fn run(
    base: &ConsumerConfig,
    store: Arc<dyn StateStore>,
    backlog: Vec<Vec<u8>>,
    live: Vec<Vec<u8>>,
    (rate, warmup_seconds): (f64, f64),
    prefix: &str,
) -> Result<StreamBenchReport, ConsumeError> {
    let n = live.len();
    let at_start = store.stats().await?;
    let model = crate::load_model(base)?.map(|m| format!("{} {}", m.name, m.version));
    // Phase 1: backlog, then drain.
    let backlog_topic = format!("{prefix}.backlog");
    replay(base, &backlog_topic, backlog, None).await?;
    let config = phase_config(base, &backlog_topic, prefix, "a");
    let (_tx, rx) = watch::channel(false);
    let started = Instant::now();
    let metrics = PipelineMetrics::new().map_err(|e| ConsumeError::Metrics(e.to_string()))?;
    let (_, totals) =
        run_with_store(config.clone(), Arc::clone(&store), metrics.clone(), rx).await?;
    let stage_seconds: Vec<String> = metrics
        .render()
        .lines()
        .filter(|l| {
            l.starts_with("deeprubin_stage_seconds_sum")
                || l.starts_with("deeprubin_batch_size_count")
        })
        .map(str::to_owned)
        .collect();
    let _ = started;
    let drain_seconds = totals.busy_seconds.max(1e-3);

    // Phase 2: produce at `rate` while consuming.
    let live_topic = format!("{prefix}.live");
    replay(base, &live_topic, Vec::new(), None).await?;
    let config = phase_config(base, &live_topic, prefix, "b");
    let output = config.kafka.output_topic.clone();
    let (_tx, rx) = watch::channel(false);
    let consumer = tokio::spawn(run_with_store(
        config,
        Arc::clone(&store),
        PipelineMetrics::new().map_err(|e| ConsumeError::Metrics(e.to_string()))?,
        rx,
    ));
    // The clock starts once the consumer has joined its group: one alert goes first and the
    // rest are sent when its classified event is out, so joining is not counted as latency.
    let mut live = live.into_iter();
    replay(base, &live_topic, live.by_ref().take(1).collect(), None).await?;
    let brokers = base.kafka.brokers.clone();
    let joined_output = output.clone();
    let joined = tokio::task::spawn_blocking(move || {
        read_latencies(&brokers, &joined_output, 1, 0, Duration::from_secs(60)).len()
    })
    .await
    .unwrap_or(0);
    if joined == 0 {
        tracing::warn!("no event for the warm-up alert within 60 s; latencies include the join");
    }
    let clock_start_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(0);
    replay(base, &live_topic, live.collect(), Some(rate)).await?;
    let _ = consumer.await;
    let events = read_latencies(
        &base.kafka.brokers,
        &output,
        n.saturating_sub(1),
        clock_start_ms,
        Duration::from_secs(10),
    );
    let measured_from = clock_start_ms + (warmup_seconds.max(0.0) * 1000.0) as i64;
    let (mut warmup, mut latencies): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    for (input_ms, latency) in events {
        if input_ms < measured_from {
            warmup.push(latency);
        } else {
            latencies.push(latency);
        }
    }
    warmup.sort_by(f64::total_cmp);
    latencies.sort_by(f64::total_cmp);
    let pct = |v: &[f64], q: f64| {
        v.get(((v.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    Ok(StreamBenchReport {
        objects_at_start: at_start.objects,
        detections_at_start: at_start.detections,
        model,
        alerts: totals.stored as usize,
        drain_seconds,
        alerts_per_second: totals.stored as f64 / drain_seconds,
        latency_rate_per_second: rate,
        latency_alerts: latencies.len(),
        latency_p50_ms: pct(&latencies, 0.50),
        latency_p95_ms: pct(&latencies, 0.95),
        latency_p99_ms: pct(&latencies, 0.99),
        warmup_seconds,
        warmup_alerts: warmup.len(),
        warmup_p99_ms: pct(&warmup, 0.99),
        warmup_max_ms: warmup.last().copied().unwrap_or(f64::NAN),
        stage_seconds,
    })
}

fn phase_config(base: &ConsumerConfig, topic: &str, prefix: &str, phase: &str) -> ConsumerConfig {
    let mut c = base.clone();
    c.kafka.topics = vec![topic.to_owned()];
    c.kafka.group = format!("{prefix}.{phase}");
    c.kafka.output_topic = format!("{topic}.updates");
    c.kafka.dead_letter_topic = format!("{topic}.dead");
    c.pipeline.output_format = OutputFormat::Json;
    c.pipeline.exit_when_idle_secs = Some(c.pipeline.exit_when_idle_secs.unwrap_or(3.0));
    c
}

async fn replay(
    base: &ConsumerConfig,
    topic: &str,
    payloads: Vec<Vec<u8>>,
    rate: Option<f64>,
) -> Result<(), ConsumeError> {
    let options = ReplayOptions {
        brokers: base.kafka.brokers.clone(),
        topic: topic.to_owned(),
        partitions: base.kafka.created_topic_partitions,
        rate,
        one_per_batch: false,
        options: base.kafka.options.clone(),
    };
    replay_payloads(&options, payloads).await?;
    Ok(())
}

/// (input time, end-to-end latency), in ms, of the events on the output topic whose input was
/// produced at or after `since_ms` (Unix ms); stops at `expected` events or after `quiet_limit`
/// without one.
fn read_latencies(
    brokers: &str,
    topic: &str,
    expected: usize,
    since_ms: i64,
    quiet_limit: Duration,
) -> Vec<(i64, f64)> {
    let Ok(consumer) = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("{topic}.reader"))
        .set("enable.auto.commit", "false")
        .create::<BaseConsumer>()
    else {
        return Vec::new();
    };
    let Ok(metadata) = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)) else {
        return Vec::new();
    };
    let mut assignment = TopicPartitionList::new();
    for t in metadata.topics() {
        for p in t.partitions() {
            let _ = assignment.add_partition_offset(topic, p.id(), Offset::Beginning);
        }
    }
    if consumer.assign(&assignment).is_err() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(expected);
    let mut quiet = Instant::now();
    while out.len() < expected && quiet.elapsed() < quiet_limit {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) {
            quiet = Instant::now();
            if let Some(event) = message.payload().and_then(|p| decode_event(p).ok())
                && let Some(input) = event.input_kafka_timestamp_ms
                && input >= since_ms
            {
                out.push((input, (event.published_ms - input) as f64));
            }
        }
    }
    out
}
