//! The benchmark runs end to end on both stores (tiny N; the real runs use `deeprubin bench-store`).

mod common;

use common::TestDb;
use store::bench::{BenchConfig, run};
use store::{MemoryStore, StateStore};

fn tiny() -> BenchConfig {
    BenchConfig {
        objects: 120,
        batch_size: 50,
        light_curve_samples: 40,
        ..BenchConfig::default()
    }
}

#[tokio::test]
async fn bench_on_memory() {
    let store = MemoryStore::new();
    let report = run(&store, &tiny()).await.unwrap();
    assert_eq!((report.alerts, report.new_detections), (120, 3600));
    assert!(report.total_bytes.is_none());
    assert!(report.to_string().contains("alerts/s"));
}

#[tokio::test]
async fn bench_on_postgres() {
    let db = TestDb::new().await;
    let report = run(&db.store, &tiny()).await.unwrap();
    assert_eq!((report.alerts, report.new_detections), (120, 3600));
    assert!(report.bytes_per_million_detections.unwrap() > 0.0);
    assert!(report.light_curve_p99 >= report.light_curve_p50);
    println!("{report}");
    // Loading again stores nothing new.
    let again = run(&db.store, &tiny()).await.unwrap();
    assert_eq!(again.new_detections, 0);
    assert_eq!(db.store.stats().await.unwrap().detections, 3600);
}
