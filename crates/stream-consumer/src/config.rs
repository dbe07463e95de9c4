//! `consume` settings, layered: built-in defaults < TOML file < `DEEPRUBIN__SECTION__KEY`
//! environment variables < command-line flags (applied by the binary).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use alert_model::Survey;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsumerConfig {
    pub kafka: KafkaConfig,
    pub input: InputConfig,
    pub store: StoreConfig,
    pub pipeline: PipelineConfig,
    pub metrics: MetricsConfig,
    pub classifier: ClassifierConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassifierConfig {
    /// Classify every update (the broker's purpose); off only to run the stream without a model.
    pub enabled: bool,
    /// Model folder (`classifier.json` + `model.bpk`); default: the shipped `models/default`.
    pub model_dir: Option<PathBuf>,
    /// `cpu` or `cuda` (CUDA needs a build with `--features cuda`).
    pub device: String,
    /// Monte-Carlo dropout passes per light curve (the uncertainty's sample size).
    pub mc_samples: usize,
    /// Most light curves per forward pass.
    pub max_batch: usize,
    /// Events whose anomaly score exceeds this also go to `anomalies_topic`.
    pub anomaly_threshold: f64,
    pub anomalies_topic: String,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig {
            enabled: true,
            model_dir: None,
            device: "cpu".into(),
            mc_samples: 4,
            max_batch: 256,
            anomaly_threshold: 0.9,
            anomalies_topic: "deeprubin.anomalies".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers, `host:port[,host:port…]`.
    pub brokers: String,
    /// Input topics; one entry starting with `^` is a regular-expression subscription.
    pub topics: Vec<String>,
    /// Consumer group: replicas with the same group share the partitions.
    pub group: String,
    pub output_topic: String,
    pub dead_letter_topic: String,
    /// Partitions of output and dead-letter topics created at start when missing.
    pub created_topic_partitions: i32,
    /// Passed to librdkafka as they are (`security.protocol`, `sasl.mechanism`,
    /// `sasl.username`, …) for the authenticated Rubin and ZTF streams.
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InputConfig {
    /// Which survey's stream this is (a sanity check on decoded alerts).
    pub survey: Survey,
    pub schema_dir: Option<PathBuf>,
    pub schema_registry: Option<String>,
    pub schema_registry_timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    pub database_url: String,
    pub max_connections: u32,
    pub statement_timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Avro: Confluent framing when a registry id is configured, else one container file per event.
    Avro,
    Json,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "avro" => Ok(OutputFormat::Avro),
            "json" => Ok(OutputFormat::Json),
            other => Err(format!(
                "unknown output format {other:?} (expected avro or json)"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Most messages processed (stored, published, committed) together.
    pub batch_size: usize,
    /// Longest wait to fill a batch before processing what arrived.
    pub max_batch_wait_ms: u64,
    /// Exit 0 after this many seconds with nothing to read (backfills, tests).
    pub exit_when_idle_secs: Option<f64>,
    pub output_format: OutputFormat,
    /// Schema id under which the output event is registered, for Confluent framing.
    pub output_schema_id: Option<u32>,
    /// A schema registry to register the output event's schema with at start (subject
    /// `<output topic>-value`); its id then frames every event (Confluent wire format).
    pub output_schema_registry: Option<String>,
    /// Backoff bounds while the database or broker is down.
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address of the Prometheus `/metrics` and `/healthz` endpoint; none disables it.
    pub listen: Option<String>,
    /// How often consumer lag is measured.
    pub lag_interval_secs: f64,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "127.0.0.1:9092".into(),
            topics: vec![],
            group: "deeprubin".into(),
            output_topic: "deeprubin.object-updates".into(),
            dead_letter_topic: "deeprubin.dead-letters".into(),
            created_topic_partitions: 1,
            options: BTreeMap::new(),
        }
    }
}

impl Default for InputConfig {
    fn default() -> Self {
        InputConfig {
            survey: Survey::Ztf,
            schema_dir: None,
            schema_registry: None,
            schema_registry_timeout_ms: 10_000,
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            database_url: store::DEFAULT_DATABASE_URL.into(),
            max_connections: 8,
            statement_timeout_ms: 30_000,
        }
    }
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            batch_size: 500,
            max_batch_wait_ms: 100,
            exit_when_idle_secs: None,
            output_format: OutputFormat::Avro,
            output_schema_id: None,
            output_schema_registry: None,
            retry_initial_ms: 200,
            retry_max_ms: 10_000,
        }
    }
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            listen: None,
            lag_interval_secs: 10.0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}

