//! The production store: Postgres through sqlx, plain bound queries (no compile-time database).

mod batch;
mod config;
mod read;
mod rows;
pub(crate) mod write;

use std::str::FromStr;

use alert_model::{Alert, ObjectId, Survey};
use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

pub use config::{DEFAULT_DATABASE_URL, PgConfig, redact};

use crate::{
    Classification, LightCurve, NewClassification, ObjectSummary, SearchPage, SearchQuery,
    StateStore, StoreError, StoreStats, UpsertOutcome,
};

/// The schema, embedded at compile time from the workspace's `migrations/` folder.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// A [`StateStore`] on Postgres. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Opens a pool and one connection, so an unreachable server fails here, not later.
    /// Does not touch the schema: call [`PgStore::migrate`] (the `deeprubin migrate` command).
    pub async fn connect(config: &PgConfig) -> Result<Self, StoreError> {
        let url = redact(&config.database_url);
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::Config(format!(
                "database url {url}: expected postgres://user@host:port/database"
            )));
        }
        let options = PgConnectOptions::from_str(&config.database_url)
            .map_err(|e| StoreError::Config(format!("database url {url}: {e}")))?
            .application_name("deeprubin")
            .options([(
                "statement_timeout",
                config.statement_timeout.as_millis().to_string(),
            )]);
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(config.connect_timeout)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Unreachable { url, source })?;
        Ok(Self { pool })
    }

    /// Wraps an existing pool (tests, or a binary that shares one pool).
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies every pending migration; safe to run concurrently and repeatedly (sqlx takes an
    /// advisory lock).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl StateStore for PgStore {
    async fn upsert_alerts(&self, alerts: &[Alert]) -> Result<Vec<UpsertOutcome>, StoreError> {
        write::upsert_alerts(&self.pool, alerts).await
    }

    async fn light_curve(
        &self,
        survey: Survey,
        object_id: &ObjectId,
    ) -> Result<Option<LightCurve>, StoreError> {
        read::light_curve(&self.pool, survey, object_id).await
    }

    async fn object(
        &self,
        survey: Survey,
        object_id: &ObjectId,
    ) -> Result<Option<ObjectSummary>, StoreError> {
        read::object(&self.pool, survey, object_id).await
    }

    async fn object_with_latest(
        &self,
        survey: Survey,
        object_id: &ObjectId,
    ) -> Result<Option<(ObjectSummary, Option<Classification>)>, StoreError> {
        read::object_with_latest(&self.pool, survey, object_id).await
    }

    async fn record_classification(&self, c: &NewClassification) -> Result<bool, StoreError> {
        write::record_classification(&self.pool, c).await
    }

    async fn record_classifications(
        &self,
        batch: &[NewClassification],
    ) -> Result<Vec<bool>, StoreError> {
        batch::record_classifications(&self.pool, batch).await
    }

    async fn light_curves(
        &self,
        objects: &[(Survey, ObjectId)],
    ) -> Result<Vec<LightCurve>, StoreError> {
        batch::light_curves(&self.pool, objects).await
    }

    async fn classifications(
        &self,
        survey: Survey,
        object_id: &ObjectId,
    ) -> Result<Vec<Classification>, StoreError> {
        read::classifications(&self.pool, survey, object_id).await
    }

    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, StoreError> {
        read::search(&self.pool, query).await
    }

    async fn top_anomalies(&self, limit: u32) -> Result<Vec<ObjectSummary>, StoreError> {
        read::top_anomalies(&self.pool, limit).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        read::check_schema(&self.pool, &MIGRATOR).await
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        read::stats(&self.pool).await
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}
