//! The command-line surface: one subcommand per job.

use std::path::PathBuf;

use alert_model::Survey;
use clap::{Args, Parser, Subcommand};
use stream_consumer::OutputFormat;

#[derive(Debug, Parser)]
#[command(
    name = "deeprubin",
    version,
    about = "DeepRubin-Explorer: a real-time alert broker for ZTF and Rubin"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole broker on the embedded default: simulated alerts, in-process store, the shipped
    /// model and the API on localhost; prints a summary and exits (or keeps serving with --keep).
    Demo(crate::commands::demo::DemoArgs),
    /// Decode alert files (or folders of *.avro) and print one JSON line per alert.
    Inspect(InspectArgs),
    /// Write the light curves alert files carry as CSV (classify/evaluate input), with SIMBAD
    /// labels where a broker cross-matched the alerts.
    AlertsToCsv(crate::commands::alerts_to_csv::AlertsToCsvArgs),
    /// Simulate labelled light curves (CSV) and the alert packets the surveys would send.
    Simulate(SimulateArgs),
    /// Apply the database migrations.
    Migrate(DatabaseArgs),
    /// Serve the HTTP query API over the store.
    Serve(ServeArgs),
    /// Decode alert files and store them (backfill).
    IngestFiles(IngestArgs),
    /// Load generated objects into a store and measure write rate, read latency and size.
    BenchStore(BenchStoreArgs),
    /// Consume alerts from Kafka: store, publish object updates, dead-letter bad messages.
    Consume(Box<ConsumeArgs>),
    /// Produce alert files to a Kafka topic as the surveys do.
    Replay(ReplayArgs),
    /// Measure the stream end to end (real broker and Postgres): alerts/s and latency percentiles.
    BenchStream(BenchStreamArgs),
    /// Train a light-curve classifier (simulated or CSV light curves) and log the run.
    Train(crate::commands::train::TrainArgs),
    /// Evaluate a trained classifier: metrics JSON and confusion matrix.
    Evaluate(crate::commands::evaluate::EvaluateArgs),
    /// Classify light curves from a CSV file (one JSON line per object).
    Classify(crate::commands::classify::ClassifyArgs),
    /// Fetch ZTF light curves and ALeRCE's classifications from the ALeRCE API.
    Fetch(crate::commands::fetch::FetchArgs),
    /// Compare SN Ia and SN II (or any classes): rise and decline times and colours, with figures.
    Eda(crate::commands::eda::EdaArgs),
}

/// Where Rubin writer schemas come from (Confluent-framed messages name only a schema id).
#[derive(Debug, Clone, Args)]
pub struct SchemaArgs {
    /// A directory laid out like lsst-alert-packet's schema tree (<major>/<minor>/lsst.v*.avsc).
    #[arg(long, env = "DEEPRUBIN_SCHEMA_DIR")]
    pub schema_dir: Option<PathBuf>,
    /// A Confluent-compatible schema registry (tried before --schema-dir when both are given).
    #[arg(long, env = "DEEPRUBIN_SCHEMA_REGISTRY")]
    pub schema_registry: Option<String>,
    /// Timeout of one registry request, in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub schema_registry_timeout: f64,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub schemas: SchemaArgs,
    /// Keep going after a file fails; report every failure at the end.
    #[arg(long)]
    pub continue_on_error: bool,
    /// Keep measurements as the packet states them (NaN fluxes, placeholder times) instead of
    /// refusing the packet.
    #[arg(long)]
    pub permissive: bool,
    /// Alert files or directories (searched recursively for *.avro).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Output folder: lightcurves.csv, upper_limits.csv, labels.csv and alerts/*.avro.
    #[arg(long)]
    pub out: PathBuf,
    /// Surveys to simulate (repeatable).
    #[arg(long = "survey", default_values = ["ztf"])]
    pub surveys: Vec<Survey>,
    #[arg(long, default_value_t = 20)]
    pub objects_per_class: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Only these classes (repeatable; default: the 15 training classes).
    #[arg(long = "class")]
    pub classes: Vec<String>,
    /// Add the anomaly classes kept out of training (TDE, Kilonova, Microlensing, PISN).
    #[arg(long)]
    pub anomalies: bool,
    /// Keep only the first N days after the first detection (what an alert stream has seen).
    #[arg(long)]
    pub truncate_days: Option<f64>,
    #[arg(long, default_value_t = 365.0)]
    pub duration_days: f64,
    /// Write the CSV files only.
    #[arg(long)]
    pub no_packets: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    #[arg(long, env = "DATABASE_URL", default_value = store::DEFAULT_DATABASE_URL)]
    pub database_url: String,
    #[arg(long, default_value_t = 10)]
    pub pool_size: u32,
    #[arg(long, default_value_t = 30_000)]
    pub statement_timeout_ms: u64,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Address to listen on.
    #[arg(long, env = "DEEPRUBIN_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Browser origins allowed by CORS: `*`, or a comma-separated list (default: none).
    #[arg(long, env = "DEEPRUBIN_CORS_ORIGINS", default_value = "")]
    pub cors_origins: String,
    /// Whole-request deadline in seconds; slower requests get 504.
    #[arg(long, default_value_t = 10.0)]
    pub request_timeout: f64,
    /// Largest `limit` a list endpoint accepts.
    #[arg(long, default_value_t = store::MAX_SEARCH_LIMIT)]
    pub max_limit: u32,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub schemas: SchemaArgs,
    /// Alert files or directories (searched recursively for *.avro).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchStoreArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[arg(long, default_value_t = 50_000)]
    pub objects: usize,
    /// Detections per object.
    #[arg(long, default_value_t = 30)]
    pub points: usize,
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Measure the in-process store instead of Postgres.
    #[arg(long)]
    pub memory: bool,
}

