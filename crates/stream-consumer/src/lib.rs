//! The streaming service: a Kafka consumer group that decodes alerts, stores them, publishes one
//! object-update event per alert and commits offsets only after both succeeded. Bad messages go to
//! a dead-letter topic; outages are retried without advancing offsets.

pub mod bench;
pub mod classify;
pub mod config;
pub mod embedded;
pub mod event;
pub mod features;
mod kafka;
mod lag;
pub mod metrics;
mod pipeline;
pub mod registry;
pub mod replay;
mod retry;
mod sink;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use alert_model::AlertDecoder;
use alert_model::schema_source::{
    FallbackSources, SchemaDirectory, SchemaRegistry, WriterSchemaSource,
};
use rdkafka::consumer::Consumer;
use store::{PgConfig, PgStore, StateStore};
use tokio::sync::watch;

pub use config::{ConsumerConfig, OutputFormat};
pub use event::{EventEncoder, OBJECT_UPDATE_SCHEMA, ObjectUpdate, decode_event};
pub use kafka::{consumer as kafka_consumer, ensure_topics, producer as kafka_producer};
pub use metrics::PipelineMetrics;
pub use pipeline::{Pipeline, PipelineError, RunTotals, StopReason, now_ms};
pub use sink::headers as dead_letter_headers;

