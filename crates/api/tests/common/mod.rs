//! Test helpers: a fresh Postgres database per test, the real server on a free loopback port,
//! and alerts built in code.
#![allow(dead_code)] // each test binary uses a different subset

pub mod fixtures;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use api::{ApiConfig, AppState};
use sqlx::{Connection, Executor, PgConnection};
use store::{PgConfig, PgStore, StateStore};
use tokio::sync::oneshot;

/// Admin connection used to create and drop test databases.
pub fn admin_url() -> String {
    std::env::var("DEEPRUBIN_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The same server, another database.
fn url_for(admin: &str, database: &str) -> String {
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

/// A database that exists for one test and is dropped when this is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub store: PgStore,
}

impl TestDb {
    /// A migrated database.
    pub async fn new() -> Self {
        let db = Self::unmigrated().await;
        db.store.migrate().await.expect("migrations apply");
        db
    }

    /// A database with no schema.
    pub async fn unmigrated() -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "deeprubin_api_test_{}_{}_{}",
            std::process::id(),
            nanos,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let admin = admin_url();
        let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
            panic!("Postgres for tests at {admin} (set DEEPRUBIN_TEST_PG_URL): {e}")
        });
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .await
            .expect("create test database");
        conn.close().await.ok();
        let url = url_for(&admin, &name);
        let store = PgStore::connect(&PgConfig::with_url(&url))
            .await
            .expect("connect to the test database");
        TestDb { name, url, store }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (admin_url(), self.name.clone());
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

/// The real server on 127.0.0.1:<free port>; stopped when dropped.
pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start(store: Arc<dyn StateStore>, config: ApiConfig) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let addr = listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let state = AppState::new(store, config);
        tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = api::serve(listener, state, shutdown).await {
                eprintln!("server failed: {e}");
            }
        });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        TestServer {
            base: format!("http://{addr}"),
            client,
            stop: Some(stop),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// GET returning (status, content type, JSON body).
    pub async fn json(&self, path: &str) -> (u16, String, serde_json::Value) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        let content_type = content_type(&response);
        let body = response.text().await.expect("body");
        let value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("GET {path}: body is not JSON ({e}): {body}"));
        (status, content_type, value)
    }

    /// Asserts a JSON error with this status and `error` text, and returns the body.
    pub async fn expect_error(&self, path: &str, status: u16, error: &str) -> serde_json::Value {
        let (got, content_type, body) = self.json(path).await;
        assert_eq!(got, status, "GET {path}: {body}");
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        assert_eq!(body["error"], error, "GET {path}: {body}");
        assert!(body.get("detail").is_some(), "GET {path}: {body}");
        body
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// `shared/data` beside the repository, or `DEEPRUBIN_SHARED_DATA`; `None` when absent.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("DEEPRUBIN_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    dir.is_dir().then_some(dir)
}