#[derive(Debug, Args)]
pub struct ConsumeArgs {
    /// TOML configuration file (every key overridable by DEEPRUBIN__SECTION__KEY variables).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[arg(long)]
    pub brokers: Option<String>,
    /// Topics, comma-separated, or one ^regex.
    #[arg(long)]
    pub topic: Option<String>,
    #[arg(long)]
    pub survey: Option<Survey>,
    #[arg(long)]
    pub group: Option<String>,
    #[arg(long)]
    pub output_topic: Option<String>,
    #[arg(long)]
    pub dead_letter_topic: Option<String>,
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    #[arg(long, env = "DEEPRUBIN_SCHEMA_DIR")]
    pub schema_dir: Option<PathBuf>,
    #[arg(long, env = "DEEPRUBIN_SCHEMA_REGISTRY")]
    pub schema_registry: Option<String>,
    /// Serve /metrics and /healthz here, e.g. 127.0.0.1:9898.
    #[arg(long)]
    pub metrics_listen: Option<String>,
    /// Exit 0 after this many seconds with nothing to read.
    #[arg(long)]
    pub exit_when_idle: Option<f64>,
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long)]
    pub max_batch_wait_ms: Option<u64>,
    /// avro (default) or json.
    #[arg(long)]
    pub output_format: Option<OutputFormat>,
    /// librdkafka option passed through, KEY=VALUE (repeatable): security.protocol, sasl.*, ….
    #[arg(long)]
    pub kafka_option: Vec<String>,
    /// Model folder (default: the shipped models/default).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// cpu, or cuda (needs a build with --features cuda).
    #[arg(long)]
    pub device: Option<String>,
    /// Monte-Carlo dropout passes per light curve.
    #[arg(long)]
    pub mc_samples: Option<usize>,
    /// Events with an anomaly score above this also go to the anomalies topic.
    #[arg(long)]
    pub anomaly_threshold: Option<f64>,
    #[arg(long)]
    pub anomalies_topic: Option<String>,
    /// Run the stream without classification.
    #[arg(long)]
    pub no_classify: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Bootstrap servers.
    #[arg(long)]
    pub to_kafka: String,
    #[arg(long)]
    pub topic: String,
    /// Partitions of the topic when it has to be created.
    #[arg(long, default_value_t = 1)]
    pub partitions: i32,
    /// Messages per second (default: as fast as possible).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Wait for each acknowledgement, so every message is its own record batch.
    #[arg(long)]
    pub one_per_batch: bool,
    /// Alert files or directories (searched recursively for *.avro).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchStreamArgs {
    #[arg(long, default_value = "127.0.0.1:9092")]
    pub brokers: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Simulated ZTF alerts to send in each phase (new objects in each: the latency phase's
    /// alerts are simulated with seed + 1). An existing database is used as it is, never emptied.
    #[arg(long, default_value_t = 20_000)]
    pub alerts: usize,
    /// Send rate of the latency phase (alerts/s).
    #[arg(long, default_value_t = 2_000.0)]
    pub rate: f64,
    /// Seconds at the start of the latency phase reported apart from its percentiles (a consumer
    /// that has just joined catches up on its first batches).
    #[arg(long, default_value_t = 2.0)]
    pub warmup_seconds: f64,
    /// Most messages per batch.
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Longest wait to fill a batch (ms).
    #[arg(long, default_value_t = 100)]
    pub max_batch_wait_ms: u64,
    /// Monte-Carlo dropout samples per light curve (0 or 1: the deterministic network only).
    #[arg(long, default_value_t = 4)]
    pub mc_samples: usize,
    /// Run without the classifier.
    #[arg(long)]
    pub no_classify: bool,
    /// Alert order: `time` (by epoch, objects interleaved, as a survey sends them) or `object`
    /// (every alert of one object, then the next).
    #[arg(long, default_value = "time", value_parser = ["time", "object"])]
    pub order: String,
    #[arg(long, default_value_t = 4)]
    pub partitions: i32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}
