//! Every endpoint against the real server and a fresh Postgres database filled with alerts built
//! in code (runs without the shared data).

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use alert_model::{Band, ObjectId, Survey};
use api::ApiConfig;
use common::fixtures::{alert, classification, detection, forced, limit, ztf_id};
use common::{TestDb, TestServer, content_type};
use serde_json::Value;
use store::StateStore;

const LSST_ID: &str = "1234567890123";

/// The database, the server, and the ids seeded: one supernova with every kind of point and two
/// classifications, an AGN, an unclassified Rubin object and six more supernovae.
async fn seeded() -> (TestDb, TestServer) {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let sn = ztf_id(1);
    let agn = ztf_id(2);
    let lsst = ObjectId::parse(Survey::Lsst, LSST_ID).expect("id");
    let mut alerts = vec![
        alert(
            Survey::Ztf,
            &sn,
            detection(103, 60010.0, Band::R, 5000.0),
            vec![
                detection(101, 60000.0, Band::G, 2000.0),
                detection(102, 60005.0, Band::G, 4000.0),
                detection(104, 60008.0, Band::R, -300.0),
            ],
            vec![
                forced(59990.0, Band::G, 50.0),
                forced(59995.0, Band::R, -20.0),
            ],
            vec![limit(59980.0, Band::G, 20.5), limit(59985.0, Band::R, 20.7)],
        ),
        alert(
            Survey::Ztf,
            &agn,
            detection(201, 60020.0, Band::G, 800.0),
            vec![],
            vec![],
            vec![],
        ),
        alert(
            Survey::Lsst,
            &lsst,
            detection(301, 60030.0, Band::U, 700.0),
            vec![detection(302, 60029.0, Band::Z, 900.0)],
            vec![],
            vec![],
        ),
    ];
    for i in 0..6u32 {
        let id = ztf_id(10 + i);
        let source = 1000 + i64::from(i);
        alerts.push(alert(
            Survey::Ztf,
            &id,
            detection(source, 60040.0 + f64::from(i), Band::G, 1500.0),
            vec![],
            vec![],
            vec![],
        ));
    }
    store.upsert_alerts(&alerts).await.expect("store alerts");
    let mut classifications = vec![
        classification(Survey::Ztf, &sn, 102, "v1", "SNIa", 0.7, 0.2),
        classification(Survey::Ztf, &sn, 103, "v2", "SNIa", 0.9, 0.1),
        classification(Survey::Ztf, &agn, 201, "v2", "AGN", 0.6, 0.95),
    ];
    for i in 0..6u32 {
        classifications.push(classification(
            Survey::Ztf,
            &ztf_id(10 + i),
            1000 + i64::from(i),
            "v2",
            "SNIa",
            0.85 + f64::from(i) * 0.01,
            0.3,
        ));
    }
    for c in &classifications {
        assert!(store.record_classification(c).await.expect("classify"));
    }
    let server = TestServer::start(Arc::new(store), ApiConfig::default()).await;
    (db, server)
}

