//! Several processes writing alerts of the same objects at once (architecture.md, "Scale").

mod common;

use std::collections::{BTreeMap, BTreeSet};

use alert_model::{Alert, Band, Survey};
use common::TestDb;
use common::fixtures::{alert, detection, limit, ztf_id};
use store::StateStore;

const WRITERS: usize = 8;
const OBJECTS: u32 = 2;
const EPOCHS: i64 = 120;

/// Alert `k` of object `o`: detection k plus the previous three as history, like ZTF packets.
fn object_alert(o: u32, k: i64) -> Alert {
    let source = |k: i64| i64::from(o) * 1000 + k;
    let band = |k: i64| if k % 2 == 0 { Band::G } else { Band::R };
    let mjd = |k: i64| 60_000.0 + 2.5 * k as f64;
    let history = ((k - 3).max(0)..k)
        .map(|j| detection(source(j), mjd(j), band(j), -500.0 + 40.0 * j as f64))
        .collect();
    alert(
        Survey::Ztf,
        &ztf_id(o),
        detection(source(k), mjd(k), band(k), -500.0 + 40.0 * k as f64),
        history,
        vec![],
        vec![limit(mjd(k) - 1.0, band(k), 20.2)],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_lose_nothing() {
    let db = TestDb::new().await;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        // Each writer is its own "process": its own pool of one connection.
        let store = db.connect(1).await;
        tasks.push(tokio::spawn(async move {
            // Every writer sends an overlapping share of every object's alerts, in its own order,
            // as batches that span all objects (in rotated order, to provoke lock-order cycles).
            let mut alerts: Vec<Alert> = Vec::new();
            for k in 0..EPOCHS {
                if !(k as usize + w).is_multiple_of(3) {
                    for o in 0..OBJECTS {
                        alerts.push(object_alert((o + w as u32) % OBJECTS, k));
                    }
                }
            }
            if w % 2 == 1 {
                alerts.reverse();
            }
            let mut new = 0u64;
            for chunk in alerts.chunks(1 + w % 3) {
                for outcome in store.upsert_alerts(chunk).await.expect("upsert") {
                    new += u64::from(outcome.new_detections);
                }
            }
            new
        }));
    }
    let mut reported_new = 0;
    for t in tasks {
        reported_new += t.await.unwrap();
    }

    // Every detection exactly once, and the outcomes agree with the table.
    let expected: BTreeSet<i64> = (0..OBJECTS)
        .flat_map(|o| (0..EPOCHS).map(move |k| i64::from(o) * 1000 + k))
        .collect();
    let stats = db.store.stats().await.unwrap();
    assert_eq!(stats.detections, expected.len() as u64);
    assert_eq!(
        reported_new,
        expected.len() as u64,
        "a detection was counted new twice"
    );

    // Each object row matches a recount from the detection table.
    let rows: Vec<(String, i64, i64, i64, f64, f64)> = sqlx::query_as(
        "SELECT object_id, count(*), count(*) FILTER (WHERE band = 'g'),
                count(*) FILTER (WHERE band = 'r'), min(mjd), max(mjd)
         FROM detections GROUP BY object_id",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    let recount: BTreeMap<String, (i64, i64, i64, f64, f64)> = rows
        .into_iter()
        .map(|(id, n, g, r, first, last)| (id, (n, g, r, first, last)))
        .collect();
    for o in 0..OBJECTS {
        let oid = ztf_id(o);
        let row = db.store.object(Survey::Ztf, &oid).await.unwrap().unwrap();
        let (n, g, r, first, last) = recount[oid.as_str()];
        assert_eq!(i64::from(row.n_detections), n);
        assert_eq!(n, EPOCHS);
        assert_eq!(i64::from(row.detections_per_band.get(Band::G)), g);
        assert_eq!(i64::from(row.detections_per_band.get(Band::R)), r);
        assert_eq!((row.first_mjd.0, row.last_mjd.0), (first, last));
        let lc = db
            .store
            .light_curve(Survey::Ztf, &oid)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.n_upper_limits as usize, lc.upper_limits.len());
        assert_eq!(lc.upper_limits.len(), EPOCHS as usize);
    }
}
