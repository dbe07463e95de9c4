//! The consume loop, two stages joined by a bounded queue:
//!
//! 1. *intake*: poll → decode → dead letters → store, one bounded batch at a time;
//! 2. *finish*: classify → publish (and record the classification rows) → commit, batch by batch
//!    in the order the intake stored them.
//!
//! While batch N is classified and published, batch N+1 is polled, decoded and stored. Offsets are
//! committed only by the finish stage, in batch order, after every message of the batch is stored
//! and its event (or its dead letter) is acknowledged by the broker: at-least-once delivery, and
//! since the store and the classification rows are idempotent, exactly-once effect. At most
//! [`PIPELINE_DEPTH`] stored batches wait for the finish stage, so a slow model, store or broker
//! slows polling down (back-pressure) instead of filling memory.
//!
//! A batch's light curves are read after that batch is stored, so its classifications see its own
//! alerts; they may also see the next batch's measurements when that batch was stored first, but
//! each alert's curve is cut at the alert's epoch, so only measurements that arrived late (an
//! earlier epoch in a later batch) can differ from a strictly sequential run.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alert_model::{Alert, AlertDecoder, DecodeError, Survey};
use classifier_core::Prediction;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};
use store::StateStore;
use tokio::sync::{mpsc, watch};

use crate::classify::{self, ModelHandle};
use crate::config::ConsumerConfig;
use crate::event::{EventEncoder, ObjectUpdate};
use crate::metrics::PipelineMetrics;
use crate::retry::Backoff;
use crate::sink::{OutputRecord, Sink};

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// SIGTERM/SIGINT (or the caller's shutdown signal): the in-flight batch was finished.
    Shutdown,
    /// Nothing to read for `exit_when_idle_secs`.
    Idle,
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("Kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("output event: {0}")]
    Encode(#[from] crate::event::EventEncodeError),
    #[error(
        "shut down while the store or broker was unavailable; the batch was not committed and will be redelivered"
    )]
    ShutdownDuringOutage,
    #[error("classification: {0}")]
    Classify(#[from] crate::classify::ClassifyError),
}

/// Counters of one run, for summaries and tests. A message may hold several alerts (ZTF
/// container files can), so messages and alerts are counted apart:
/// `consumed = messages_stored + dead_lettered` and `stored = published`.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct RunTotals {
    /// Input messages read.
    pub consumed: u64,
    /// Input messages whose every alert was stored and published.
    pub messages_stored: u64,
    /// Alerts stored.
    pub stored: u64,
    /// Output events published (one per stored alert).
    pub published: u64,
    /// Input messages sent to the dead-letter topic.
    pub dead_lettered: u64,
    /// Events also sent to the anomalies topic.
    pub anomalies: u64,
    /// From the first message received to the last batch committed.
    pub busy_seconds: f64,
}

pub struct Pipeline {
    pub config: ConsumerConfig,
    pub consumer: Arc<StreamConsumer>,
    pub sink: Sink,
    pub store: Arc<dyn StateStore>,
    pub decoder: Arc<AlertDecoder>,
    pub metrics: PipelineMetrics,
    pub encoder: EventEncoder,
    /// The classifier; `None` runs the stream without classification.
    pub model: Option<ModelHandle>,
    /// Store the next batch while the previous one is classified and published (the default);
    /// `false` finishes each batch before polling the next, as before (for measurements:
    /// `DEEPRUBIN_PIPELINE_OVERLAP=0`).
    pub overlap: bool,
}

/// Stored batches that may wait for the finish stage (classify, publish, commit) while the intake
/// stage stores the next one.
pub const PIPELINE_DEPTH: usize = 1;

/// A batch that is stored and waits to be classified, published and committed.
struct StoredBatch {
    /// Every message polled in the batch (commit covers all of them).
    messages: Arc<Vec<OwnedMessage>>,
    /// The stored alerts, in message order.
    alerts: Vec<Alert>,
    /// For each stored alert, the index of its message in `messages`.
    sources: Vec<usize>,
    /// When the batch's processing began (the events' `ingest_ms`).
    ingest_start: i64,
    /// When the run's first message arrived (for `busy_seconds`).
    first_message: Instant,
}

