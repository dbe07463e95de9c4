//! The survey-agnostic alert model and its Avro codecs.
//!
//! Every stage downstream (store, stream, classifier, API) reads [`Alert`]; the codecs turn ZTF
//! container files and Rubin Confluent-framed messages into it without ever panicking on input bytes.

mod alert;
pub mod avro;
mod band;
mod decoder;
pub mod encode;
mod error;
mod ids;
pub mod schema_source;
mod survey;
pub use survey::Validation;
mod units;

pub use alert::{
    Alert, Cutout, Cutouts, Detection, DetectionQuality, ForcedPhotometry, SolarSystemMatch,
    UpperLimit,
};
pub use band::Band;
pub use decoder::AlertDecoder;
pub use error::{DecodeError, Origin, SourcedError};
pub use ids::{InvalidObjectId, ObjectId, SourceId, Survey};
pub use units::{AB_ZERO_POINT_NJY, AbMagnitude, FluxNjy, Mjd};