#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("Kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error("store: {0}")]
    Store(#[from] store::StoreError),
    #[error("metrics: {0}")]
    Metrics(String),
    #[error(transparent)]
    Classify(#[from] classify::ClassifyError),
    #[error(transparent)]
    Registry(#[from] registry::RegistryError),
    #[error("invalid --metrics-listen address {0:?}")]
    MetricsAddress(String),
}

/// The Rubin/ZTF decoder the configuration asks for.
pub fn decoder(config: &ConsumerConfig) -> AlertDecoder {
    let mut sources: Vec<Box<dyn WriterSchemaSource>> = Vec::new();
    if let Some(url) = &config.input.schema_registry {
        let timeout = Duration::from_millis(config.input.schema_registry_timeout_ms);
        sources.push(Box::new(SchemaRegistry::new(url.clone(), timeout)));
    }
    if let Some(dir) = &config.input.schema_dir {
        sources.push(Box::new(SchemaDirectory::new(dir.clone())));
    }
    let decoder = AlertDecoder::new();
    if sources.is_empty() {
        decoder
    } else {
        decoder.with_schema_source(Arc::new(FallbackSources(sources)))
    }
}

/// Connects to Postgres, retrying while it is unreachable (the process stays up and unhealthy).
async fn connect_store(
    config: &ConsumerConfig,
    metrics: &PipelineMetrics,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<PgStore, ConsumeError> {
    let pg = PgConfig {
        database_url: config.store.database_url.clone(),
        max_connections: config.store.max_connections,
        statement_timeout: Duration::from_millis(config.store.statement_timeout_ms),
        ..PgConfig::default()
    };
    let mut backoff = retry::Backoff::new(
        Duration::from_millis(config.pipeline.retry_initial_ms),
        Duration::from_millis(config.pipeline.retry_max_ms),
    );
    loop {
        match PgStore::connect(&pg).await {
            Ok(store) => {
                // A schema that is not migrated is a deployment error: say so and stop.
                store.ping().await?;
                metrics.set_healthy(true);
                return Ok(store);
            }
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, "store unreachable at start; retrying");
                metrics.set_healthy(false);
                backoff.wait(shutdown).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The classifier the configuration asks for, on its inference thread (`None` when disabled).
pub fn load_model(config: &ConsumerConfig) -> Result<Option<classify::ModelHandle>, ConsumeError> {
    let c = &config.classifier;
    if !c.enabled {
        return Ok(None);
    }
    let dir = classify::resolve_model_dir(c.model_dir.as_deref())?;
    let model = classify::ModelHandle::load(&dir, &c.device, c.mc_samples, c.max_batch)?;
    tracing::info!(model = %model.name, version = %model.version, dir = %dir.display(), device = %c.device, "classifier loaded");
    Ok(Some(model))
}

/// Runs `deeprubin consume` with a store from the configuration, until shutdown or idleness.
pub async fn run(
    config: ConsumerConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<(StopReason, RunTotals), ConsumeError> {
    let metrics = PipelineMetrics::new().map_err(|e| ConsumeError::Metrics(e.to_string()))?;
    let mut wait_shutdown = shutdown.clone();
    let store: Arc<dyn StateStore> =
        Arc::new(connect_store(&config, &metrics, &mut wait_shutdown).await?);
    run_with_store(config, store, metrics, shutdown).await
}

/// Runs the pipeline against a given store (the embedded mode and tests).
pub async fn run_with_store(
    config: ConsumerConfig,
    store: Arc<dyn StateStore>,
    metrics: PipelineMetrics,
    shutdown: watch::Receiver<bool>,
) -> Result<(StopReason, RunTotals), ConsumeError> {
    config.validate()?;
    let k = &config.kafka;
    let mut topics_to_create = vec![k.output_topic.as_str(), k.dead_letter_topic.as_str()];
    if config.classifier.enabled {
        topics_to_create.push(&config.classifier.anomalies_topic);
    }
    ensure_topics(
        &k.brokers,
        &k.options,
        &topics_to_create,
        k.created_topic_partitions,
    )
    .await?;
    // The model first: a consumer that joined the group before it could classify would hold its
    // partitions idle while the model loads.
    let model = load_model(&config)?;
    let consumer = Arc::new(kafka::consumer(&k.brokers, &k.group, &k.options)?);
    let topics: Vec<&str> = k.topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topics)?;
    let sink = sink::Sink::new(kafka::producer(&k.brokers, &k.options)?);
    let output_schema_id = match (
        &config.pipeline.output_schema_registry,
        config.pipeline.output_format,
    ) {
        (Some(registry), OutputFormat::Avro) => {
            let subject = format!("{}-value", config.kafka.output_topic);
            let timeout = Duration::from_millis(config.input.schema_registry_timeout_ms);
            let registry = registry.clone();
            let id = tokio::task::spawn_blocking(move || {
                registry::register_schema(&registry, &subject, OBJECT_UPDATE_SCHEMA, timeout)
            })
            .await
            .map_err(|e| ConsumeError::Metrics(e.to_string()))??;
            tracing::info!(id, "output schema registered");
            Some(id)
        }
        _ => config.pipeline.output_schema_id,
    };

    if let Some(listen) = &config.metrics.listen {
        let addr: SocketAddr = listen
            .parse()
            .map_err(|_| ConsumeError::MetricsAddress(listen.clone()))?;
        let mut stop = shutdown.clone();
        let bound = metrics::serve(addr, metrics.clone(), async move {
            let _ = stop.changed().await;
        })
        .await
        .map_err(|e| ConsumeError::Metrics(e.to_string()))?;
        tracing::info!(%bound, "metrics at /metrics, health at /healthz");
    }
    let lag_task = lag::spawn(
        Arc::clone(&consumer),
        metrics.clone(),
        Duration::from_secs_f64(config.metrics.lag_interval_secs.max(0.5)),
        shutdown.clone(),
    );

    let pipeline = Pipeline {
        encoder: EventEncoder {
            format: config.pipeline.output_format,
            schema_id: output_schema_id,
        },
        decoder: Arc::new(decoder(&config)),
        config,
        consumer,
        sink,
        store,
        metrics,
        model,
        overlap: std::env::var("DEEPRUBIN_PIPELINE_OVERLAP").map_or(true, |v| v.trim() != "0"),
    };
    tracing::info!(topics = ?pipeline.config.kafka.topics, group = %pipeline.config.kafka.group, "consuming");
    let result = pipeline.run(shutdown).await;
    lag_task.abort();
    Ok(result?)
}

/// A shutdown signal that turns true on SIGINT or SIGTERM.
pub fn shutdown_on_signals() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown requested: finishing the in-flight batch");
        let _ = tx.send(true);
    });
    rx
}
