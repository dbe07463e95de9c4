//! Failure policies: a dead or unmigrated database gives 503 (the process stays live), a slow
//! store hits the request deadline (504), CORS answers only the configured origins.

mod common;

use std::sync::Arc;
use std::time::Duration;

use alert_model::{Alert, ObjectId, Survey};
use api::{ApiConfig, CorsOrigins};
use async_trait::async_trait;
use common::{TestDb, TestServer, fixtures};
use sqlx::postgres::PgPoolOptions;
use store::{
    Classification, LightCurve, MemoryStore, NewClassification, ObjectSummary, PgStore, SearchPage,
    SearchQuery, StateStore, StoreError, StoreStats, UpsertOutcome,
};

/// A store on a loopback port nobody listens on.
async fn dead_store() -> PgStore {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    }; // closed here
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy(&format!("postgres://postgres@127.0.0.1:{port}/gone"))
        .expect("lazy pool");
    PgStore::from_pool(pool)
}

#[tokio::test]
async fn dead_database_is_503_and_liveness_stays_200() {
    let server = TestServer::start(Arc::new(dead_store().await), ApiConfig::default()).await;
    assert_eq!(server.json("/healthz").await.0, 200);
    server
        .expect_error("/readyz", 503, "store unavailable")
        .await;
    for path in [
        "/objects/ZTF18adoojej",
        "/objects/ZTF18adoojej/lightcurve",
        "/objects/ZTF18adoojej/lightcurve.svg",
        "/objects/ZTF18adoojej/classifications",
        "/objects?class=SNIa",
        "/anomalies",
    ] {
        server.expect_error(path, 503, "store unavailable").await;
    }
    // Input is still checked first: a bad request stays a 400.
    server
        .expect_error("/objects/nope", 400, "malformed object id")
        .await;
    let metrics = server.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains(r#"route="/readyz",status="503"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn unmigrated_database_is_not_ready() {
    let db = TestDb::unmigrated().await;
    let server = TestServer::start(Arc::new(db.store.clone()), ApiConfig::default()).await;
    let body = server
        .expect_error("/readyz", 503, "store unavailable")
        .await;
    let reason = body["detail"]["reason"].as_str().expect("reason");
    assert!(reason.contains("migrate"), "{reason}");
    server
        .expect_error("/objects/ZTF18adoojej", 503, "store unavailable")
        .await;
}

/// Answers everything after a delay.
struct SlowStore {
    inner: MemoryStore,
    delay: Duration,
}

#[async_trait]
impl StateStore for SlowStore {
    async fn upsert_alerts(&self, alerts: &[Alert]) -> Result<Vec<UpsertOutcome>, StoreError> {
        self.inner.upsert_alerts(alerts).await
    }
    async fn light_curve(
        &self,
        survey: Survey,
        id: &ObjectId,
    ) -> Result<Option<LightCurve>, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.light_curve(survey, id).await
    }
    async fn object(
        &self,
        survey: Survey,
        id: &ObjectId,
    ) -> Result<Option<ObjectSummary>, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.object(survey, id).await
    }
    async fn record_classification(&self, c: &NewClassification) -> Result<bool, StoreError> {
        self.inner.record_classification(c).await
    }
    async fn classifications(
        &self,
        survey: Survey,
        id: &ObjectId,
    ) -> Result<Vec<Classification>, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.classifications(survey, id).await
    }
    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.search(query).await
    }
    async fn top_anomalies(&self, limit: u32) -> Result<Vec<ObjectSummary>, StoreError> {
        self.inner.top_anomalies(limit).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        self.inner.stats().await
    }
    fn backend(&self) -> &'static str {
        "slow-memory"
    }
}

#[tokio::test]
async fn slow_requests_hit_the_deadline() {
    let store = SlowStore {
        inner: MemoryStore::new(),
        delay: Duration::from_secs(5),
    };
    let config = ApiConfig {
        request_timeout: Duration::from_millis(200),
        ..ApiConfig::default()
    };
    let server = TestServer::start(Arc::new(store), config).await;
    let started = std::time::Instant::now();
    let body = server
        .expect_error("/objects/ZTF18adoojej", 504, "request timed out")
        .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(body["detail"]["timeout_ms"], 200);
    // Quick routes are unaffected.
    assert_eq!(server.json("/readyz").await.0, 200);
}

#[tokio::test]
async fn in_memory_store_serves_the_same_api() {
    let store = MemoryStore::new();
    let id = fixtures::ztf_id(3);
    store
        .upsert_alert(&fixtures::alert(
            Survey::Ztf,
            &id,
            fixtures::detection(30, 60200.0, alert_model::Band::I, 900.0),
            vec![],
            vec![],
            vec![],
        ))
        .await
        .expect("store");
    let server = TestServer::start(Arc::new(store), ApiConfig::default()).await;
    let (status, _, body) = server.json(&format!("/objects/{id}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["detections_per_band"]["i"], 1);
    assert_eq!(server.json("/readyz").await.2["store"], "memory");
}

#[tokio::test]
async fn cors_answers_configured_origins_only() {
    let config = ApiConfig {
        cors_origins: CorsOrigins::parse("https://alerts.example.org, https://other.example.org"),
        ..ApiConfig::default()
    };
    let server = TestServer::start(Arc::new(MemoryStore::new()), config).await;
    let allowed = |origin: &'static str| {
        let request = server
            .client
            .get(format!("{}/classes", server.base))
            .header("Origin", origin);
        async move {
            let response = request.send().await.expect("request");
            response
                .headers()
                .get("access-control-allow-origin")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        }
    };
    assert_eq!(
        allowed("https://alerts.example.org").await.as_deref(),
        Some("https://alerts.example.org")
    );
    assert_eq!(allowed("https://evil.example.com").await, None);

    let any = TestServer::start(
        Arc::new(MemoryStore::new()),
        ApiConfig {
            cors_origins: CorsOrigins::parse("*"),
            ..ApiConfig::default()
        },
    )
    .await;
    let response = any
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/objects", any.base))
        .header("Origin", "https://anywhere.example")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .expect("preflight");
    assert!(response.status().is_success());
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("*")
    );
}