#[tokio::test]
async fn object_summary_with_latest_classification() {
    let (_db, server) = seeded().await;
    let sn = ztf_id(1);
    let (status, ct, body) = server.json(&format!("/objects/{sn}")).await;
    assert_eq!(status, 200, "{body}");
    assert!(ct.starts_with("application/json"));
    assert_eq!(body["survey"], "ztf");
    assert_eq!(body["object_id"], sn.as_str());
    assert_eq!(body["first_mjd"], 60000.0);
    assert_eq!(body["last_mjd"], 60010.0);
    assert_eq!(body["n_detections"], 4);
    assert_eq!(
        body["detections_per_band"],
        serde_json::json!({"g": 2, "r": 2, "i": 0})
    );
    assert_eq!(body["n_forced_photometry"], 2);
    assert_eq!(body["n_upper_limits"], 2);
    let latest = &body["latest_classification"];
    assert_eq!(latest["class"], "SNIa");
    assert_eq!(latest["probability"], 0.9);
    assert_eq!(latest["probabilities"]["SNIa"], 0.9);
    assert_eq!(latest["top_level"], "Transient");
    assert_eq!(latest["uncertainty"], 0.05);
    assert_eq!(latest["anomaly_score"], 0.1);
    assert_eq!(latest["model_version"], "v2");
    assert_eq!(latest["source_id"], 103);
    let ra = body["ra"].as_f64().expect("ra");
    assert!(
        (ra - 150.000103).abs() < 1e-9,
        "position of the latest detection: {ra}"
    );
    assert_eq!(
        body["links"]["lightcurve"],
        format!("/objects/{sn}/lightcurve")
    );
    for link in [
        "self",
        "lightcurve",
        "lightcurve_csv",
        "lightcurve_svg",
        "lightcurve_png",
        "classifications",
    ] {
        let href = body["links"][link].as_str().expect("link");
        assert_eq!(server.get(href).await.status(), 200, "{link}: {href}");
    }
    // An explicit survey gives the same answer.
    let (status, _, again) = server.json(&format!("/objects/{sn}?survey=ztf")).await;
    assert_eq!(status, 200);
    assert_eq!(again["object_id"], body["object_id"]);
}

