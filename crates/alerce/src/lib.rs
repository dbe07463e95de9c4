//! A client for the ALeRCE ZTF API v1 (<https://api.alerce.online/ztf/v1>).
//!
//! It fetches an object's summary, light curve and classifier probabilities, with timeouts, a
//! client-side rate limit and bounded retries, and maps them onto [`alert_model::Alert`] so they
//! go through the same idempotent store path as alerts from the stream.

mod client;
mod error;
mod mapping;
pub mod model;
mod object;
mod retry;

pub use client::{AlerceClient, ClientConfig, DEFAULT_BASE_URL};
pub use error::AlerceError;
pub use mapping::{MappedLightCurve, SCHEMA_VERSION, Skipped, map_light_curve, to_alert};
pub use object::FetchedObject;
pub use retry::{MAX_ATTEMPTS_CEILING, RateLimiter, RetryPolicy};
