//! One contract, two stores: every case runs against `MemoryStore` and against `PgStore` on a
//! fresh Postgres database.

mod common;

use std::collections::HashSet;

use alert_model::{Band, ObjectId, Survey};
use common::fixtures::{alert, classification, detection, forced, limit, single, ztf_id};
use store::{SearchQuery, StateStore, StoreError, UpsertOutcome};

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $case() {
                    let store = store::MemoryStore::new();
                    super::$case(&store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let db = crate::common::TestDb::new().await;
                    super::$case(&db.store).await;
                }
            )*
        }
    };
}

contract!(
    upsert_counts_and_replay,
    batch_gives_each_measurement_to_its_first_alert,
    light_curve_is_ordered_and_keeps_signs,
    object_summary_aggregates,
    unknown_object,
    classification_history,
    search_filters,
    search_pages_cover_everything_once,
    top_anomalies_order,
    ping_and_stats,
    batched_classifications_and_light_curves,
    new_object_carrying_a_source_stored_under_another,
);

/// A new object's alert that repeats a detection already stored under another object (bad
/// input): the source stays with its first object, and the new object counts only what it got.
async fn new_object_carrying_a_source_stored_under_another(store: &dyn StateStore) {
    let first = ztf_id(41);
    let second = ztf_id(42);
    store
        .upsert_alert(&single(&first, 410, 60_000.0))
        .await
        .unwrap();
    let candidate = detection(420, 60_010.0, Band::R, 700.0);
    let a = alert(
        Survey::Ztf,
        &second,
        candidate.clone(),
        vec![detection(410, 60_000.0, Band::G, 1000.0)],
        vec![],
        vec![limit(59_990.0, Band::R, 20.5)],
    );
    let outcome = store.upsert_alert(&a).await.unwrap();
    assert_eq!((outcome.new_detections, outcome.new_upper_limits), (1, 1));
    let o = store.object(Survey::Ztf, &second).await.unwrap().unwrap();
    assert_eq!(o.n_detections, 1);
    assert_eq!((o.first_mjd.0, o.last_mjd.0), (60_010.0, 60_010.0));
    assert_eq!((o.ra, o.dec), (candidate.ra, candidate.dec));
    assert_eq!(o.n_upper_limits, 1);
    let f = store.object(Survey::Ztf, &first).await.unwrap().unwrap();
    assert_eq!(f.n_detections, 1);
}

