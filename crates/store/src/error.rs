//! Store errors: one variant per situation a caller can act on.

use alert_model::{ObjectId, Survey};

/// The hint every "schema missing" error carries, so an operator knows the one command to run.
pub const MIGRATE_HINT: &str = "run `deeprubin migrate`";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database server could not be reached or refused the login.
    #[error("cannot connect to Postgres at {url}: {source}")]
    Unreachable {
        /// The URL with any password removed.
        url: String,
        #[source]
        source: sqlx::Error,
    },
    /// The configuration itself is wrong (unparsable URL).
    #[error("invalid store configuration: {0}")]
    Config(String),
    /// The schema is absent or older than this build expects.
    #[error("database schema is not migrated ({detail}); {MIGRATE_HINT}")]
    NotMigrated { detail: String },
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A classification (or other child row) named an object the store has never seen.
    #[error("unknown object {survey}/{object_id}")]
    UnknownObject { survey: Survey, object_id: ObjectId },
    /// A search cursor that this store did not hand out.
    #[error("invalid search cursor: {0}")]
    InvalidCursor(String),
    /// A row holds a value the model cannot represent (edited by hand, or a newer schema).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl StoreError {
    /// Whether retrying the same call later may succeed (connection trouble, timeouts,
    /// serialization failures), as opposed to a bug or bad input.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Unreachable { .. } => true,
            StoreError::Database(e) => match e {
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
                sqlx::Error::Database(db) => {
                    // 40001 serialization_failure, 40P01 deadlock_detected, 57014 query_canceled
                    // (statement_timeout), 53300 too_many_connections.
                    matches!(
                        db.code().as_deref(),
                        Some("40001" | "40P01" | "57014" | "53300")
                    )
                }
                _ => false,
            },
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            // 42P01 undefined_table, 42703 undefined_column: the schema is missing or old.
            if matches!(db.code().as_deref(), Some("42P01" | "42703")) {
                return StoreError::NotMigrated {
                    detail: db.message().to_owned(),
                };
            }
        }
        StoreError::Database(e)
    }
}
