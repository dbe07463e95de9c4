//! Prometheus metrics of the pipeline (all named `deeprubin_*`) and the `/metrics` + `/healthz`
//! endpoint. Each observable happening is one method here, so names live in one place.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Latency buckets from 1 ms to 30 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone)]
pub struct PipelineMetrics {
    pub registry: Registry,
    consumed: IntCounterVec,
    stored: IntCounterVec,
    published: IntCounterVec,
    dead_lettered: IntCounterVec,
    decode_errors: IntCounterVec,
    retries: IntCounterVec,
    batch_size: Histogram,
    stage_seconds: HistogramVec,
    end_to_end_seconds: Histogram,
    consumer_lag: IntGaugeVec,
    inference_batch_size: Histogram,
    inference_seconds: Histogram,
    classifications: IntCounterVec,
    solar_system: IntCounterVec,
    anomaly_score: Histogram,
    healthy_gauge: IntGauge,
    healthy: Arc<AtomicBool>,
}

fn counter(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntCounterVec> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(c.clone()))?;
    Ok(c)
}

impl PipelineMetrics {
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let batch_size = Histogram::with_opts(
            HistogramOpts::new("deeprubin_batch_size", "Messages per processed batch")
                .buckets(prometheus::exponential_buckets(1.0, 2.0, 14)?),
        )?;
        registry.register(Box::new(batch_size.clone()))?;
        let stage_seconds = HistogramVec::new(
            HistogramOpts::new(
                "deeprubin_stage_seconds",
                "Time per batch in each pipeline stage",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["stage"],
        )?;
        registry.register(Box::new(stage_seconds.clone()))?;
        let end_to_end_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "deeprubin_end_to_end_seconds",
                "From the input message's Kafka timestamp to the output event's publication",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        )?;
        registry.register(Box::new(end_to_end_seconds.clone()))?;
        let consumer_lag = IntGaugeVec::new(
            Opts::new(
                "deeprubin_consumer_lag",
                "High watermark minus the committed position",
            ),
            &["topic", "partition"],
        )?;
        registry.register(Box::new(consumer_lag.clone()))?;
        let inference_batch_size = Histogram::with_opts(
            HistogramOpts::new(
                "deeprubin_inference_batch_size",
                "Light curves per inference call",
            )
            .buckets(prometheus::exponential_buckets(1.0, 2.0, 12)?),
        )?;
        registry.register(Box::new(inference_batch_size.clone()))?;
        let inference_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "deeprubin_inference_seconds",
                "Time of one inference call (all its forward passes)",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        )?;
        registry.register(Box::new(inference_seconds.clone()))?;
        let anomaly_score = Histogram::with_opts(
            HistogramOpts::new(
                "deeprubin_anomaly_score",
                "Anomaly scores of classified updates",
            )
            .buckets(prometheus::linear_buckets(0.05, 0.05, 19)?),
        )?;
        registry.register(Box::new(anomaly_score.clone()))?;
        let healthy_gauge =
            IntGauge::new("deeprubin_healthy", "1 when the store and broker answer")?;
        registry.register(Box::new(healthy_gauge.clone()))?;
        healthy_gauge.set(1);
        Ok(PipelineMetrics {
            consumed: counter(
                &registry,
                "deeprubin_alerts_consumed_total",
                "Input messages read",
                &["survey"],
            )?,
            stored: counter(
                &registry,
                "deeprubin_alerts_stored_total",
                "Alerts written to the store",
                &["survey"],
            )?,
            published: counter(
                &registry,
                "deeprubin_alerts_published_total",
                "Output events delivered",
                &["survey"],
            )?,
            dead_lettered: counter(
                &registry,
                "deeprubin_alerts_dead_lettered_total",
                "Messages sent to the dead-letter topic",
                &["survey"],
            )?,
            decode_errors: counter(
                &registry,
                "deeprubin_decode_errors_total",
                "Messages that did not decode, by error kind",
                &["kind"],
            )?,
            classifications: counter(
                &registry,
                "deeprubin_classifications_total",
                "Classified updates by predicted class",
                &["class"],
            )?,
            solar_system: counter(
                &registry,
                "deeprubin_solar_system_alerts_total",
                "Alerts whose triggering detection is a known asteroid or comet, by survey",
                &["survey"],
            )?,
            retries: counter(
                &registry,
                "deeprubin_retries_total",
                "Retries after a transient failure, by operation",
                &["operation"],
            )?,
            registry,
            batch_size,
            stage_seconds,
            end_to_end_seconds,
            consumer_lag,
            inference_batch_size,
            inference_seconds,
            anomaly_score,
            healthy_gauge,
            healthy: Arc::new(AtomicBool::new(true)),
        })
    }

    pub fn consumed(&self, survey: &str, n: usize) {
        self.consumed.with_label_values(&[survey]).inc_by(n as u64);
    }

    pub fn stored(&self, survey: &str, n: usize) {
        self.stored.with_label_values(&[survey]).inc_by(n as u64);
    }

    pub fn solar_system_alert(&self, survey: &str) {
        self.solar_system.with_label_values(&[survey]).inc();
    }

    pub fn published(&self, survey: &str, n: usize) {
        self.published.with_label_values(&[survey]).inc_by(n as u64);
    }

    pub fn dead_lettered(&self, survey: &str, kind: &str) {
        self.dead_lettered.with_label_values(&[survey]).inc();
        self.decode_errors.with_label_values(&[kind]).inc();
    }

    pub fn retried(&self, operation: &str) {
        self.retries.with_label_values(&[operation]).inc();
    }

    pub fn batch(&self, size: usize) {
        self.batch_size.observe(size as f64);
    }

    pub fn stage(&self, stage: &str, seconds: f64) {
        self.stage_seconds
            .with_label_values(&[stage])
            .observe(seconds);
    }

    pub fn end_to_end(&self, seconds: f64) {
        self.end_to_end_seconds.observe(seconds);
    }

    pub fn inference(&self, batch: usize, seconds: f64) {
        self.inference_batch_size.observe(batch as f64);
        self.inference_seconds.observe(seconds);
    }

    pub fn classified(&self, class: &str, anomaly_score: f64) {
        self.classifications.with_label_values(&[class]).inc();
        self.anomaly_score.observe(anomaly_score);
    }

    pub fn lag(&self, topic: &str, partition: i32, lag: i64) {
        self.consumer_lag
            .with_label_values(&[topic, &partition.to_string()])
            .set(lag);
    }

    pub fn set_healthy(&self, healthy: bool) {
        self.healthy.store(healthy, Ordering::Relaxed);
        self.healthy_gauge.set(i64::from(healthy));
    }

    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding our own registry into a Vec cannot fail short of a bug; an empty page says so.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Serves `/metrics` and `/healthz` (503 while the store or broker is failing) until `shutdown`.
pub async fn serve(
    addr: SocketAddr,
    metrics: PipelineMetrics,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let health = metrics.clone();
    let app = Router::new()
        .route(
            "/metrics",
            get(move || {
                let m = metrics.clone();
                async move { m.render() }
            }),
        )
        .route(
            "/healthz",
            get(move || {
                let m = health.clone();
                async move {
                    if m.is_healthy() {
                        (StatusCode::OK, "ok")
                    } else {
                        (
                            StatusCode::SERVICE_UNAVAILABLE,
                            "store or broker unavailable",
                        )
                    }
                }
            }),
        );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "metrics endpoint stopped");
        }
    });
    Ok(bound)
}
