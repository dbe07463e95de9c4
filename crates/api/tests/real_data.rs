//! The API over real ZTF alert packets from `shared/data` (skipped when the folder is absent).

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use alert_model::{AlertDecoder, ObjectId, SourceId, Survey};
use api::ApiConfig;
use common::{TestDb, TestServer, content_type, shared_data};
use store::{NewClassification, SearchQuery, StateStore, ingest_files};

#[tokio::test]
async fn real_ztf_objects_through_the_api() {
    let Some(dir) = shared_data()
        .map(|d| d.join("ztf/alerts"))
        .filter(|d| d.is_dir())
    else {
        println!(
            "SKIP real_ztf_objects_through_the_api: no shared/data/ztf/alerts (set DEEPRUBIN_SHARED_DATA)"
        );
        return;
    };
    let db = TestDb::new().await;
    let summary = ingest_files(&db.store, &[dir], &AlertDecoder::new(), &mut |_| {})
        .await
        .expect("ingest");
    assert_eq!(summary.errors, 0, "{:?}", summary.failures);
    let page = db
        .store
        .search(&SearchQuery {
            limit: 1000,
            ..SearchQuery::default()
        })
        .await
        .expect("search");
    let objects = page.objects;
    assert!(objects.len() >= 10, "{} objects", objects.len());

    // Classify the five best-sampled objects, the best as SNIa.
    let mut by_size = objects.clone();
    by_size.sort_by_key(|o| std::cmp::Reverse(o.n_detections));
    let classified: Vec<ObjectId> = by_size
        .iter()
        .take(5)
        .map(|o| o.object_id.clone())
        .collect();
    for (rank, id) in classified.iter().enumerate() {
        let lc = db
            .store
            .light_curve(Survey::Ztf, id)
            .await
            .expect("light curve")
            .expect("stored");
        let source: SourceId = lc.detections.last().expect("a detection").source_id;
        let class = if rank == 0 { "SNIa" } else { "QSO" };
        let c = NewClassification {
            survey: Survey::Ztf,
            object_id: id.clone(),
            source_id: source,
            model_name: "test".into(),
            model_version: "0".into(),
            probabilities: BTreeMap::from([(class.to_owned(), 0.9)]),
            top_level_probabilities: BTreeMap::new(),
            predicted_class: class.into(),
            probability: 0.9,
            uncertainty: 0.1,
            anomaly_score: rank as f64,
        };
        db.store.record_classification(&c).await.expect("classify");
    }
    let server = TestServer::start(Arc::new(db.store.clone()), ApiConfig::default()).await;

    for object in &objects {
        let id = &object.object_id;
        let (status, _, body) = server.json(&format!("/objects/{id}")).await;
        assert_eq!(status, 200, "{id}: {body}");
        assert_eq!(body["n_detections"], object.n_detections, "{id}");
        let (status, _, lc) = server.json(&format!("/objects/{id}/lightcurve")).await;
        assert_eq!(status, 200, "{id}");
        let detections = lc["detections"].as_array().expect("detections");
        assert_eq!(detections.len() as u32, object.n_detections, "{id}");
        assert_eq!(
            lc["upper_limits"].as_array().map(|a| a.len() as u32),
            Some(object.n_upper_limits)
        );
        // ZTF magnitudes are 13–23 for real transients; the AB conversion must land there.
        for d in detections {
            if let Some(mag) = d["mag"].as_f64() {
                assert!((10.0..25.0).contains(&mag), "{id}: mag {mag}");
            } else {
                assert!(d["flux"].as_f64().is_some_and(|f| f <= 0.0), "{id}: {d}");
            }
        }
    }

    let best = &classified[0];
    let (_, _, body) = server.json(&format!("/objects/{best}")).await;
    assert_eq!(body["latest_classification"]["class"], "SNIa");
    assert_eq!(body["latest_classification"]["top_level"], "Transient");
    let response = server.get(&format!("/objects/{best}/lightcurve.svg")).await;
    assert_eq!(response.status(), 200);
    let svg = response.text().await.expect("svg");
    let mut reader = quick_xml::Reader::from_str(&svg);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{best}: SVG does not parse: {e}"),
        }
    }
    assert!(svg.contains("SNIa"));
    let response = server
        .get(&format!("/objects/{best}/lightcurve.png?y=flux"))
        .await;
    assert_eq!(content_type(&response), "image/png");

    let (_, _, body) = server.json("/objects?class=QSO").await;
    assert_eq!(body["count"], 4);
    let (_, _, body) = server.json("/anomalies?limit=2").await;
    assert_eq!(
        body["objects"][0]["latest_classification"]["anomaly_score"],
        4.0
    );

    // Paging through everything with small pages visits every object once.
    let (mut seen, mut next) = (HashSet::new(), Some("/objects?limit=7".to_owned()));
    while let Some(path) = next {
        let (status, _, body) = server.json(&path).await;
        assert_eq!(status, 200, "{path}");
        for o in body["objects"].as_array().expect("objects") {
            assert!(seen.insert(o["object_id"].as_str().expect("id").to_owned()));
        }
        next = body["next"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), objects.len());
}
