//! The entry point: bytes in (a Kafka message or a file), alerts out.

use std::sync::Arc;

use crate::avro::{ContainerFile, Datum, Record, Schema, SchemaCache, WireMessage};
use crate::schema_source::{BuiltinSchemas, WriterSchemaSource, lsst_version_of_id};
use crate::survey::{Validation, lsst, ztf};
use crate::{Alert, DecodeError};

/// Decodes ZTF and Rubin alert packets.
///
/// - Avro container files (`Obj\x01`, ZTF's framing; also Rubin files): the embedded writer schema
///   is compiled once per distinct header and cached.
/// - Confluent wire format (byte 0, schema id, schemaless body; Rubin's framing): the writer
///   schema comes from the configured [`WriterSchemaSource`].
///
/// The survey is recognised from the record's fields, not its name, so Spark rewrites
/// (`topLevelRecord`) decode too. Cheap to share across threads.
#[derive(Debug)]
pub struct AlertDecoder {
    container_schemas: SchemaCache,
    builtin: BuiltinSchemas,
    wire_schemas: Option<Arc<dyn WriterSchemaSource>>,
    validation: Validation,
}

impl Default for AlertDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl AlertDecoder {
    /// A decoder for container files and for Confluent-framed messages of the project's own
    /// schema ids; Rubin's ids need [`AlertDecoder::with_schema_source`].
    pub fn new() -> Self {
        AlertDecoder {
            container_schemas: SchemaCache::default(),
            builtin: BuiltinSchemas::default(),
            wire_schemas: None,
            validation: Validation::Strict,
        }
    }

    /// Where schemas of Confluent-framed messages come from (a directory, a registry, or both).
    pub fn with_schema_source(mut self, source: Arc<dyn WriterSchemaSource>) -> Self {
        self.wire_schemas = Some(source);
        self
    }

    /// How measured values are checked (default: [`Validation::Strict`]).
    pub fn with_validation(mut self, validation: Validation) -> Self {
        self.validation = validation;
        self
    }

    /// Decodes a container file or a Confluent-framed message, by its first bytes.
    pub fn decode(&self, bytes: &[u8]) -> Result<Vec<Alert>, DecodeError> {
        if ContainerFile::is_container(bytes) {
            self.decode_container(bytes)
        } else {
            self.decode_wire(bytes).map(|a| vec![a])
        }
    }

    /// Every alert in an Avro container file.
    pub fn decode_container(&self, bytes: &[u8]) -> Result<Vec<Alert>, DecodeError> {
        self.decode_container_with(bytes, |kind, datum| kind.alert(datum, self.validation))
    }

    /// Every alert in a container file with the string value of a top-level field that a broker
    /// added when it re-distributed the alerts (e.g. Fink's `cdsxmatch`, the SIMBAD type of the
    /// nearest catalogued source): `None` where the field is absent, null or not a string.
    /// A Confluent-framed message carries only the survey's schema, so its annotation is `None`.
    pub fn decode_annotated(
        &self,
        bytes: &[u8],
        field: &str,
    ) -> Result<Vec<(Alert, Option<String>)>, DecodeError> {
        if !ContainerFile::is_container(bytes) {
            return self.decode_wire(bytes).map(|a| vec![(a, None)]);
        }
        self.decode_container_with(bytes, |kind, datum| {
            let annotation = datum
                .field(field)
                .and_then(Datum::as_str)
                .map(str::to_owned);
            Ok((kind.alert(datum, self.validation)?, annotation))
        })
    }

    /// Decodes every record of a container file with `read`; an empty file is an error.
    fn decode_container_with<T>(
        &self,
        bytes: &[u8],
        mut read: impl FnMut(&PacketKind, &Datum<'_>) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let file = ContainerFile::parse(bytes)?;
        let schema = self.container_schemas.get_or_parse(file.schema_json)?;
        let kind = PacketKind::of(&schema, None)?;
        let mut alerts = Vec::new();
        for block in file.blocks() {
            let (count, data) = block?;
            let mut rest: &[u8] = &data;
            for _ in 0..count {
                let (datum, used) = crate::avro::decode_datum(&schema, rest)?;
                alerts.push(read(&kind, &datum)?);
                rest = &rest[used..];
            }
            if !rest.is_empty() {
                return Err(DecodeError::Corrupt(format!(
                    "{} bytes left over after the block's {count} records",
                    rest.len()
                )));
            }
        }
        if alerts.is_empty() {
            return Err(DecodeError::Truncated(
                "container file holds no alert".into(),
            ));
        }
        Ok(alerts)
    }

    /// One Confluent-framed message.
    pub fn decode_wire(&self, bytes: &[u8]) -> Result<Alert, DecodeError> {
        let message = WireMessage::parse(bytes)?;
        let schema = match self.builtin.schema(message.schema_id) {
            Ok(schema) => schema,
            Err(_) => self
                .wire_schemas
                .as_ref()
                .ok_or_else(|| {
                    DecodeError::UnsupportedSchema(format!(
                        "Confluent-framed message with schema id {} but no schema directory or \
                         registry is configured",
                        message.schema_id
                    ))
                })?
                .schema(message.schema_id)?,
        };
        let kind = PacketKind::of(&schema, Some(message.schema_id))?;
        let (datum, used) = crate::avro::decode_datum(&schema, message.body)?;
        if used != message.body.len() {
            return Err(DecodeError::Corrupt(format!(
                "{} bytes left over after the alert (wrong schema id?)",
                message.body.len() - used
            )));
        }
        kind.alert(&datum, self.validation)
    }
}

/// Which survey mapping a schema needs, decided once per schema.
enum PacketKind {
    Ztf,
    Lsst {
        version: String,
        unit: lsst::FluxUnit,
    },
}

impl PacketKind {
    fn of(schema: &Schema, schema_id: Option<u32>) -> Result<Self, DecodeError> {
        let record = schema
            .root_record()
            .ok_or_else(|| DecodeError::UnsupportedSchema("top level is not a record".into()))?;
        if ztf::is_ztf(record) {
            return Ok(PacketKind::Ztf);
        }
        if lsst::is_lsst(record) {
            let unit = if record.name.starts_with("elasticc") {
                lsst::FluxUnit::SnanaFluxcal
            } else {
                lsst::FluxUnit::Nanojansky
            };
            let version = schema_id
                .map(lsst_version_of_id)
                .unwrap_or_else(|| version_from_name(record));
            return Ok(PacketKind::Lsst { version, unit });
        }
        Err(DecodeError::UnsupportedSchema(format!(
            "record {} has neither ZTF fields (objectId, candidate) nor Rubin fields (diaSource)",
            record.name
        )))
    }

    fn alert(&self, datum: &Datum<'_>, validation: Validation) -> Result<Alert, DecodeError> {
        match self {
            PacketKind::Ztf => ztf::alert_from_ztf(datum, validation),
            PacketKind::Lsst { version, unit } => {
                lsst::alert_from_lsst(datum, version, *unit, validation)
            }
        }
    }
}

/// `lsst.v7_4.alert` → "7.4"; `elasticc.v0_9.alert` → "elasticc-0.9"; Spark rewrites → "unknown".
fn version_from_name(record: &Record) -> String {
    let mut parts = record.name.split('.');
    match (parts.next(), parts.next()) {
        (Some(family), Some(v)) if v.starts_with('v') => {
            let v = v[1..].replace('_', ".");
            if family == "lsst" {
                v
            } else {
                format!("{family}-{v}")
            }
        }
        _ => "unknown".to_owned(),
    }
}
