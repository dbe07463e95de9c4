//! `deeprubin fetch --alerce` against a local stand-in for ALeRCE and a real Postgres: fetching
//! twice leaves the same rows; files for `evaluate`; clear failures.

#[path = "../../alerce/tests/common/mod.rs"]
mod common;

use std::process::{Command, Output};

use common::{FakeAlerce, OID};
use store::StateStore;
use test_support::TestDb;

fn fetch(server: &FakeAlerce, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deeprubin"))
        .args([
            "fetch",
            "--alerce",
            OID,
            "--base-url",
            &server.base_url,
            "--rate",
            "100",
        ])
        .args(extra)
        .output()
        .expect("run deeprubin")
}

fn json_line(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetching_twice_into_postgres_leaves_the_same_rows() {
    let server = FakeAlerce::with_fixtures();
    let db = TestDb::new().await;
    let store = db.store.clone();

    let first = json_line(&fetch(&server, &["--database-url", &db.url]));
    let stats = store.stats().await.expect("stats");
    let second = json_line(&fetch(&server, &["--database-url", &db.url]));
    let stats_again = store.stats().await.expect("stats");
    store.close().await;
    drop(db);

    assert_eq!(first["stored"]["new_detections"], 5, "{first}");
    assert_eq!(first["stored"]["new_upper_limits"], 2, "{first}");
    assert_eq!(second["stored"]["nothing_new"], true, "{second}");
    assert_eq!(stats, stats_again);
    assert_eq!(
        (stats.objects, stats.detections, stats.upper_limits),
        (1, 5, 2)
    );
    assert_eq!(first["alerce"]["class"], "SNIa");
    assert_eq!(first["n_detections"], 5);
}

#[test]
fn writes_files_for_evaluate() {
    let server = FakeAlerce::with_fixtures();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = fetch(
        &server,
        &["--write-lightcurves", dir.path().to_str().unwrap_or(".")],
    );
    json_line(&out);
    let curves = std::fs::read_to_string(dir.path().join("lightcurves.csv")).expect("lightcurves");
    let labels = std::fs::read_to_string(dir.path().join("labels.csv")).expect("labels");
    assert_eq!(labels, format!("object_id,class\n{OID},SNIa\n"));
    let lines: Vec<&str> = curves.lines().collect();
    assert_eq!(lines[0], "object_id,mjd,band,flux,flux_err");
    assert_eq!(lines.len(), 6);
    assert!(
        lines[2].starts_with(&format!("{OID},59310.2,r,-")),
        "{}",
        lines[2]
    );
}

#[test]
fn failures_are_reported_per_object() {
    let server = FakeAlerce::with_fixtures();
    let out = Command::new(env!("CARGO_BIN_EXE_deeprubin"))
        .args([
            "fetch",
            "--format",
            "csv",
            "--base-url",
            &server.base_url,
            "--alerce",
            OID,
        ])
        .args(["ZTF99zzzzzzz", "not-an-id"])
        .output()
        .expect("run deeprubin");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stdout.lines().count(), 1 + 5 + 2, "{stdout}");
    assert!(
        stderr.contains("ZTF99zzzzzzz is not known to ALeRCE"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\"not-an-id\" is not a valid ztf object id"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ALeRCE lc_classifier: SNIa 0.620"),
        "{stderr}"
    );
    assert!(stderr.contains("2 of 3 objects failed"), "{stderr}");

    // --classify without a model says what to do.
    let out = fetch(&server, &["--classify", "--model", "/nonexistent/model"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--classify: loading the model from /nonexistent/model"),
        "{stderr}"
    );
}
