#![allow(dead_code)]

use alert_model::Survey;
use classifier_core::data::{self, LabelledCurve};
use classifier_core::train::TrainConfig;

/// A small simulated dataset: `per_class` objects of each of the 15 classes on ZTF.
pub fn small_dataset(per_class: usize, seed: u64) -> Vec<LabelledCurve> {
    let mut c = simulator::SimulationConfig::with_seed(seed);
    c.surveys = vec![Survey::Ztf];
    c.objects_per_class = per_class;
    c.duration_days = 200.0;
    c.min_detections = 2;
    data::simulated(&c)
}

/// A tiny, fast training configuration.
pub fn tiny_config(runs: &std::path::Path) -> TrainConfig {
    let mut config = TrainConfig::default();
    config.model.d_model = 16;
    config.model.n_heads = 2;
    config.model.n_layers = 1;
    config.model.d_ff = 32;
    config.model.d_context = 32;
    config.model.d_embedding = 32;
    config.features.max_tokens = 32;
    config.augment.truncated_views = 1;
    config.augment.alert_views = 1;
    config.epochs = 2;
    config.batch_size = 32;
    config.max_steps = Some(8);
    config.mc_samples = 4;
    config.local_runs_dir = runs.to_path_buf();
    config
}

pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("classifier-core-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
