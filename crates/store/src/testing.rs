//! Test helpers shared by every crate's integration tests (feature `testing`): a fresh, randomly
//! named, migrated Postgres database per test, dropped with its connections when the handle is
//! dropped, and the location of the shared real-alert data.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor, PgConnection};

use crate::{PgConfig, PgStore};

/// Admin connection used to create and drop test databases (`DEEPRUBIN_TEST_PG_URL`).
pub fn admin_url() -> String {
    std::env::var("DEEPRUBIN_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The same server as `admin`, another database.
pub fn url_for(admin: &str, database: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin, None),
    };
    let server = match base.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('/') {
            Some((host, _)) => format!("{scheme}://{host}"),
            None => base.to_owned(),
        },
        None => base.to_owned(),
    };
    match query {
        Some(q) => format!("{server}/{database}?{q}"),
        None => format!("{server}/{database}"),
    }
}

/// A database that exists for one test and is dropped (connections and all) when this is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub store: PgStore,
    admin: String,
}

impl TestDb {
    /// A migrated database on the default test server.
    pub async fn new() -> Self {
        Self::new_on(&admin_url()).await
    }

    /// A migrated database on the server of `admin` (e.g. a private cluster).
    pub async fn new_on(admin: &str) -> Self {
        let db = Self::unmigrated_on(admin).await;
        db.store.migrate().await.expect("migrations apply");
        db
    }

    /// A database with no schema at all.
    pub async fn unmigrated() -> Self {
        Self::unmigrated_on(&admin_url()).await
    }

    async fn unmigrated_on(admin: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "deeprubin_test_{}_{}_{}",
            std::process::id(),
            nanos,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = PgConnection::connect(admin).await.unwrap_or_else(|e| {
            panic!("Postgres for tests at {admin} (set DEEPRUBIN_TEST_PG_URL): {e}")
        });
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .await
            .expect("create test database");
        conn.close().await.ok();
        let url = url_for(admin, &name);
        let store = PgStore::connect(&PgConfig::with_url(&url))
            .await
            .expect("connect to the test database");
        TestDb {
            name,
            url,
            store,
            admin: admin.to_owned(),
        }
    }

    /// Another pool on the same database (a second "process").
    pub async fn connect(&self, max_connections: u32) -> PgStore {
        let config = PgConfig {
            max_connections,
            ..PgConfig::with_url(&self.url)
        };
        PgStore::connect(&config).await.expect("connect")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop runs inside the test's runtime: do the async work on a thread of its own.
        let dropped = std::thread::spawn(move || -> Result<(), String> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&admin)
                    .await
                    .map_err(|e| e.to_string())?;
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .await
                .map_err(|e| e.to_string())?;
                Ok(())
            })
        })
        .join();
        if let Ok(Err(e)) | Err(e) = dropped.map_err(|_| "panicked".to_owned()) {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

/// `shared/data` beside the repository, or `DEEPRUBIN_SHARED_DATA`; `None` (with a note saying
/// the test is skipped) when absent.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("DEEPRUBIN_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: shared alert data not found at {}", dir.display());
        None
    }
}
