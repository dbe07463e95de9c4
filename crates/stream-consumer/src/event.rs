//! The output event: one `ObjectUpdate` per input alert, keyed by object id.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use alert_model::Alert;
use alert_model::avro::WireMessage;
use apache_avro::{Codec, Schema, Writer};
use serde::{Deserialize, Serialize};

use crate::config::OutputFormat;
use crate::features::{BandSummary, LightCurveSummary, summarise};

/// The event's Avro schema (`schemas/object_update.avsc`); new fields always come with defaults.
pub const OBJECT_UPDATE_SCHEMA: &str = include_str!("../schemas/object_update.avsc");
/// The first version (no classification), kept to prove its readers can read today's events.
pub const OBJECT_UPDATE_SCHEMA_V1: &str = include_str!("../schemas/object_update.v1.avsc");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectUpdate {
    pub survey: String,
    pub object_id: String,
    pub source_id: i64,
    pub mjd: f64,
    pub band: String,
    pub n_detections: i32,
    pub bands: Vec<BandSummary>,
    pub color_g_minus_r: Option<f64>,
    pub input_kafka_timestamp_ms: Option<i64>,
    pub ingest_start_ms: i64,
    pub published_ms: i64,
    // Classification (schema v2): absent when the consumer runs without a model.
    #[serde(default)]
    pub model_name: Option<String>,
    #[serde(default)]
    pub model_version: Option<String>,
    #[serde(default)]
    pub probabilities: BTreeMap<String, f64>,
    #[serde(default)]
    pub top_level: BTreeMap<String, f64>,
    #[serde(default, rename = "class")]
    pub class: Option<String>,
    #[serde(default)]
    pub uncertainty: Option<f64>,
    #[serde(default)]
    pub anomaly_score: Option<f64>,
    #[serde(default)]
    pub classified_ms: Option<i64>,
    // Known solar-system object (schema v3): set when the survey matched the triggering
    // detection to one (ZTF within 5″, Rubin by association), so consumers can drop asteroids,
    // which the light-curve classes do not describe.
    #[serde(default)]
    pub solar_system_object: Option<String>,
    #[serde(default)]
    pub solar_system_distance_arcsec: Option<f64>,
}

impl ObjectUpdate {
    /// The event for an alert, summarising the detections it carries.
    pub fn for_alert(
        alert: &Alert,
        input_kafka_timestamp_ms: Option<i64>,
        ingest_start_ms: i64,
    ) -> Self {
        let LightCurveSummary {
            n_detections,
            bands,
            color_g_minus_r,
        } = summarise(alert.detections());
        let known_object = alert.solar_system.as_ref().filter(|m| m.is_same_object());
        ObjectUpdate {
            survey: alert.survey.as_str().to_owned(),
            object_id: alert.object_id.as_str().to_owned(),
            source_id: alert.candidate.source_id.0,
            mjd: alert.candidate.mjd.0,
            band: alert.candidate.band.as_str().to_owned(),
            n_detections,
            bands,
            color_g_minus_r,
            input_kafka_timestamp_ms,
            ingest_start_ms,
            published_ms: ingest_start_ms,
            model_name: None,
            model_version: None,
            probabilities: BTreeMap::new(),
            top_level: BTreeMap::new(),
            class: None,
            uncertainty: None,
            anomaly_score: None,
            classified_ms: None,
            solar_system_object: known_object.map(|m| m.name.clone()),
            solar_system_distance_arcsec: known_object.and_then(|m| m.distance_arcsec),
        }
    }

    /// Whether the triggering detection is a known asteroid or comet.
    pub fn is_solar_system_object(&self) -> bool {
        self.solar_system_object.is_some()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("encoding the output event: {0}")]
pub struct EventEncodeError(String);

fn schema() -> Result<&'static Schema, EventEncodeError> {
    static SCHEMA: OnceLock<Result<Schema, String>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| Schema::parse_str(OBJECT_UPDATE_SCHEMA).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| EventEncodeError(e.clone()))
}

/// Serialises events as configured: JSON, Confluent-framed Avro (with a registered schema id) or
/// an Avro container file per event (schema embedded, readable with no registry).
#[derive(Debug, Clone, Copy)]
pub struct EventEncoder {
    pub format: OutputFormat,
    pub schema_id: Option<u32>,
}

impl EventEncoder {
    pub fn encode(&self, event: &ObjectUpdate) -> Result<Vec<u8>, EventEncodeError> {
        let avro_err = |e: apache_avro::Error| EventEncodeError(e.to_string());
        match self.format {
            OutputFormat::Json => {
                serde_json::to_vec(event).map_err(|e| EventEncodeError(e.to_string()))
            }
            OutputFormat::Avro => {
                let schema = schema()?;
                let value = apache_avro::to_value(event)
                    .and_then(|v| v.resolve(schema))
                    .map_err(avro_err)?;
                match self.schema_id {
                    Some(id) => {
                        let body = apache_avro::writer::datum::GenericDatumWriter::builder(schema)
                            .build()
                            .and_then(|w| w.write_value_to_vec(value))
                            .map_err(avro_err)?;
                        Ok(WireMessage::encode(id, &body))
                    }
                    None => {
                        let mut writer = Writer::with_codec(schema, Vec::new(), Codec::Null)
                            .map_err(avro_err)?;
                        writer.append_value(value).map_err(avro_err)?;
                        writer.into_inner().map_err(avro_err)
                    }
                }
            }
        }
    }
}

/// Reads an event back (for tests and for consumers written in Rust): JSON or an Avro container.
pub fn decode_event(bytes: &[u8]) -> Result<ObjectUpdate, EventEncodeError> {
    if bytes.starts_with(b"Obj\x01") {
        let mut reader =
            apache_avro::Reader::new(bytes).map_err(|e| EventEncodeError(e.to_string()))?;
        let value = reader
            .next()
            .ok_or_else(|| EventEncodeError("empty container".into()))?
            .map_err(|e| EventEncodeError(e.to_string()))?;
        apache_avro::from_value(&value).map_err(|e| EventEncodeError(e.to_string()))
    } else {
        serde_json::from_slice(bytes).map_err(|e| EventEncodeError(e.to_string()))
    }
}