/// The stream's batch calls agree with the one-object calls.
async fn batched_classifications_and_light_curves(store: &dyn StateStore) {
    let a = ztf_id(31);
    let b = ztf_id(32);
    store
        .upsert_alert(&single(&a, 310, 60_000.0))
        .await
        .unwrap();
    store
        .upsert_alert(&single(&a, 311, 60_002.0))
        .await
        .unwrap();
    store
        .upsert_alert(&single(&b, 320, 60_001.0))
        .await
        .unwrap();
    let unknown = ztf_id(33);
    let keys = vec![
        (Survey::Ztf, a.clone()),
        (Survey::Ztf, unknown),
        (Survey::Ztf, b.clone()),
    ];
    let curves = store.light_curves(&keys).await.unwrap();
    assert_eq!(curves.len(), 2, "objects never seen are left out");
    for curve in &curves {
        let single = store
            .light_curve(curve.survey, &curve.object_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(curve, &single);
    }

    let batch = vec![
        classification(Survey::Ztf, &a, 310, "2.0", "SNII", 0.5, 0.1),
        classification(Survey::Ztf, &b, 320, "2.0", "RRL", 0.9, 0.2),
        classification(Survey::Ztf, &a, 311, "2.0", "SNIa", 0.7, 0.6),
    ];
    assert_eq!(
        store.record_classifications(&batch).await.unwrap(),
        [true, true, true]
    );
    // A replayed batch inserts nothing; a batch mixing old and new says which is which.
    let mut again = batch.clone();
    again.push(classification(Survey::Ztf, &b, 320, "2.1", "RRL", 0.8, 0.3));
    assert_eq!(
        store.record_classifications(&again).await.unwrap(),
        [false, false, false, true]
    );
    // The object's latest is its last classification in batch order.
    let latest = store
        .object(Survey::Ztf, &a)
        .await
        .unwrap()
        .unwrap()
        .latest_classification
        .unwrap();
    assert_eq!((latest.class.as_str(), latest.anomaly_score), ("SNIa", 0.6));
    assert_eq!(
        store.classifications(Survey::Ztf, &a).await.unwrap().len(),
        2
    );
    assert_eq!(
        store.classifications(Survey::Ztf, &b).await.unwrap().len(),
        2
    );
}

async fn upsert_counts_and_replay(store: &dyn StateStore) {
    let oid = ztf_id(1);
    let first = alert(
        Survey::Ztf,
        &oid,
        detection(11, 60_002.0, Band::R, 1500.0),
        vec![detection(10, 60_000.0, Band::G, -800.0)],
        vec![
            forced(None, 59_990.0, Band::G, 12.0),
            forced(None, 59_991.0, Band::R, -3.0),
        ],
        vec![
            limit(59_995.0, Band::G, 20.5),
            limit(59_996.0, Band::R, 20.1),
        ],
    );
    let outcome = store.upsert_alert(&first).await.unwrap();
    assert_eq!(
        outcome,
        UpsertOutcome {
            new_detections: 2,
            new_forced_photometry: 2,
            new_upper_limits: 2,
            nothing_new: false
        }
    );
    let object_before = store.object(Survey::Ztf, &oid).await.unwrap().unwrap();
    let stats_before = store.stats().await.unwrap();

    let replay = store.upsert_alert(&first).await.unwrap();
    assert_eq!(
        replay,
        UpsertOutcome {
            nothing_new: true,
            ..UpsertOutcome::default()
        }
    );
    assert_eq!(
        store.object(Survey::Ztf, &oid).await.unwrap().unwrap(),
        object_before
    );
    assert_eq!(store.stats().await.unwrap(), stats_before);

    // The next alert repeats the history and adds one detection and one limit.
    let second = alert(
        Survey::Ztf,
        &oid,
        detection(12, 60_004.0, Band::G, 2100.0),
        vec![
            detection(10, 60_000.0, Band::G, -800.0),
            detection(11, 60_002.0, Band::R, 1500.0),
        ],
        vec![forced(None, 59_990.0, Band::G, 12.0)],
        vec![
            limit(59_996.0, Band::R, 20.1),
            limit(60_003.0, Band::R, 20.3),
        ],
    );
    let outcome = store.upsert_alert(&second).await.unwrap();
    assert_eq!(
        outcome,
        UpsertOutcome {
            new_detections: 1,
            new_forced_photometry: 0,
            new_upper_limits: 1,
            nothing_new: false
        }
    );
    let object = store.object(Survey::Ztf, &oid).await.unwrap().unwrap();
    assert_eq!(object.n_detections, 3);
    assert_eq!(object.n_forced_photometry, 2);
    assert_eq!(object.n_upper_limits, 3);
    assert!(object.updated_at >= object_before.updated_at);
}

async fn batch_gives_each_measurement_to_its_first_alert(store: &dyn StateStore) {
    let (a, b) = (ztf_id(2), ztf_id(3));
    let a1 = single(&a, 20, 60_010.0);
    let mut a2 = single(&a, 21, 60_011.0);
    a2.previous_detections
        .push(detection(20, 60_010.0, Band::G, 1000.0));
    let b1 = single(&b, 30, 60_012.0);
    // Forced points identified by id, shared by two alerts of the batch.
    let mut l1 = alert(
        Survey::Lsst,
        &ObjectId::from_lsst(77).unwrap(),
        detection(40, 60_013.0, Band::Y, 300.0),
        vec![],
        vec![forced(Some(900), 60_001.0, Band::Z, -40.0)],
        vec![],
    );
    l1.forced_photometry
        .push(forced(Some(901), 60_002.0, Band::Z, 41.0));
    let mut l2 = l1.clone();
    l2.candidate = detection(41, 60_014.0, Band::Y, 310.0);

    let outcomes = store.upsert_alerts(&[a1, a2, b1, l1, l2]).await.unwrap();
    let counts: Vec<(u32, u32, u32, bool)> = outcomes
        .iter()
        .map(|o| {
            (
                o.new_detections,
                o.new_forced_photometry,
                o.new_upper_limits,
                o.nothing_new,
            )
        })
        .collect();
    assert_eq!(
        counts,
        vec![
            (1, 0, 0, false),
            (1, 0, 0, false),
            (1, 0, 0, false),
            (1, 2, 0, false),
            (1, 0, 0, false),
        ]
    );
    assert_eq!(
        store
            .object(Survey::Ztf, &a)
            .await
            .unwrap()
            .unwrap()
            .n_detections,
        2
    );
    let lsst = store
        .object(Survey::Lsst, &ObjectId::from_lsst(77).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((lsst.n_detections, lsst.n_forced_photometry), (2, 2));
    assert_eq!(lsst.detections_per_band.get(Band::Y), 2);
    assert!(store.upsert_alerts(&[]).await.unwrap().is_empty());
}

async fn light_curve_is_ordered_and_keeps_signs(store: &dyn StateStore) {
    let oid = ztf_id(4);
    let history = vec![
        detection(53, 60_030.5, Band::R, -2500.0),
        detection(51, 60_021.0, Band::G, 900.0),
        detection(52, 60_025.25, Band::G, -1200.5),
    ];
    let candidate = detection(54, 60_033.0, Band::G, 3100.0);
    let a = alert(
        Survey::Ztf,
        &oid,
        candidate.clone(),
        history.clone(),
        vec![
            forced(None, 60_020.0, Band::R, -7.5),
            forced(None, 60_010.0, Band::G, 4.0),
        ],
        vec![
            limit(60_015.0, Band::R, 20.0),
            limit(60_005.0, Band::G, 19.5),
        ],
    );
    store.upsert_alert(&a).await.unwrap();
    let lc = store.light_curve(Survey::Ztf, &oid).await.unwrap().unwrap();
    assert_eq!((lc.survey, &lc.object_id), (Survey::Ztf, &oid));

    let mut expected = history;
    expected.push(candidate);
    expected.sort_by(|x, y| x.mjd.0.total_cmp(&y.mjd.0));
    // Everything comes back bit for bit: flux sign, magnitude, quality.
    assert_eq!(lc.detections, expected);
    assert!(lc.detections.iter().any(|d| d.flux.0 < 0.0));

    let forced_mjds: Vec<f64> = lc.forced_photometry.iter().map(|f| f.mjd.0).collect();
    assert_eq!(forced_mjds, vec![60_010.0, 60_020.0]);
    assert_eq!(lc.forced_photometry[1].flux.0, -7.5);
    let limit_mjds: Vec<f64> = lc.upper_limits.iter().map(|u| u.mjd.0).collect();
    assert_eq!(limit_mjds, vec![60_005.0, 60_015.0]);
    assert_eq!(lc.upper_limits[0].limiting_mag, 19.5);
}

async fn object_summary_aggregates(store: &dyn StateStore) {
    let oid = ztf_id(5);
    let latest = detection(63, 60_050.0, Band::R, 500.0);
    let a = alert(
        Survey::Ztf,
        &oid,
        detection(62, 60_045.0, Band::G, 400.0),
        vec![latest.clone(), detection(61, 60_040.0, Band::G, 300.0)],
        vec![],
        vec![limit(60_001.0, Band::G, 20.0)],
    );
    store.upsert_alert(&a).await.unwrap();
    let o = store.object(Survey::Ztf, &oid).await.unwrap().unwrap();
    assert_eq!((o.survey, &o.object_id), (Survey::Ztf, &oid));
    assert_eq!(o.n_detections, 3);
    assert_eq!(
        (
            o.detections_per_band.get(Band::G),
            o.detections_per_band.get(Band::R)
        ),
        (2, 1)
    );
    assert_eq!((o.first_mjd.0, o.last_mjd.0), (60_040.0, 60_050.0));
    // The position is the latest detection's, even when it is not the alert's candidate.
    assert_eq!((o.ra, o.dec), (latest.ra, latest.dec));
    assert_eq!(o.n_upper_limits, 1);
    assert!(o.latest_classification.is_none());
}

async fn unknown_object(store: &dyn StateStore) {
    let oid = ztf_id(6);
    assert!(
        store
            .light_curve(Survey::Ztf, &oid)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.object(Survey::Ztf, &oid).await.unwrap().is_none());
    assert!(
        store
            .classifications(Survey::Ztf, &oid)
            .await
            .unwrap()
            .is_empty()
    );
    let c = classification(Survey::Ztf, &oid, 1, "1.0", "SNIa", 0.9, 0.1);
    let err = store.record_classification(&c).await.unwrap_err();
    assert!(matches!(err, StoreError::UnknownObject { .. }), "{err}");
    // Same id under the other survey is another object.
    store
        .upsert_alert(&single(&oid, 70, 60_000.0))
        .await
        .unwrap();
    let lsst = ObjectId::from_lsst(6).unwrap();
    assert!(store.object(Survey::Lsst, &lsst).await.unwrap().is_none());
}

async fn classification_history(store: &dyn StateStore) {
    let oid = ztf_id(7);
    store
        .upsert_alert(&single(&oid, 80, 60_000.0))
        .await
        .unwrap();
    store
        .upsert_alert(&single(&oid, 81, 60_003.0))
        .await
        .unwrap();
    let c1 = classification(Survey::Ztf, &oid, 80, "1.0", "SNIa", 0.6, 0.2);
    let c2 = classification(Survey::Ztf, &oid, 81, "1.0", "SNII", 0.7, 0.3);
    let c3 = classification(Survey::Ztf, &oid, 81, "1.1", "SNIa", 0.8, 0.4);
    assert!(store.record_classification(&c1).await.unwrap());
    assert!(store.record_classification(&c2).await.unwrap());
    assert!(store.record_classification(&c3).await.unwrap());
    let before = store.object(Survey::Ztf, &oid).await.unwrap().unwrap();
    // A replay is recognised and changes nothing, not even the object's latest class.
    assert!(!store.record_classification(&c1).await.unwrap());
    assert_eq!(
        store.object(Survey::Ztf, &oid).await.unwrap().unwrap(),
        before
    );

    let history = store.classifications(Survey::Ztf, &oid).await.unwrap();
    let got: Vec<_> = history.iter().map(|c| c.classification.clone()).collect();
    assert_eq!(got, vec![c3.clone(), c2, c1]);
    assert!(history[0].id > history[1].id && history[1].id > history[2].id);
    let latest = before.latest_classification.unwrap();
    assert_eq!(
        (
            latest.class.as_str(),
            latest.probability,
            latest.anomaly_score,
            latest.model_version.as_str()
        ),
        ("SNIa", 0.8, 0.4, "1.1")
    );
    assert_eq!(latest.classified_at, history[0].created_at);
}

/// Objects 100.. with last MJD 60100 + i/2 (pairs share an epoch, to exercise tie-breaking),
/// every third classified.
async fn populate(store: &dyn StateStore, n: u32) -> Vec<ObjectId> {
    let mut ids = Vec::new();
    let mut alerts = Vec::new();
    for i in 0..n {
        let oid = ztf_id(100 + i);
        alerts.push(single(
            &oid,
            1000 + i64::from(i),
            60_100.0 + f64::from(i / 2),
        ));
        ids.push(oid);
    }
    alerts.push(single(&ztf_id(99), 999, 60_200.0)); // newest of all, never classified
    let lsst = ObjectId::from_lsst(5).unwrap();
    let mut l = single(&lsst, 5000, 60_150.0);
    l.survey = Survey::Lsst;
    alerts.push(l);
    store.upsert_alerts(&alerts).await.unwrap();
    for (i, oid) in ids.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        let class = if i % 2 == 0 { "SNIa" } else { "AGN" };
        let c = classification(
            Survey::Ztf,
            oid,
            1000 + i as i64,
            "1.0",
            class,
            0.5 + i as f64 / 100.0,
            i as f64 / 10.0,
        );
        store.record_classification(&c).await.unwrap();
    }
    let c = classification(Survey::Lsst, &lsst, 5000, "1.0", "SNIa", 0.99, 9.0);
    store.record_classification(&c).await.unwrap();
    ids
}

async fn search_filters(store: &dyn StateStore) {
    populate(store, 24).await;
    let all = |q: SearchQuery| async move {
        let page = store
            .search(&SearchQuery { limit: 1000, ..q })
            .await
            .unwrap();
        assert!(page.next_cursor.is_none());
        page.objects
    };
    let snia = all(SearchQuery {
        class: Some("SNIa".into()),
        ..SearchQuery::default()
    })
    .await;
    // i in {0, 6, 12, 18} plus the LSST object.
    assert_eq!(snia.len(), 5);
    assert!(
        snia.iter()
            .all(|o| o.latest_classification.as_ref().unwrap().class == "SNIa")
    );

    let ztf_snia = all(SearchQuery {
        class: Some("SNIa".into()),
        survey: Some(Survey::Ztf),
        min_probability: Some(0.6),
        ..SearchQuery::default()
    })
    .await;
    let ids: Vec<&str> = ztf_snia.iter().map(|o| o.object_id.as_str()).collect();
    assert_eq!(ids, vec![ztf_id(118).as_str(), ztf_id(112).as_str()]);

    let anomalous = all(SearchQuery {
        min_anomaly_score: Some(1.5),
        ..SearchQuery::default()
    })
    .await;
    // i in {15, 18, 21} and the LSST object (9.0).
    assert_eq!(anomalous.len(), 4);

    let recent = all(SearchQuery {
        since_mjd: Some(60_110.0),
        ..SearchQuery::default()
    })
    .await;
    // i >= 20 (last MJD 60110, 60111), the LSST object, ztf_id(99).
    assert_eq!(recent.len(), 6);
    assert_eq!(recent[0].object_id, ztf_id(99));
    assert!(
        recent
            .windows(2)
            .all(|w| w[0].last_mjd.0 >= w[1].last_mjd.0)
    );

    let lsst_only = all(SearchQuery {
        survey: Some(Survey::Lsst),
        ..SearchQuery::default()
    })
    .await;
    assert_eq!(lsst_only.len(), 1);

    let bad = store
        .search(&SearchQuery {
            cursor: Some("not a cursor".into()),
            ..SearchQuery::default()
        })
        .await;
    assert!(matches!(bad, Err(StoreError::InvalidCursor(_))));
}

async fn search_pages_cover_everything_once(store: &dyn StateStore) {
    populate(store, 31).await;
    let everything = store
        .search(&SearchQuery {
            limit: 1000,
            ..SearchQuery::default()
        })
        .await
        .unwrap()
        .objects;
    assert_eq!(everything.len(), 33);

    for limit in [1, 4, 7, 33] {
        let mut seen = Vec::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let page = store
                .search(&SearchQuery {
                    limit,
                    cursor: cursor.take(),
                    ..SearchQuery::default()
                })
                .await
                .unwrap();
            pages += 1;
            assert!(page.objects.len() <= limit as usize);
            seen.extend(page.objects);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let keys: Vec<_> = seen
            .iter()
            .map(|o| (o.survey, o.object_id.clone()))
            .collect();
        let distinct: HashSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "duplicates with limit {limit}");
        assert_eq!(
            seen, everything,
            "pages with limit {limit} differ from one big page"
        );
        assert_eq!(pages, 33_usize.div_ceil(limit as usize));
    }

    // A filtered walk: the cursor carries position, the filters stay the caller's.
    let mut cursor = None;
    let mut n = 0;
    loop {
        let page = store
            .search(&SearchQuery {
                min_probability: Some(0.0),
                limit: 2,
                cursor: cursor.take(),
                ..SearchQuery::default()
            })
            .await
            .unwrap();
        n += page.objects.len();
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(n, 12); // i in 0, 3, …, 30 and the LSST object
}

async fn top_anomalies_order(store: &dyn StateStore) {
    populate(store, 24).await;
    let top = store.top_anomalies(3).await.unwrap();
    let scores: Vec<f64> = top
        .iter()
        .map(|o| o.latest_classification.as_ref().unwrap().anomaly_score)
        .collect();
    assert_eq!(scores, vec![9.0, 2.1, 1.8]);
    assert_eq!(top[0].survey, Survey::Lsst);
    // Only classified objects appear.
    assert_eq!(store.top_anomalies(1000).await.unwrap().len(), 9);
    assert!(store.top_anomalies(0).await.unwrap().is_empty());
}

async fn ping_and_stats(store: &dyn StateStore) {
    store.ping().await.unwrap();
    assert!(matches!(store.backend(), "memory" | "postgres"));
    assert_eq!(store.stats().await.unwrap().objects, 0);
    populate(store, 6).await;
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (stats.objects, stats.detections, stats.classifications),
        (8, 8, 3)
    );
    assert_eq!(stats.total_bytes.is_some(), store.backend() == "postgres");
}