/// A decoded message: its alerts, or why it is a dead letter.
enum Decoded {
    Alerts(Vec<Alert>),
    Dead { kind: &'static str, reason: String },
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Pipeline {
    /// Runs until shutdown or idleness; returns what it did.
    pub async fn run(
        &self,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(StopReason, RunTotals), PipelineError> {
        let (queue, stored) = mpsc::channel::<StoredBatch>(PIPELINE_DEPTH);
        // Without overlap the finish stage reports each finished batch and the intake waits.
        let (done_tx, done_rx) = mpsc::channel::<()>(1);
        let (done_tx, done_rx) = if self.overlap {
            (None, None)
        } else {
            (Some(done_tx), Some(done_rx))
        };
        // Both stages run concurrently on this task (their heavy work is on the blocking pool, the
        // inference thread and the database). An error in either ends both; nothing the failed
        // stage had not committed is lost, it is redelivered.
        let ((reason, mut totals), finished) = tokio::try_join!(
            self.intake(queue, done_rx, shutdown.clone()),
            self.finish_all(stored, done_tx, shutdown.clone())
        )?;
        totals.published = finished.published;
        totals.anomalies = finished.anomalies;
        totals.busy_seconds = finished.busy_seconds;
        tracing::info!(?reason, ?totals, "consumer stopping");
        Ok((reason, totals))
    }

    /// The intake stage: polls batches, decodes, dead-letters and stores them, and queues each for
    /// the finish stage. Returns when shutdown or idleness stops polling; dropping the queue then
    /// lets the finish stage complete the batches already queued.
    async fn intake(
        &self,
        queue: mpsc::Sender<StoredBatch>,
        mut finished: Option<mpsc::Receiver<()>>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(StopReason, RunTotals), PipelineError> {
        let cfg = &self.config.pipeline;
        let max_wait = Duration::from_millis(cfg.max_batch_wait_ms);
        let idle_limit = cfg.exit_when_idle_secs.map(Duration::from_secs_f64);
        let mut totals = RunTotals::default();
        let mut last_message = Instant::now();
        let started = Instant::now();
        let mut first_message: Option<Instant> = None;
        loop {
            let mut batch: Vec<OwnedMessage> = Vec::with_capacity(cfg.batch_size);
            let mut deadline: Option<Instant> = None;
            let mut stop = None;
            while batch.len() < cfg.batch_size {
                let wait = match deadline {
                    Some(d) => d.saturating_duration_since(Instant::now()),
                    None => idle_limit
                        .map(|l| l.saturating_sub(last_message.elapsed()))
                        .unwrap_or(Duration::from_secs(3600)),
                };
                tokio::select! {
                    biased;
                    _ = shutdown.changed() => { stop = Some(StopReason::Shutdown); break; }
                    polled = tokio::time::timeout(wait, self.consumer.recv()) => match polled {
                        Ok(Ok(message)) => {
                            if first_message.is_none() {
                                tracing::info!(after = ?started.elapsed(), "first message");
                                first_message = Some(Instant::now());
                            }
                            batch.push(message.detach());
                            last_message = Instant::now();
                            deadline.get_or_insert_with(|| Instant::now() + max_wait);
                        }
                        Ok(Err(e)) => {
                            // Broker trouble while polling: librdkafka reconnects by itself.
                            tracing::warn!(error = %e, "poll failed");
                            self.metrics.retried("poll");
                            tokio::time::sleep(Duration::from_millis(cfg.retry_initial_ms)).await;
                        }
                        Err(_) if batch.is_empty() => {
                            // Idle means caught up on assigned partitions: the time spent joining
                            // the group does not count.
                            if !self.has_assignment() {
                                last_message = Instant::now();
                            } else if idle_limit.is_some_and(|l| last_message.elapsed() >= l) {
                                stop = Some(StopReason::Idle);
                            }
                            break;
                        }
                        Err(_) => break,
                    }
                }
            }
            if !batch.is_empty() {
                let first = first_message.unwrap_or_else(Instant::now);
                let (stored, done) = self.store_batch(batch, first, &mut shutdown).await?;
                totals.consumed += done.consumed;
                totals.stored += done.stored;
                totals.messages_stored += done.messages_stored;
                totals.dead_lettered += done.dead_lettered;
                let started = Instant::now();
                // Waits while the finish stage is busy with the previous batches (back-pressure).
                // A closed queue means the finish stage failed; its error is the one reported.
                if queue.send(stored).await.is_err() {
                    return Ok((StopReason::Shutdown, totals));
                }
                if let Some(finished) = finished.as_mut()
                    && finished.recv().await.is_none()
                {
                    return Ok((StopReason::Shutdown, totals));
                }
                self.metrics.stage("queue", started.elapsed().as_secs_f64());
            }
            if *shutdown.borrow() {
                stop = Some(StopReason::Shutdown);
            }
            if let Some(reason) = stop {
                return Ok((reason, totals));
            }
        }
    }

    /// The finish stage: classifies, publishes and commits the queued batches in order, until the
    /// intake stage stops and the queue is empty.
    async fn finish_all(
        &self,
        mut stored: mpsc::Receiver<StoredBatch>,
        finished: Option<mpsc::Sender<()>>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<RunTotals, PipelineError> {
        let mut totals = RunTotals::default();
        while let Some(batch) = stored.recv().await {
            let first_message = batch.first_message;
            let done = self.finish(batch, &mut shutdown).await?;
            totals.published += done.published;
            totals.anomalies += done.anomalies;
            totals.busy_seconds = first_message.elapsed().as_secs_f64();
            if let Some(finished) = &finished {
                let _ = finished.send(()).await;
            }
        }
        Ok(totals)
    }

    /// Decodes, dead-letters and stores one batch; returns what the finish stage needs and the
    /// intake counts (`consumed`, `messages_stored`, `stored`, `dead_lettered`).
    async fn store_batch(
        &self,
        batch: Vec<OwnedMessage>,
        first_message: Instant,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(StoredBatch, RunTotals), PipelineError> {
        let survey = self.config.input.survey;
        let label = survey.as_str();
        let ingest_start = now_ms();
        self.metrics.consumed(label, batch.len());
        self.metrics.batch(batch.len());

        let started = Instant::now();
        // Shared with the decoding task, so payloads are decoded where they lie, not copied.
        let batch = Arc::new(batch);
        let decoded = self.decode(&batch, survey, shutdown).await?;
        self.metrics
            .stage("decode", started.elapsed().as_secs_f64());

        // Dead letters first: they are final for their message.
        let mut totals = RunTotals {
            consumed: batch.len() as u64,
            ..RunTotals::default()
        };
        let started = Instant::now();
        for (message, outcome) in batch.iter().zip(&decoded) {
            if let Decoded::Dead { kind, reason } = outcome {
                tracing::warn!(
                    topic = message.topic(),
                    partition = message.partition(),
                    offset = message.offset(),
                    kind,
                    reason,
                    "dead letter"
                );
                self.dead_letter(message, kind, reason, shutdown).await?;
                self.metrics.dead_lettered(label, kind);
                totals.dead_lettered += 1;
            }
        }
        self.metrics
            .stage("dead_letter", started.elapsed().as_secs_f64());

        // The batch's alerts, contiguous so the store takes them without a copy, and the message
        // each came from.
        let mut alerts: Vec<Alert> = Vec::new();
        let mut sources: Vec<usize> = Vec::new();
        let mut decoded_messages = 0u64;
        for (index, outcome) in decoded.into_iter().enumerate() {
            if let Decoded::Alerts(list) = outcome {
                decoded_messages += 1;
                sources.extend(std::iter::repeat_n(index, list.len()));
                alerts.extend(list);
            }
        }

        let started = Instant::now();
        let rejected = self.store(&alerts, shutdown).await?;
        self.metrics.stage("store", started.elapsed().as_secs_f64());
        // A message with an alert the store refused goes to the dead-letter topic whole.
        let mut refused_messages = BTreeMap::new();
        for (index, reason) in &rejected {
            let Some(message) = sources.get(*index).and_then(|&m| batch.get(m)) else {
                continue;
            };
            refused_messages
                .entry((message.topic(), message.partition(), message.offset()))
                .or_insert((message, reason));
        }
        for (message, reason) in refused_messages.values() {
            self.dead_letter(message, "store_rejected", reason, shutdown)
                .await?;
            self.metrics.dead_lettered(label, "store_rejected");
            totals.dead_lettered += 1;
        }
        totals.messages_stored = decoded_messages - refused_messages.len() as u64;
        let (alerts, sources): (Vec<Alert>, Vec<usize>) = alerts
            .into_iter()
            .zip(sources)
            .enumerate()
            .filter(|(i, _)| !rejected.contains_key(i))
            .map(|(_, pair)| pair)
            .unzip();
        totals.stored = alerts.len() as u64;
        self.metrics.stored(label, alerts.len());
        let stored = StoredBatch {
            messages: batch,
            alerts,
            sources,
            ingest_start,
            first_message,
        };
        Ok((stored, totals))
    }

    /// Classifies a stored batch, publishes its events while recording its classification rows,
    /// then commits its offsets; returns `published` and `anomalies`.
    async fn finish(
        &self,
        batch: StoredBatch,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<RunTotals, PipelineError> {
        let label = self.config.input.survey.as_str();
        let StoredBatch {
            messages,
            alerts,
            sources,
            ingest_start,
            ..
        } = batch;
        let mut totals = RunTotals::default();

        let started = Instant::now();
        let predictions = match &self.model {
            Some(model) => self.classify(&alerts, model, shutdown).await?,
            None => Vec::new(),
        };
        self.metrics
            .stage("classify", started.elapsed().as_secs_f64());
        let classified_ms = now_ms();

        let started = Instant::now();
        let mut records = Vec::with_capacity(alerts.len());
        let mut anomalies = Vec::new();
        let mut input_times = Vec::with_capacity(alerts.len());
        for (i, (alert, source)) in alerts.iter().zip(&sources).enumerate() {
            let input_ms = messages
                .get(*source)
                .and_then(|m| m.timestamp().to_millis());
            let mut event = ObjectUpdate::for_alert(alert, input_ms, ingest_start);
            let mut anomalous = false;
            if let (Some(model), Some(prediction)) = (&self.model, predictions.get(i)) {
                event.model_name = Some(model.name.clone());
                event.model_version = Some(model.version.clone());
                event.probabilities = prediction.probability_map();
                event.top_level = prediction.top_level_map();
                event.class = Some(prediction.class.clone());
                event.uncertainty = Some(f64::from(prediction.uncertainty));
                event.anomaly_score = Some(f64::from(prediction.anomaly_score));
                event.classified_ms = Some(classified_ms);
                anomalous =
                    f64::from(prediction.anomaly_score) > self.config.classifier.anomaly_threshold;
            }
            if event.is_solar_system_object() {
                // A known asteroid is not one of the classes, nor the unknown the anomaly topic
                // is for: its event names it, and it stays off the anomaly topic.
                anomalous = false;
                self.metrics.solar_system_alert(&event.survey);
            }
            event.published_ms = now_ms();
            input_times.push(input_ms);
            let record = OutputRecord {
                key: event.object_id.clone(),
                payload: self.encoder.encode(&event)?,
            };
            if anomalous {
                anomalies.push(OutputRecord {
                    key: record.key.clone(),
                    payload: record.payload.clone(),
                });
            }
            records.push(record);
        }
        // The classification rows and the events are independent; both are done before the
        // commit, so a crash in between redelivers the batch and the replay fills in what is
        // missing (rows are unique per object, source and model version).
        let rows: Vec<_> = match &self.model {
            Some(model) => alerts
                .iter()
                .zip(&predictions)
                .map(|(alert, p)| classify::new_classification(alert, model, p))
                .collect(),
            None => Vec::new(),
        };
        let mut record_shutdown = shutdown.clone();
        let mut anomaly_shutdown = shutdown.clone();
        tokio::try_join!(
            self.record_classifications(&rows, &mut record_shutdown),
            async {
                self.publish(&self.config.kafka.output_topic, &records, shutdown)
                    .await?;
                let published_at = now_ms();
                for input_ms in input_times.iter().flatten() {
                    self.metrics
                        .end_to_end((published_at - input_ms).max(0) as f64 / 1000.0);
                }
                Ok::<(), PipelineError>(())
            },
            async {
                if anomalies.is_empty() {
                    return Ok(());
                }
                self.publish(
                    &self.config.classifier.anomalies_topic,
                    &anomalies,
                    &mut anomaly_shutdown,
                )
                .await
            },
        )?;
        totals.published = records.len() as u64;
        totals.anomalies = anomalies.len() as u64;
        self.metrics.published(label, records.len());
        self.metrics
            .stage("publish", started.elapsed().as_secs_f64());

        let started = Instant::now();
        self.commit(&messages[..], shutdown).await?;
        self.metrics
            .stage("commit", started.elapsed().as_secs_f64());
        Ok(totals)
    }

    /// Decodes on the blocking pool (CPU work off the async workers). Transient failures (the
    /// schema registry is down) are retried; everything else becomes a dead letter.
    async fn decode(
        &self,
        batch: &Arc<Vec<OwnedMessage>>,
        survey: Survey,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Vec<Decoded>, PipelineError> {
        let mut backoff = self.backoff();
        loop {
            let messages = Arc::clone(batch);
            let decoder = Arc::clone(&self.decoder);
            let result = tokio::task::spawn_blocking(move || {
                messages
                    .iter()
                    .map(|m| match m.payload() {
                        None => Err(DecodeError::NotAvro("empty message (no payload)".into())),
                        Some(bytes) => decoder.decode(bytes),
                    })
                    .collect::<Vec<_>>()
            })
            .await;
            let results = match result {
                Ok(r) => r,
                Err(join) => {
                    // A panic in the decoder is a bug; keep the process up, but say it loudly.
                    tracing::error!(error = %join, "decoder task failed");
                    vec![Err(DecodeError::Corrupt("decoder task failed".into())); batch.len()]
                }
            };
            if let Some(e) = results
                .iter()
                .find_map(|r| r.as_ref().err().filter(|e| e.is_transient()))
            {
                tracing::warn!(error = %e, "transient decode failure; retrying the batch");
                self.metrics.retried("decode");
                self.metrics.set_healthy(false);
                backoff.wait(shutdown).await?;
                continue;
            }
            return Ok(results
                .into_iter()
                .map(|r| match r {
                    Ok(alerts) => match alerts.iter().find(|a| a.survey != survey) {
                        Some(other) => Decoded::Dead {
                            kind: "unexpected_survey",
                            reason: format!("a {} alert on a {} stream", other.survey, survey),
                        },
                        None => Decoded::Alerts(alerts),
                    },
                    Err(e) => Decoded::Dead {
                        kind: e.kind(),
                        reason: e.to_string(),
                    },
                })
                .collect());
        }
    }

    /// Stores the batch, retrying transient failures until the store answers. A batch the store
    /// refuses for good is split: the alerts it refuses alone are returned (index → reason).
    async fn store(
        &self,
        batch: &[Alert],
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<BTreeMap<usize, String>, PipelineError> {
        let mut rejected = BTreeMap::new();
        if batch.is_empty() {
            return Ok(rejected);
        }
        match self.retry_store(batch, shutdown).await? {
            Ok(()) => return Ok(rejected),
            Err(e) => tracing::warn!(error = %e, "store refused the batch; storing alert by alert"),
        }
        for (i, alert) in batch.iter().enumerate() {
            if let Err(e) = self
                .retry_store(std::slice::from_ref(alert), shutdown)
                .await?
            {
                rejected.insert(i, e.to_string());
            }
        }
        Ok(rejected)
    }

    /// Ok(Ok) stored; Ok(Err) refused for a non-transient reason; Err only on shutdown.
    async fn retry_store(
        &self,
        batch: &[Alert],
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Result<(), store::StoreError>, PipelineError> {
        let mut backoff = self.backoff();
        loop {
            match self.store.upsert_alerts(batch).await {
                Ok(_) => {
                    self.metrics.set_healthy(true);
                    return Ok(Ok(()));
                }
                Err(e) if e.is_transient() => {
                    tracing::warn!(error = %e, "store unavailable; retrying");
                    self.metrics.retried("store");
                    self.metrics.set_healthy(false);
                    backoff.wait(shutdown).await?;
                }
                Err(e) => return Ok(Err(e)),
            }
        }
    }

    async fn publish(
        &self,
        topic: &str,
        records: &[OutputRecord],
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), PipelineError> {
        let mut backoff = self.backoff();
        loop {
            match self.sink.publish(topic, records).await {
                Ok(()) => {
                    self.metrics.set_healthy(true);
                    return Ok(());
                }
                Err(e) => {
                    tracing::warn!(error = %e, topic, "publish failed; retrying");
                    self.metrics.retried("publish");
                    self.metrics.set_healthy(false);
                    backoff.wait(shutdown).await?;
                }
            }
        }
    }

    async fn dead_letter(
        &self,
        message: &OwnedMessage,
        kind: &str,
        reason: &str,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), PipelineError> {
        let topic = &self.config.kafka.dead_letter_topic;
        let mut backoff = self.backoff();
        loop {
            match self.sink.dead_letter(topic, message, kind, reason).await {
                Ok(()) => return Ok(()),
                Err(e) => {
                    tracing::warn!(error = %e, topic, "dead-letter publish failed; retrying");
                    self.metrics.retried("dead_letter");
                    backoff.wait(shutdown).await?;
                }
            }
        }
    }

    /// Classifies every stored alert from its object's stored light curve (one batched read);
    /// returns the predictions in alert order.
    async fn classify(
        &self,
        alerts: &[Alert],
        model: &ModelHandle,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Vec<Prediction>, PipelineError> {
        if alerts.is_empty() {
            return Ok(Vec::new());
        }
        let keys = classify::object_keys(alerts.iter());
        let mut backoff = self.backoff();
        let curves = loop {
            match self.store.light_curves(&keys).await {
                Ok(curves) => break curves,
                Err(e) if e.is_transient() => {
                    tracing::warn!(error = %e, "store unavailable reading light curves; retrying");
                    self.metrics.retried("light_curves");
                    self.metrics.set_healthy(false);
                    backoff.wait(shutdown).await?;
                }
                Err(e) => {
                    tracing::error!(error = %e, "reading light curves failed; classifying the packets' own history");
                    break Vec::new();
                }
            }
        };
        let inputs = classify::curves_for_alerts(alerts.iter(), &curves);
        let started = Instant::now();
        let n = inputs.len();
        let predictions = model.classify(inputs).await?;
        self.metrics.inference(n, started.elapsed().as_secs_f64());
        for p in &predictions {
            self.metrics
                .classified(&p.class, f64::from(p.anomaly_score));
        }
        Ok(predictions)
    }

    /// Records one classification row per alert (one batched write), retrying while the store
    /// is unavailable.
    async fn record_classifications(
        &self,
        rows: &[store::NewClassification],
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), PipelineError> {
        if rows.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let mut backoff = self.backoff();
        loop {
            match self.store.record_classifications(rows).await {
                Ok(_) => break,
                Err(e) if e.is_transient() => {
                    tracing::warn!(error = %e, "store unavailable recording classifications; retrying");
                    self.metrics.retried("record_classifications");
                    self.metrics.set_healthy(false);
                    backoff.wait(shutdown).await?;
                }
                // Not transient (a bug or a schema problem): the events still carry the result.
                Err(e) => {
                    tracing::error!(error = %e, "recording classifications failed");
                    break;
                }
            }
        }
        self.metrics
            .stage("record", started.elapsed().as_secs_f64());
        Ok(())
    }

    /// Commits, per partition, the offset after the last message of the batch.
    async fn commit(
        &self,
        batch: &[OwnedMessage],
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), PipelineError> {
        let mut next: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for m in batch {
            let entry = next
                .entry((m.topic().to_owned(), m.partition()))
                .or_insert(0);
            *entry = (*entry).max(m.offset() + 1);
        }
        let mut offsets = TopicPartitionList::new();
        for ((topic, partition), offset) in &next {
            offsets.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
        }
        let mut backoff = self.backoff();
        loop {
            let consumer = Arc::clone(&self.consumer);
            let tpl = offsets.clone();
            let result =
                tokio::task::spawn_blocking(move || consumer.commit(&tpl, CommitMode::Sync)).await;
            match result {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "commit failed; retrying");
                    self.metrics.retried("commit");
                    backoff.wait(shutdown).await?;
                }
                Err(e) => {
                    tracing::error!(error = %e, "commit task failed");
                    backoff.wait(shutdown).await?;
                }
            }
        }
    }

    fn has_assignment(&self) -> bool {
        self.consumer.assignment().is_ok_and(|a| a.count() > 0)
    }

    fn backoff(&self) -> Backoff {
        Backoff::new(
            Duration::from_millis(self.config.pipeline.retry_initial_ms),
            Duration::from_millis(self.config.pipeline.retry_max_ms),
        )
    }
}
