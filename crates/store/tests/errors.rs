//! Failures an operator meets: no server, no schema.

mod common;

use std::time::Duration;

use alert_model::Survey;
use common::TestDb;
use common::fixtures::{single, ztf_id};
use store::{PgConfig, PgStore, StateStore, StoreError};

#[tokio::test]
async fn unreachable_server_is_a_typed_error() {
    let config = PgConfig {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        database_url: "postgres://postgres:secret@127.0.0.1:1/deeprubin".into(),
        connect_timeout: Duration::from_secs(2),
        ..PgConfig::default()
    };
    let err = PgStore::connect(&config).await.unwrap_err();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("127.0.0.1:1"), "{message}");
    assert!(!message.contains("secret"), "password leaked: {message}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn bad_url_is_a_config_error() {
    for url in ["mysql://nope", "postgres://host:99999999/x"] {
        let err = PgStore::connect(&PgConfig::with_url(url))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Config(_)), "{url}: {err}");
    }
}

#[tokio::test]
async fn unmigrated_database_says_to_migrate() {
    let db = TestDb::unmigrated().await;
    let err = db.store.ping().await.unwrap_err();
    assert!(matches!(err, StoreError::NotMigrated { .. }), "{err}");
    assert!(err.to_string().contains("deeprubin migrate"), "{err}");

    let err = db
        .store
        .upsert_alert(&single(&ztf_id(1), 1, 60_000.0))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("deeprubin migrate"), "{err}");
    let err = db
        .store
        .light_curve(Survey::Ztf, &ztf_id(1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotMigrated { .. }), "{err}");

    // Migrating fixes it, and migrating again is harmless.
    db.store.migrate().await.unwrap();
    db.store.migrate().await.unwrap();
    db.store.ping().await.unwrap();
}

#[test]
fn config_defaults() {
    let config = PgConfig::default();
    assert_eq!(config.database_url, store::DEFAULT_DATABASE_URL);
    assert!(config.max_connections > 0);
}
