//! Decoding errors: one variant per failure a caller can act on, each naming where the bytes came from.

use std::fmt;
use std::path::PathBuf;

/// Why bytes could not be decoded into alerts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("not an Avro alert: {0}")]
    NotAvro(String),
    #[error("unknown writer schema id {0}")]
    UnknownSchemaId(u32),
    #[error("schema registry unreachable at {url}: {reason}")]
    RegistryUnreachable { url: String, reason: String },
    #[error("truncated: {0}")]
    Truncated(String),
    #[error("corrupt Avro data: {0}")]
    Corrupt(String),
    #[error("unsupported compression codec {0:?}")]
    UnsupportedCodec(String),
    #[error("unsupported schema: {0}")]
    UnsupportedSchema(String),
    #[error("invalid writer schema: {0}")]
    InvalidSchema(String),
    #[error("missing required field {0}")]
    MissingField(String),
    #[error("value out of range in {field}: {value}")]
    OutOfRange { field: String, value: String },
}

impl DecodeError {
    /// A short stable name for metrics and dead-letter headers.
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::NotAvro(_) => "not_avro",
            DecodeError::UnknownSchemaId(_) => "unknown_schema_id",
            DecodeError::RegistryUnreachable { .. } => "registry_unreachable",
            DecodeError::Truncated(_) => "truncated",
            DecodeError::Corrupt(_) => "corrupt",
            DecodeError::UnsupportedCodec(_) => "unsupported_codec",
            DecodeError::UnsupportedSchema(_) => "unsupported_schema",
            DecodeError::InvalidSchema(_) => "invalid_schema",
            DecodeError::MissingField(_) => "missing_field",
            DecodeError::OutOfRange { .. } => "out_of_range",
        }
    }

    /// Whether retrying the same bytes later may succeed (the registry was down), as opposed to
    /// bytes that will never decode and belong in the dead-letter topic.
    pub fn is_transient(&self) -> bool {
        matches!(self, DecodeError::RegistryUnreachable { .. })
    }

    pub(crate) fn missing(field: impl Into<String>) -> Self {
        DecodeError::MissingField(field.into())
    }

    pub(crate) fn out_of_range(field: impl Into<String>, value: impl fmt::Display) -> Self {
        DecodeError::OutOfRange {
            field: field.into(),
            value: value.to_string(),
        }
    }

    /// Attaches where the bytes came from.
    pub fn at(self, origin: Origin) -> SourcedError {
        SourcedError {
            origin,
            error: self,
        }
    }
}

/// Where undecodable bytes came from, so an operator can find them.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    File(PathBuf),
    Kafka {
        topic: String,
        partition: i32,
        offset: i64,
    },
    Unknown,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Kafka {
                topic,
                partition,
                offset,
            } => write!(f, "{topic}/{partition}@{offset}"),
            Origin::Unknown => f.write_str("<bytes>"),
        }
    }
}

/// A [`DecodeError`] with its [`Origin`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{origin}: {error}")]
pub struct SourcedError {
    pub origin: Origin,
    #[source]
    pub error: DecodeError,
}
