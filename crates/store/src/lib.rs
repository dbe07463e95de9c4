//! The light-curve state store: objects, detections, forced photometry, upper limits and
//! classifications behind one [`StateStore`] trait, with a Postgres implementation for production
//! and an in-process one for the embedded demo mode.

pub mod bench;
pub mod bench_scale;
mod error;
mod ingest;
mod memory;
mod model;
mod postgres;
mod state_store;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{MIGRATE_HINT, StoreError};
pub use ingest::{INGEST_BATCH, IngestFailure, IngestProgress, IngestSummary, ingest_files};
pub use memory::MemoryStore;
pub use model::{
    BandCounts, Classification, LatestClassification, LightCurve, MAX_SEARCH_LIMIT,
    NewClassification, ObjectSummary, SearchPage, SearchQuery, StoreStats, UpsertOutcome,
};
pub use postgres::{DEFAULT_DATABASE_URL, MIGRATOR, PgConfig, PgStore, redact};
pub use state_store::StateStore;
