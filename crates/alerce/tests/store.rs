//! ALeRCE light curves through the store's idempotent path and back out of the HTTP API, on a real
//! Postgres (127.0.0.1:5432, trust auth; `DEEPRUBIN_TEST_PG_URL` overrides).

mod common;

use std::sync::Arc;

use alerce::{AlerceClient, FetchedObject};
use alert_model::{ObjectId, Survey};
use common::{FakeAlerce, OID};
use store::{PgStore, StateStore};
use test_support::TestDb;

async fn fetch(client: &Arc<AlerceClient>) -> FetchedObject {
    let client = client.clone();
    tokio::task::spawn_blocking(move || client.fetch(OID))
        .await
        .expect("fetch task")
        .expect("fetch")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetching_twice_stores_the_same_rows_and_the_api_serves_them() {
    let server = FakeAlerce::with_fixtures();
    let client = Arc::new(server.client(3));
    let db = TestDb::new().await;
    let store = db.store.clone();
    let result = scenario(&client, store).await;
    drop(db);
    result.unwrap();
}

async fn scenario(client: &Arc<AlerceClient>, store: PgStore) -> Result<(), String> {
    let oid = ObjectId::parse(Survey::Ztf, OID).map_err(|e| e.to_string())?;
    let first = fetch(client).await;
    let alert = first.alert().ok_or("no alert")?;
    let outcome = store
        .upsert_alerts(&[alert])
        .await
        .map_err(|e| e.to_string())?;
    check(outcome[0].new_detections == 5, "5 new detections")?;
    check(outcome[0].new_upper_limits == 2, "2 new upper limits")?;
    let stats = store.stats().await.map_err(|e| e.to_string())?;
    let stored = store
        .light_curve(Survey::Ztf, &oid)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("object not stored")?;

    // The same fetch again: nothing new, the same rows.
    let again = fetch(client).await.alert().ok_or("no alert")?;
    let outcome = store
        .upsert_alerts(&[again])
        .await
        .map_err(|e| e.to_string())?;
    check(outcome[0].nothing_new, "second fetch adds nothing")?;
    check(
        store.stats().await.map_err(|e| e.to_string())? == stats,
        "same counts",
    )?;
    let stored_again = store
        .light_curve(Survey::Ztf, &oid)
        .await
        .map_err(|e| e.to_string())?;
    check(stored_again.as_ref() == Some(&stored), "same light curve")?;
    check(
        stats.objects == 1 && stats.detections == 5 && stats.upper_limits == 2,
        "row counts",
    )?;
    check(
        stored.detections == first.light_curve.detections,
        "stored detections as mapped",
    )?;

    // Round trip through the HTTP API.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = api::AppState::new(Arc::new(store), api::ApiConfig::default());
    let served = tokio::spawn(api::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let url = format!("http://{addr}/objects/{OID}/lightcurve");
    let body = tokio::task::spawn_blocking(move || -> Result<String, String> {
        let mut response = ureq::get(&url)
            .call()
            .map_err(|e| format!("GET {url}: {e}"))?;
        response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    let _ = stop.send(());
    let _ = served.await;
    let view: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
    let detections = view["detections"]
        .as_array()
        .ok_or("no detections in the API answer")?;
    check(detections.len() == 5, "5 detections served")?;
    for (served, mapped) in detections.iter().zip(&first.light_curve.detections) {
        check(
            served["source_id"].as_i64() == Some(mapped.source_id.0),
            "source ids",
        )?;
        check(
            served["band"].as_str() == Some(mapped.band.as_str()),
            "bands",
        )?;
        let flux = served["flux"].as_f64().ok_or("flux")?;
        check(
            (flux - mapped.flux.0).abs() <= 1e-9 * mapped.flux.0.abs(),
            "fluxes in nJy",
        )?;
    }
    let limits = view["upper_limits"].as_array().ok_or("no upper limits")?;
    let mags: Vec<f64> = limits.iter().filter_map(|l| l["mag"].as_f64()).collect();
    check(mags == [20.1, 20.4], "limiting magnitudes")?;
    Ok(())
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    ok.then_some(()).ok_or_else(|| format!("failed: {what}"))
}
