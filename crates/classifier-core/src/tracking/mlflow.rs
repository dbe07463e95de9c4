//! MLflow tracking over its REST API (MLflow 2/3: `/api/2.0/mlflow/...`); artifacts go through
//! the server's artifact proxy (`/api/2.0/mlflow-artifacts/artifacts/...`, `mlflow server
//! --serve-artifacts`, the default since MLflow 2.0).

use std::path::Path;

use serde_json::{Value, json};

use super::{Tracker, TrackingError};

#[derive(Debug)]
pub struct MlflowTracker {
    base: String,
    pub experiment_id: String,
    pub run_id: String,
    /// `artifact_uri` of the run as the server reports it.
    pub artifact_uri: String,
    agent: ureq::Agent,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl MlflowTracker {
    /// Finds or creates `experiment` and starts a run named `run_name`.
    pub fn start(uri: &str, experiment: &str, run_name: &str) -> Result<Self, TrackingError> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build()
            .into();
        let mut t = MlflowTracker {
            base: uri.trim_end_matches('/').to_string(),
            experiment_id: String::new(),
            run_id: String::new(),
            artifact_uri: String::new(),
            agent,
        };
        let found = t.get(
            "/api/2.0/mlflow/experiments/get-by-name",
            &[("experiment_name", experiment)],
        )?;
        t.experiment_id = match found["experiment"]["experiment_id"].as_str() {
            Some(id) => id.to_string(),
            None => {
                let created = t.post(
                    "/api/2.0/mlflow/experiments/create",
                    &json!({"name": experiment}),
                )?;
                created["experiment_id"]
                    .as_str()
                    .ok_or_else(|| TrackingError::Response {
                        endpoint: "experiments/create".into(),
                        body: created.to_string(),
                    })?
                    .to_string()
            }
        };
        let run = t.post(
            "/api/2.0/mlflow/runs/create",
            &json!({
                "experiment_id": t.experiment_id,
                "run_name": run_name,
                "start_time": now_ms(),
                "tags": [{"key": "mlflow.runName", "value": run_name},
                         {"key": "mlflow.source.name", "value": "deeprubin classifier-core"}],
            }),
        )?;
        let info = &run["run"]["info"];
        t.run_id = info["run_id"]
            .as_str()
            .ok_or_else(|| TrackingError::Response {
                endpoint: "runs/create".into(),
                body: run.to_string(),
            })?
            .to_string();
        t.artifact_uri = info["artifact_uri"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        Ok(t)
    }

    fn check(
        endpoint: &str,
        resp: ureq::http::Response<ureq::Body>,
    ) -> Result<Value, TrackingError> {
        let status = resp.status();
        let body = resp
            .into_body()
            .read_to_string()
            .map_err(|e| TrackingError::Http {
                endpoint: endpoint.into(),
                message: e.to_string(),
            })?;
        if status.as_u16() == 404 && endpoint.contains("get-by-name") {
            return Ok(Value::Null);
        }
        if !status.is_success() {
            return Err(TrackingError::Http {
                endpoint: endpoint.into(),
                message: format!(
                    "HTTP {status}: {}",
                    body.chars().take(500).collect::<String>()
                ),
            });
        }
        if body.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&body).map_err(|_| TrackingError::Response {
            endpoint: endpoint.into(),
            body: body.chars().take(500).collect(),
        })
    }

    fn get(&self, endpoint: &str, query: &[(&str, &str)]) -> Result<Value, TrackingError> {
        let mut req = self.agent.get(format!("{}{endpoint}", self.base));
        for (k, v) in query {
            req = req.query(*k, *v);
        }
        let resp = req.call().map_err(|e| TrackingError::Http {
            endpoint: endpoint.into(),
            message: e.to_string(),
        })?;
        Self::check(endpoint, resp)
    }

    fn post(&self, endpoint: &str, body: &Value) -> Result<Value, TrackingError> {
        let resp = self
            .agent
            .post(format!("{}{endpoint}", self.base))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .map_err(|e| TrackingError::Http {
                endpoint: endpoint.into(),
                message: e.to_string(),
            })?;
        Self::check(endpoint, resp)
    }

    /// Artifact proxy path of the run's artifact root: `mlflow-artifacts:/<exp>/<run>/artifacts`
    /// → `<exp>/<run>/artifacts`; other URIs (a plain folder) fall back to the same layout.
    fn artifact_root(&self) -> String {
        match self.artifact_uri.strip_prefix("mlflow-artifacts:") {
            Some(rest) => rest.trim_start_matches('/').to_string(),
            None => format!("{}/{}/artifacts", self.experiment_id, self.run_id),
        }
    }
}

impl Tracker for MlflowTracker {
    fn location(&self) -> String {
        format!(
            "{}/#/experiments/{}/runs/{}",
            self.base, self.experiment_id, self.run_id
        )
    }

    fn log_params(&mut self, params: &[(String, String)]) -> Result<(), TrackingError> {
        // MLflow accepts at most 100 params per batch and 6000 characters per value.
        for chunk in params.chunks(100) {
            let params: Vec<Value> = chunk
                .iter()
                .map(|(k, v)| json!({"key": k, "value": v.chars().take(6000).collect::<String>()}))
                .collect();
            self.post(
                "/api/2.0/mlflow/runs/log-batch",
                &json!({"run_id": self.run_id, "params": params}),
            )?;
        }
        Ok(())
    }

    fn log_metrics(&mut self, step: u64, metrics: &[(String, f64)]) -> Result<(), TrackingError> {
        let ts = now_ms();
        for chunk in metrics.chunks(1000) {
            let metrics: Vec<Value> = chunk
                .iter()
                .filter(|(_, v)| v.is_finite())
                .map(|(k, v)| json!({"key": k, "value": v, "timestamp": ts, "step": step}))
                .collect();
            self.post(
                "/api/2.0/mlflow/runs/log-batch",
                &json!({"run_id": self.run_id, "metrics": metrics}),
            )?;
        }
        Ok(())
    }

    fn log_artifact(&mut self, file: &Path, artifact_path: &str) -> Result<(), TrackingError> {
        let bytes = std::fs::read(file).map_err(|source| TrackingError::Io {
            path: file.to_path_buf(),
            source,
        })?;
        let name = file.file_name().map_or_else(
            || "artifact".to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let sub = artifact_path.trim_matches('/');
        let rel = if sub.is_empty() {
            name
        } else {
            format!("{sub}/{name}")
        };
        let endpoint = format!(
            "/api/2.0/mlflow-artifacts/artifacts/{}/{rel}",
            self.artifact_root()
        );
        let resp = self
            .agent
            .put(format!("{}{endpoint}", self.base))
            .header("Content-Type", "application/octet-stream")
            .send(&bytes[..])
            .map_err(|e| TrackingError::Http {
                endpoint: endpoint.clone(),
                message: e.to_string(),
            })?;
        Self::check(&endpoint, resp).map(|_| ())
    }

    fn finish(&mut self, success: bool) -> Result<(), TrackingError> {
        self.post(
            "/api/2.0/mlflow/runs/update",
            &json!({
                "run_id": self.run_id,
                "status": if success { "FINISHED" } else { "FAILED" },
                "end_time": now_ms(),
            }),
        )
        .map(|_| ())
    }
}
