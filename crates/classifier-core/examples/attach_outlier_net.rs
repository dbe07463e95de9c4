//! Adds an outlier-exposed network (trained by `train_default` with `DEEPRUBIN_OUTLIER_EXPOSURE`)
//! to a trained classifier's anomaly score, calibrated on the classifier's validation views (the
//! same split and seeds as `train_default`; both networks share them), and saves it in place.
//!
//! `cargo run -p classifier-core --release --example attach_outlier_net -- MODEL_DIR OUTLIER_DIR [objects_per_class] [calibration_seed]`
//!
//! Networks trained on different numbers of objects per class share the seeds but not the split,
//! so one network's training objects can sit in the other's validation views: give a
//! `calibration_seed` other than training's (1), and the validation views of that fresh
//! simulation, new to both networks, calibrate the score instead.

use std::path::PathBuf;

use classifier_core::train::{TrainConfig, attach_outlier_network};
use classifier_core::{Classifier, data, default_device};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(outlier_dir)) = (args.get(1), args.get(2)) else {
        return Err("usage: attach_outlier_net MODEL_DIR OUTLIER_DIR [objects_per_class]".into());
    };
    let (dir, outlier_dir) = (PathBuf::from(dir), PathBuf::from(outlier_dir));
    let per_class: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(220);
    let simulation_seed: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1);
    let config: TrainConfig =
        serde_json::from_str(&std::fs::read_to_string(dir.join("train_config.json"))?)?;
    let outlier_config: TrainConfig = serde_json::from_str(&std::fs::read_to_string(
        outlier_dir.join("train_config.json"),
    )?)?;
    if (outlier_config.seed, outlier_config.validation_fraction)
        != (config.seed, config.validation_fraction)
    {
        return Err("the two networks were trained on different splits".into());
    }
    let device = default_device();
    let mut classifier = Classifier::load(&dir, &device)?;
    let outlier = Classifier::load(&outlier_dir, &device)?;
    let dataset = data::simulated(&data::simulation(simulation_seed, per_class));
    let calibration_views = attach_outlier_network(&mut classifier, outlier, &config, &dataset)?;
    classifier.save(&dir)?;
    std::fs::copy(
        outlier_dir.join("train_config.json"),
        dir.join("outlier_train_config.json"),
    )?;
    eprintln!(
        "{} now scores anomalies with the network of {} ({} calibration views)",
        dir.display(),
        outlier_dir.display(),
        calibration_views
    );
    Ok(())
}
