//! Real ZTF alert packets from `shared/data`, stored twice.

mod common;

use alert_model::AlertDecoder;
use common::{TestDb, shared_data};
use store::{MemoryStore, StateStore, ingest_files};

#[tokio::test]
async fn real_ztf_alerts_store_idempotently() {
    let Some(data) = shared_data() else {
        println!(
            "SKIP real_ztf_alerts_store_idempotently: no shared/data (set DEEPRUBIN_SHARED_DATA)"
        );
        return;
    };
    let dir = data.join("ztf/alerts");
    if !dir.is_dir() {
        println!(
            "SKIP real_ztf_alerts_store_idempotently: {} is absent",
            dir.display()
        );
        return;
    }
    let dirs = vec![dir.clone()];
    let db = TestDb::new().await;
    let memory = MemoryStore::new();
    let decoder = AlertDecoder::new();
    let mut calls = 0;
    let mut progress = |_: &store::IngestProgress| calls += 1;

    let first = ingest_files(&db.store, &dirs, &decoder, &mut progress)
        .await
        .unwrap();
    assert_eq!(first.errors, 0, "{:?}", first.failures);
    assert!(first.alerts >= 400, "{first:?}");
    assert!(first.new_detections > 0);
    let stats = db.store.stats().await.unwrap();
    assert_eq!(stats.detections, first.new_detections);

    let second = ingest_files(&db.store, &dirs, &decoder, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(second.alerts, first.alerts);
    assert_eq!((second.new_detections, second.new_upper_limits), (0, 0));
    assert_eq!(second.duplicates, second.alerts);
    assert_eq!(
        db.store.stats().await.unwrap(),
        stats,
        "a replay changed row counts"
    );
    assert!(calls > 0);

    // The in-process store reaches the same counts from the same files.
    ingest_files(&memory, &dirs, &decoder, &mut |_| {})
        .await
        .unwrap();
    let m = memory.stats().await.unwrap();
    assert_eq!(
        (m.objects, m.detections, m.forced_photometry, m.upper_limits),
        (
            stats.objects,
            stats.detections,
            stats.forced_photometry,
            stats.upper_limits
        )
    );

    // The last packet's history is in the read-back light curve, sign and all.
    let mut files: Vec<_> = std::fs::read_dir(dir.join("astrolabsoftware__fink-broker"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    let last = files.last().expect("fink-broker packets");
    let alert = decoder
        .decode(&std::fs::read(last).unwrap())
        .unwrap()
        .pop()
        .unwrap();
    let lc = db
        .store
        .light_curve(alert.survey, &alert.object_id)
        .await
        .unwrap()
        .expect("stored object");
    for d in alert.detections() {
        let stored = lc
            .detections
            .iter()
            .find(|s| s.source_id == d.source_id)
            .unwrap_or_else(|| panic!("source {} missing", d.source_id));
        assert_eq!(stored.flux, d.flux, "flux of {}", d.source_id);
        assert_eq!(stored.band, d.band);
        assert_eq!(stored.mjd, d.mjd);
    }
    assert!(lc.detections.windows(2).all(|w| w[0].mjd.0 <= w[1].mjd.0));
    for u in &alert.upper_limits {
        assert!(
            lc.upper_limits
                .iter()
                .any(|s| s.mjd == u.mjd && s.band == u.band)
        );
    }
    // Real ZTF histories hold negative differences; the store keeps them negative.
    let negatives = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM detections WHERE flux < 0")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    println!(
        "{} detections, {negatives} with negative difference flux",
        stats.detections
    );
}

#[tokio::test]
async fn unreadable_files_are_counted_not_fatal() {
    let dir = std::env::temp_dir().join(format!("store_ingest_{}", std::process::id()));
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    std::fs::write(dir.join("nested/garbage.avro"), b"not avro at all").unwrap();
    std::fs::write(dir.join("ignored.txt"), b"not an alert").unwrap();
    let store = MemoryStore::new();
    let summary = ingest_files(
        &store,
        &[dir.clone(), dir.join("missing.avro")],
        &AlertDecoder::new(),
        &mut |_| {},
    )
    .await
    .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!((summary.alerts, summary.files, summary.errors), (0, 0, 2));
    assert_eq!(summary.failures.len(), 2);
    assert!(
        summary
            .failures
            .iter()
            .any(|f| f.path.ends_with("garbage.avro"))
    );
}