#[tokio::test]
async fn rubin_object_by_integer_id_unclassified() {
    let (_db, server) = seeded().await;
    let (status, _, body) = server.json(&format!("/objects/{LSST_ID}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["survey"], "lsst");
    assert!(body["latest_classification"].is_null());
    let bands = body["detections_per_band"].as_object().expect("bands");
    assert_eq!(bands.len(), 6, "every Rubin band: {bands:?}");
    assert_eq!(bands["u"], 1);
    assert_eq!(bands["z"], 1);
    let (status, _, history) = server
        .json(&format!("/objects/{LSST_ID}/classifications"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(history["count"], 0);
}

#[tokio::test]
async fn light_curve_json_and_csv() {
    let (_db, server) = seeded().await;
    let sn = ztf_id(1);
    let (status, _, body) = server.json(&format!("/objects/{sn}/lightcurve")).await;
    assert_eq!(status, 200, "{body}");
    let detections = body["detections"].as_array().expect("detections");
    assert_eq!(detections.len(), 4);
    let mjds: Vec<f64> = detections
        .iter()
        .filter_map(|d| d["mjd"].as_f64())
        .collect();
    assert_eq!(mjds, [60000.0, 60005.0, 60008.0, 60010.0]);
    // 2000 nJy → 31.4 − 2.5·log10(2000) = 23.147.
    let first = &detections[0];
    assert_eq!(first["band"], "g");
    assert_eq!(first["flux"], 2000.0);
    assert!(
        (first["mag"].as_f64().expect("mag") - 23.1474).abs() < 1e-3,
        "{first}"
    );
    assert!(first["mag_err"].as_f64().expect("mag_err") > 0.0);
    let negative = &detections[2];
    assert_eq!(negative["flux"], -300.0);
    assert!(
        negative["mag"].is_null() && negative["mag_err"].is_null(),
        "{negative}"
    );
    let forced = body["forced_photometry"].as_array().expect("forced");
    assert_eq!(forced.len(), 2);
    assert!(forced[1]["mag"].is_null());
    let limits = body["upper_limits"].as_array().expect("limits");
    assert_eq!(limits.len(), 2);
    assert_eq!(limits[0]["mag"], 20.5);
    assert!(limits[0]["flux_err"].is_null());

    for request in [
        server
            .client
            .get(format!("{}/objects/{sn}/lightcurve", server.base))
            .header("Accept", "text/csv"),
        server.client.get(format!(
            "{}/objects/{sn}/lightcurve?format=csv",
            server.base
        )),
    ] {
        let response = request.send().await.expect("csv");
        assert_eq!(response.status(), 200);
        assert!(content_type(&response).starts_with("text/csv"));
        let text = response.text().await.expect("body");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(api::CSV_COLUMNS.join(",").as_str()));
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert_eq!(rows.len(), 8, "{text}");
        assert!(rows.iter().all(|r| r.len() == api::CSV_COLUMNS.len()));
        let kinds: Vec<&str> = rows.iter().map(|r| r[0]).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "detection").count(), 4);
        assert_eq!(kinds.iter().filter(|k| **k == "forced").count(), 2);
        assert_eq!(kinds.iter().filter(|k| **k == "upper_limit").count(), 2);
        let mjd: f64 = rows[0][1].parse().expect("mjd");
        let flux: f64 = rows[0][3].parse().expect("flux");
        let mag: f64 = rows[0][5].parse().expect("mag");
        assert_eq!((mjd, rows[0][2], flux), (60000.0, "g", 2000.0));
        assert!((mag - 23.1474).abs() < 1e-3);
        assert_eq!(rows[2][5], "", "no magnitude for negative flux");
    }
    // ?format=json wins over Accept.
    let response = server
        .client
        .get(format!(
            "{}/objects/{sn}/lightcurve?format=json",
            server.base
        ))
        .header("Accept", "text/csv")
        .send()
        .await
        .expect("json");
    assert!(content_type(&response).starts_with("application/json"));
}

/// Text of every `<text>` element of an SVG; panics unless it parses as XML.
fn svg_texts(svg: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(svg);
    let (mut texts, mut in_text, mut root) = (Vec::new(), false, None);
    loop {
        match reader.read_event().expect("well-formed SVG") {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                root.get_or_insert(name.clone());
                in_text = name == "text";
            }
            Event::Text(t) if in_text => {
                texts.push(t.decode().expect("utf-8").trim().to_owned());
            }
            Event::End(_) => in_text = false,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(root.as_deref(), Some("svg"));
    texts
}

#[tokio::test]
async fn svg_and_png_plots() {
    let (_db, server) = seeded().await;
    let sn = ztf_id(1);
    let response = server.get(&format!("/objects/{sn}/lightcurve.svg")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(content_type(&response), "image/svg+xml");
    let svg = response.text().await.expect("svg");
    let texts = svg_texts(&svg);
    let all = texts.join("|");
    assert!(all.contains("SNIa"), "title names the class: {all}");
    assert!(all.contains("MJD") && all.contains("AB magnitude"), "{all}");
    assert!(
        texts.iter().any(|t| t == "g") && texts.iter().any(|t| t == "r"),
        "legend: {all}"
    );
    assert!(
        svg.contains("<polygon"),
        "upper limits are drawn as triangles"
    );

    let svg = server
        .get(&format!("/objects/{sn}/lightcurve.svg?y=flux"))
        .await
        .text()
        .await
        .expect("svg");
    assert!(svg_texts(&svg).join("|").contains("flux (nJy)"));

    let response = server
        .get(&format!("/objects/{LSST_ID}/lightcurve.png"))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(content_type(&response), "image/png");
    let bytes = response.bytes().await.expect("png");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()));
    let reader = decoder.read_info().expect("a valid PNG");
    assert_eq!((reader.info().width, reader.info().height), (900, 560));
}

#[tokio::test]
async fn classification_history_newest_first() {
    let (_db, server) = seeded().await;
    let sn = ztf_id(1);
    let (status, _, body) = server.json(&format!("/objects/{sn}/classifications")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 2);
    let history = body["classifications"].as_array().expect("list");
    assert_eq!(history[0]["model_version"], "v2");
    assert_eq!(history[0]["source_id"], 103);
    assert_eq!(history[1]["model_version"], "v1");
    assert_eq!(history[1]["source_id"], 102);
    assert_eq!(history[1]["probabilities"]["SNIa"], 0.7);
    assert_eq!(history[1]["top_level_probabilities"]["Transient"], 0.8);
    assert!(
        history[0]["created_at"]
            .as_str()
            .is_some_and(|t| t.contains('T'))
    );
}

async fn collect_pages(server: &TestServer, first: &str) -> (Vec<String>, usize) {
    let (mut ids, mut pages, mut next) = (Vec::new(), 0, Some(first.to_owned()));
    while let Some(path) = next {
        let (status, _, body) = server.json(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
        pages += 1;
        for o in body["objects"].as_array().expect("objects") {
            ids.push(o["object_id"].as_str().expect("id").to_owned());
        }
        assert_eq!(
            body["count"].as_u64(),
            Some(body["objects"].as_array().map_or(0, |a| a.len() as u64))
        );
        next = body["next"].as_str().map(str::to_owned);
        assert!(pages < 20, "pagination does not end");
    }
    (ids, pages)
}

#[tokio::test]
async fn search_filters_and_keyset_pagination() {
    let (_db, server) = seeded().await;
    let (all, pages) =
        collect_pages(&server, "/objects?class=snia&min_probability=0.8&limit=3").await;
    assert_eq!(pages, 3);
    assert_eq!(all.len(), 7, "{all:?}");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 7, "no duplicates");
    assert_eq!(all[0], ztf_id(15).as_str(), "newest activity first");
    assert!(all.contains(&ztf_id(1).to_string()));

    let (status, _, body) = server.json("/objects?class=SNIa&min_probability=0.8").await;
    assert_eq!(status, 200);
    assert_eq!(body["count"], 7);
    assert!(body["next"].is_null());
    let first = &body["objects"][0];
    assert_eq!(first["latest_classification"]["class"], "SNIa");
    assert_eq!(first["latest_classification"]["top_level"], "Transient");
    assert_eq!(first["links"]["self"], format!("/objects/{}", ztf_id(15)));

    let (_, _, body) = server.json("/objects?min_anomaly=0.9").await;
    assert_eq!(body["count"], 1);
    assert_eq!(body["objects"][0]["object_id"], ztf_id(2).as_str());
    let (_, _, body) = server.json("/objects?survey=lsst").await;
    assert_eq!(body["count"], 1);
    assert_eq!(body["objects"][0]["object_id"], LSST_ID);
    let (_, _, body) = server.json("/objects?since_mjd=60043.5").await;
    assert_eq!(body["count"], 2);
    let (_, _, body) = server.json("/objects").await;
    assert_eq!(body["count"], 9, "every object, unclassified too");
    let (_, _, body) = server.json("/objects?class=CV%2FNova").await;
    assert_eq!(body["count"], 0);
}

#[tokio::test]
async fn anomalies_highest_first() {
    let (_db, server) = seeded().await;
    let (status, _, body) = server.json("/anomalies?limit=3").await;
    assert_eq!(status, 200, "{body}");
    let scores: Vec<f64> = body["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter_map(|o| o["latest_classification"]["anomaly_score"].as_f64())
        .collect();
    assert_eq!(scores, [0.95, 0.3, 0.3]);
    assert_eq!(body["objects"][0]["object_id"], ztf_id(2).as_str());
}

#[tokio::test]
async fn taxonomy_health_readiness_metrics() {
    let (_db, server) = seeded().await;
    let (status, _, body) = server.json("/classes").await;
    assert_eq!(status, 200);
    assert_eq!(body["count"], 15);
    let groups: Vec<&str> = body["top_levels"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert_eq!(groups, ["Transient", "Stochastic", "Periodic"]);
    assert_eq!(body["top_levels"][1]["classes"][4], "CV/Nova");

    assert_eq!(server.json("/healthz").await.0, 200);
    let (status, _, body) = server.json("/readyz").await;
    assert_eq!(status, 200);
    assert_eq!(body["store"], "postgres");

    server.get(&format!("/objects/{}", ztf_id(1))).await;
    server.get("/objects/nope").await;
    server.get("/no/such/route").await;
    let response = server.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("text/plain"));
    let text = response.text().await.expect("metrics");
    for needle in [
        r#"deeprubin_api_requests_total{method="GET",route="/objects/{oid}",status="200"} 1"#,
        r#"deeprubin_api_requests_total{method="GET",route="/objects/{oid}",status="400"} 1"#,
        r#"deeprubin_api_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"deeprubin_api_request_duration_seconds_bucket{method="GET",route="/readyz",status="200",le="0.5"}"#,
        "deeprubin_api_request_duration_seconds_count",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}

#[tokio::test]
async fn bad_input_is_a_json_400_and_unknown_objects_404() {
    let (_db, server) = seeded().await;
    let sn = ztf_id(1);
    let cases = [
        ("/objects/hello", "malformed object id"),
        ("/objects/ZTF18ADOOJEJ", "malformed object id"),
        ("/objects/-12", "malformed object id"),
        (&format!("/objects/{sn}?survey=lsst"), "malformed object id"),
        (&format!("/objects/{sn}?survey=hst"), "invalid survey"),
        (
            &format!("/objects/{sn}?verbose=1"),
            "unknown query parameter",
        ),
        (
            &format!("/objects/{sn}/lightcurve?format=xml"),
            "invalid format",
        ),
        (&format!("/objects/{sn}/lightcurve.svg?y=log"), "invalid y"),
        ("/objects?class=Unicorn", "unknown class"),
        ("/objects?limit=1001", "invalid limit"),
        ("/objects?limit=0", "invalid limit"),
        ("/objects?limit=ten", "invalid limit"),
        ("/objects?min_probability=high", "invalid min_probability"),
        ("/objects?min_probability=1.5", "invalid min_probability"),
        ("/objects?min_anomaly=NaN", "invalid min_anomaly"),
        ("/objects?since_mjd=inf", "invalid since_mjd"),
        ("/objects?cursor=garbage", "invalid cursor"),
        ("/objects?cursor=zz.ztf.ZTF24aaaaaab", "invalid cursor"),
        ("/anomalies?limit=100000", "invalid limit"),
        ("/anomalies?limit=-1", "invalid limit"),
    ];
    for (path, error) in cases {
        server.expect_error(path, 400, error).await;
    }
    let body = server
        .expect_error("/objects?class=Unicorn", 400, "unknown class")
        .await;
    assert_eq!(body["detail"]["known"].as_array().map(Vec::len), Some(15));

    let unknown = ztf_id(999);
    for suffix in [
        "",
        "/lightcurve",
        "/lightcurve.svg",
        "/lightcurve.png",
        "/classifications",
    ] {
        server
            .expect_error(
                &format!("/objects/{unknown}{suffix}"),
                404,
                "unknown object",
            )
            .await;
    }
    server
        .expect_error("/objects/99999999/lightcurve", 404, "unknown object")
        .await;
    server.expect_error("/nowhere", 404, "no such route").await;

    let response = server
        .client
        .post(format!("{}/classes", server.base))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "method not allowed");
    let metrics = server.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains(
            r#"deeprubin_api_requests_total{method="POST",route="/classes",status="405"} 1"#
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn docs_page_lists_every_route() {
    let (_db, server) = seeded().await;
    let response = server.get("/docs").await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("text/html"));
    let html = response.text().await.expect("html");
    assert!(!html.contains("<script"), "self-contained, no scripts");
    for path in api::route_paths() {
        assert!(html.contains(&format!("GET {path}")), "missing {path}");
    }
}

#[tokio::test]
async fn every_json_error_has_error_and_detail() {
    let (_db, server) = seeded().await;
    let (_, _, body): (u16, String, Value) = server.json("/objects?limit=5000").await;
    assert_eq!(body["detail"]["parameter"], "limit");
    assert_eq!(body["detail"]["value"], "5000");
}
