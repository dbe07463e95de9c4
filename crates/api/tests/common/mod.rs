//! Test helpers: the shared per-test database (`store::testing`), the real server on a free
//! loopback port, and alerts built in code.
#![allow(dead_code)] // each test binary uses a different subset

pub mod fixtures;

use std::sync::Arc;
use std::time::Duration;

use api::{ApiConfig, AppState};
use store::StateStore;
use tokio::sync::oneshot;

#[allow(unused_imports)] // each test binary uses a different subset
pub use store::testing::{TestDb, shared_data};

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
