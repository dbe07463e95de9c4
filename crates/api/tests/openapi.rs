//! The OpenAPI document describes exactly the router's routes, and every documented path answers.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use alert_model::{Band, Survey};
use api::ApiConfig;
use common::fixtures::{alert, classification, detection, ztf_id};
use common::{TestDb, TestServer, content_type};
use store::StateStore;

#[tokio::test]
async fn openapi_paths_match_the_router_and_all_answer() {
    let db = TestDb::new().await;
    let oid = ztf_id(7);
    db.store
        .upsert_alert(&alert(
            Survey::Ztf,
            &oid,
            detection(70, 60100.0, Band::G, 1200.0),
            vec![],
            vec![],
            vec![],
        ))
        .await
        .expect("store");
    db.store
        .record_classification(&classification(
            Survey::Ztf,
            &oid,
            70,
            "v1",
            "SLSN",
            0.8,
            0.4,
        ))
        .await
        .expect("classify");
    let server = TestServer::start(Arc::new(db.store.clone()), ApiConfig::default()).await;

    let (status, ct, doc) = server.json("/openapi.json").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/json"));
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let documented: BTreeSet<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    let routed: BTreeSet<&str> = api::route_paths().into_iter().collect();
    assert_eq!(documented, routed);
    assert_eq!(routed.len(), 13);

    // The limit cap shows in the schema.
    let limit = doc["paths"]["/objects"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "limit")
        .cloned()
        .expect("limit parameter");
    assert_eq!(limit["schema"]["maximum"], 1000);

    for (path, item) in doc["paths"].as_object().expect("paths") {
        let op = &item["get"];
        assert!(
            op["operationId"].is_string() && op["summary"].is_string(),
            "{path}"
        );
        for param in op["parameters"].as_array().expect("parameters") {
            if param["in"] == "path" {
                let name = param["name"].as_str().expect("name");
                assert!(
                    path.contains(&format!("{{{name}}}")),
                    "{path} lacks {{{name}}}"
                );
            }
        }
        let declared = op["responses"]["200"]["content"]
            .as_object()
            .expect("200 content")
            .keys()
            .next()
            .expect("a media type")
            .clone();
        let concrete = path.replace("{oid}", oid.as_str());
        let response = server.get(&concrete).await;
        assert_eq!(response.status(), 200, "GET {concrete}");
        let actual = content_type(&response);
        let declared_base = declared.split(';').next().unwrap_or_default();
        assert!(
            actual.starts_with(declared_base),
            "GET {concrete}: {actual} is not {declared}"
        );
    }
}
