//! Experiment tracking: an MLflow tracking server through its REST API when
//! `MLFLOW_TRACKING_URI` is set, else a local `runs/<id>/` folder with the same content.

pub mod local;
pub mod mlflow;

use std::path::Path;

pub use local::LocalTracker;
pub use mlflow::MlflowTracker;

#[derive(Debug, thiserror::Error)]
pub enum TrackingError {
    #[error("MLflow request {endpoint} failed: {message}")]
    Http { endpoint: String, message: String },
    #[error("tracking I/O on {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("unexpected MLflow response from {endpoint}: {body}")]
    Response { endpoint: String, body: String },
}

/// Where a training run reports.
pub trait Tracker {
    /// Human-readable location of the run (URL or folder).
    fn location(&self) -> String;
    fn log_params(&mut self, params: &[(String, String)]) -> Result<(), TrackingError>;
    fn log_metrics(&mut self, step: u64, metrics: &[(String, f64)]) -> Result<(), TrackingError>;
    /// Uploads or copies a file under `artifact_path` (a folder inside the run's artifacts).
    fn log_artifact(&mut self, file: &Path, artifact_path: &str) -> Result<(), TrackingError>;
    /// Marks the run FINISHED or FAILED.
    fn finish(&mut self, success: bool) -> Result<(), TrackingError>;
}

/// The tracker for this environment: MLflow at `MLFLOW_TRACKING_URI` (experiment
/// `MLFLOW_EXPERIMENT_NAME`, default `deeprubin-classifier`), else a local folder under
/// `local_root`.
pub fn from_env(run_name: &str, local_root: &Path) -> Result<Box<dyn Tracker>, TrackingError> {
    match std::env::var("MLFLOW_TRACKING_URI") {
        Ok(uri) if uri.starts_with("http://") || uri.starts_with("https://") => {
            let experiment = std::env::var("MLFLOW_EXPERIMENT_NAME")
                .unwrap_or_else(|_| "deeprubin-classifier".to_string());
            Ok(Box::new(MlflowTracker::start(&uri, &experiment, run_name)?))
        }
        _ => Ok(Box::new(LocalTracker::start(local_root, run_name)?)),
    }
}