/// Environment variables that override file settings: `DEEPRUBIN__PIPELINE__BATCH_SIZE=1000`.
pub const ENV_PREFIX: &str = "DEEPRUBIN__";

impl ConsumerConfig {
    /// Defaults, then the file (if any), then the environment.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table =
            toml::Table::try_from(ConsumerConfig::default()).map_err(|e| ConfigError::Invalid {
                origin: "defaults".into(),
                message: e.to_string(),
            })?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let overrides: toml::Table =
                text.parse()
                    .map_err(|e: toml::de::Error| ConfigError::Invalid {
                        origin: path.display().to_string(),
                        message: e.to_string(),
                    })?;
            merge(&mut table, overrides);
        }
        for (name, value) in env {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
            set_path(&mut table, &path, parse_env_value(&value)).map_err(|message| {
                ConfigError::Invalid {
                    origin: name.clone(),
                    message,
                }
            })?;
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid {
                origin: "configuration".into(),
                message: e.to_string(),
            })
    }

    /// Checks what the pipeline cannot run without.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |message: &str| ConfigError::Invalid {
            origin: "configuration".into(),
            message: message.into(),
        };
        if self.kafka.topics.is_empty() {
            return Err(invalid("no input topic: set kafka.topics or --topic"));
        }
        if self.kafka.brokers.trim().is_empty() {
            return Err(invalid("no brokers: set kafka.brokers or --brokers"));
        }
        if self.pipeline.batch_size == 0 {
            return Err(invalid("pipeline.batch_size must be at least 1"));
        }
        if self.classifier.enabled
            && [&self.kafka.output_topic, &self.kafka.dead_letter_topic]
                .contains(&&self.classifier.anomalies_topic)
        {
            return Err(invalid(
                "the anomalies topic must differ from the output and dead-letter topics",
            ));
        }
        if !(0.0..=1.0).contains(&self.classifier.anomaly_threshold) {
            return Err(invalid("classifier.anomaly_threshold must lie in [0, 1]"));
        }
        if self.kafka.output_topic == self.kafka.dead_letter_topic {
            return Err(invalid("the output and dead-letter topics must differ"));
        }
        Ok(())
    }
}

fn merge(base: &mut toml::Table, overrides: toml::Table) {
    for (key, value) in overrides {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    match path {
        [] => Err("empty key".into()),
        [key] => {
            table.insert(key.clone(), value);
            Ok(())
        }
        [section, rest @ ..] => {
            let entry = table
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => set_path(t, rest, value),
                _ => Err(format!("{section} is not a section")),
            }
        }
    }
}

/// A TOML literal when the text is one (`500`, `true`, `["a","b"]`), else a string; a
/// comma-separated list for `topics` is split by the binary, not here.
fn parse_env_value(text: &str) -> toml::Value {
    format!("v = {text}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment_override_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            r#"
            [kafka]
            topics = ["ztf_public"]
            [kafka.options]
            "security.protocol" = "SASL_SSL"
            [pipeline]
            batch_size = 100
            "#,
        )
        .unwrap();
        let env = [
            (
                "DEEPRUBIN__PIPELINE__BATCH_SIZE".to_string(),
                "250".to_string(),
            ),
            (
                "DEEPRUBIN__STORE__DATABASE_URL".into(),
                "postgres://x@h/db".into(),
            ),
            ("DEEPRUBIN__INPUT__SURVEY".into(), "lsst".into()),
            ("UNRELATED".into(), "1".into()),
        ];
        let c = ConsumerConfig::load(Some(&path), env).unwrap();
        assert_eq!(c.kafka.topics, ["ztf_public"]);
        assert_eq!(c.kafka.options["security.protocol"], "SASL_SSL");
        assert_eq!(c.pipeline.batch_size, 250);
        assert_eq!(c.store.database_url, "postgres://x@h/db");
        assert_eq!(c.input.survey, Survey::Lsst);
        assert_eq!(c.pipeline.max_batch_wait_ms, 100, "defaults stay");
        c.validate().unwrap();
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let env = [(
            "DEEPRUBIN__PIPELINE__BATCH_SIZ".to_string(),
            "1".to_string(),
        )];
        assert!(ConsumerConfig::load(None, env).is_err());
        let env = [(
            "DEEPRUBIN__PIPELINE__BATCH_SIZE".to_string(),
            "many".to_string(),
        )];
        assert!(ConsumerConfig::load(None, env).is_err());
        assert!(
            ConsumerConfig::load(None, []).unwrap().validate().is_err(),
            "no topic"
        );
    }
}
