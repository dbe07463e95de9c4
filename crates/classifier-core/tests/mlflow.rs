//! Training logs to a REAL MLflow tracking server (params, per-epoch metrics, artifacts).
//! Needs `mlflow` on PATH (`pip install mlflow`); skips with a message otherwise.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use classifier_core::default_device;
use classifier_core::train::{DatasetInfo, train};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(url: &str) -> Option<serde_json::Value> {
    let mut resp = ureq::get(url).call().ok()?;
    serde_json::from_str(&resp.body_mut().read_to_string().ok()?).ok()
}

fn post(url: &str, body: &serde_json::Value) -> Option<serde_json::Value> {
    let mut resp = ureq::post(url)
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .ok()?;
    serde_json::from_str(&resp.body_mut().read_to_string().ok()?).ok()
}

#[test]
fn training_logs_to_a_real_mlflow_server() {
    if Command::new("mlflow")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        eprintln!("skipping: `mlflow` is not installed (pip install mlflow)");
        return;
    }
    let tmp = common::temp_dir("mlflow");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let server = Server(
        Command::new("mlflow")
            .args(["server", "--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--backend-store-uri")
            .arg(format!("sqlite:///{}/mlflow.db", tmp.display()))
            .arg("--artifacts-destination")
            .arg(tmp.join("artifacts"))
            .arg("--serve-artifacts")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mlflow server starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while ureq::get(&format!("{base}/health")).call().is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "mlflow server did not start"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // SAFETY: this test binary has a single test; nothing else reads the environment concurrently.
    unsafe {
        std::env::set_var("MLFLOW_TRACKING_URI", &base);
        std::env::set_var("MLFLOW_EXPERIMENT_NAME", "classifier-core-test");
    }
    let data = common::small_dataset(4, 21);
    let out = tmp.join("model");
    let mut config = common::tiny_config(&tmp.join("runs"));
    config.dataset = DatasetInfo::simulated(&simulator::SimulationConfig::with_seed(21));
    let report = train(&config, &data, &out, &default_device()).expect("training with MLflow");
    assert!(
        report.tracking_location.starts_with(&base),
        "{}",
        report.tracking_location
    );
    // Nothing was written locally.
    assert!(!tmp.join("runs").exists());

    let exp = get(&format!(
        "{base}/api/2.0/mlflow/experiments/get-by-name?experiment_name=classifier-core-test"
    ))
    .expect("experiment exists");
    let exp_id = exp["experiment"]["experiment_id"]
        .as_str()
        .expect("id")
        .to_string();
    let runs = post(
        &format!("{base}/api/2.0/mlflow/runs/search"),
        &serde_json::json!({"experiment_ids": [exp_id]}),
    )
    .expect("runs");
    let run = &runs["runs"][0];
    assert_eq!(run["info"]["status"], "FINISHED");
    let metrics: Vec<&str> = run["data"]["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .filter_map(|m| m["key"].as_str())
        .collect();
    for key in [
        "train_loss",
        "val_loss",
        "val_accuracy",
        "val_macro_f1",
        "final_val_ece",
    ] {
        assert!(metrics.contains(&key), "{key} not in {metrics:?}");
    }
    let params = run["data"]["params"].as_array().expect("params");
    let param = |key: &str| {
        params
            .iter()
            .find(|p| p["key"] == key)
            .and_then(|p| p["value"].as_str())
            .map(str::to_owned)
    };
    assert!(param("model.architecture").is_some());
    // The dataset's metadata: simulator version, simulation seed, objects per class.
    assert_eq!(
        param("dataset.simulator_version").as_deref(),
        Some(format!("\"{}\"", simulator::POPULATION_VERSION).as_str())
    );
    assert_eq!(param("dataset.simulation_seed").as_deref(), Some("21"));
    assert!(param("n_objects.SNIa").is_some_and(|n| n != "0"));
    let run_id = run["info"]["run_id"].as_str().expect("run id");
    let history = get(&format!(
        "{base}/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key=train_loss"
    ))
    .expect("history");
    assert_eq!(
        history["metrics"].as_array().map(Vec::len),
        Some(report.history.len())
    );
    let artifacts = get(&format!(
        "{base}/api/2.0/mlflow/artifacts/list?run_id={run_id}&path=model"
    ))
    .expect("artifacts");
    let files: Vec<&str> = artifacts["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(files.contains(&"model/model.bpk"), "{files:?}");
    assert!(
        files.contains(&"model/validation_confusion.png"),
        "{files:?}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&tmp);
}
