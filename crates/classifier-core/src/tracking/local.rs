//! A local run folder: `runs/<id>/params.json`, `metrics.jsonl`, `status`, `artifacts/`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Tracker, TrackingError};

#[derive(Debug)]
pub struct LocalTracker {
    pub dir: PathBuf,
    params: serde_json::Map<String, serde_json::Value>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrackingError + '_ {
    move |source| TrackingError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl LocalTracker {
    /// Creates `root/<run_name>-<unix seconds>-<pid>/`.
    pub fn start(root: &Path, run_name: &str) -> Result<Self, TrackingError> {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let dir = root.join(format!("{run_name}-{secs}-{}", std::process::id()));
        let artifacts = dir.join("artifacts");
        std::fs::create_dir_all(&artifacts).map_err(io(&artifacts))?;
        Ok(LocalTracker {
            dir,
            params: serde_json::Map::new(),
        })
    }
}

impl Tracker for LocalTracker {
    fn location(&self) -> String {
        self.dir.display().to_string()
    }

    fn log_params(&mut self, params: &[(String, String)]) -> Result<(), TrackingError> {
        for (k, v) in params {
            self.params
                .insert(k.clone(), serde_json::Value::String(v.clone()));
        }
        let path = self.dir.join("params.json");
        let text = serde_json::to_string_pretty(&self.params).unwrap_or_default();
        std::fs::write(&path, text).map_err(io(&path))
    }

    fn log_metrics(&mut self, step: u64, metrics: &[(String, f64)]) -> Result<(), TrackingError> {
        let path = self.dir.join("metrics.jsonl");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        for (k, v) in metrics {
            let line = serde_json::json!({"key": k, "value": v, "step": step});
            writeln!(file, "{line}").map_err(io(&path))?;
        }
        Ok(())
    }

    fn log_artifact(&mut self, file: &Path, artifact_path: &str) -> Result<(), TrackingError> {
        let dir = self.dir.join("artifacts").join(artifact_path);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let name = file
            .file_name()
            .map_or_else(|| "artifact".into(), |n| n.to_owned());
        let dest = dir.join(name);
        std::fs::copy(file, &dest).map_err(io(&dest))?;
        Ok(())
    }

    fn finish(&mut self, success: bool) -> Result<(), TrackingError> {
        let path = self.dir.join("status");
        std::fs::write(&path, if success { "FINISHED\n" } else { "FAILED\n" }).map_err(io(&path))
    }
}
