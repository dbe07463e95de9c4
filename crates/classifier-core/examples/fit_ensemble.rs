//! Makes a model's outlier-exposed network a member of its class probabilities and refits both
//! temperatures on calibration views new to both networks: a simulation of its own seed
//! ([`CALIBRATION_SEED`]), cut into views as in training. Prints the NLL of each share tried
//! (by default `ENSEMBLE_SHARES`: 0, 0.1, …, 0.6) and saves the model with the share of the lowest.
//!
//! `cargo run -p classifier-core --release --example fit_ensemble -- MODEL_DIR [objects_per_class] SHARE...`

use std::path::PathBuf;

use classifier_core::train::{ENSEMBLE_SHARES, TrainConfig, fit_ensemble};
use classifier_core::{Classifier, data, default_device};

/// Training simulates seed 1, the test sets 2024 (`train_default`).
const CALIBRATION_SEED: u64 = 11;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(1).map_or("models/default", String::as_str));
    let per_class: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(60);
    let mut shares: Vec<f32> = args[3.min(args.len())..]
        .iter()
        .map(|s| s.parse())
        .collect::<Result<_, _>>()?;
    if shares.is_empty() {
        shares = ENSEMBLE_SHARES.to_vec();
    }
    let config: TrainConfig =
        serde_json::from_str(&std::fs::read_to_string(dir.join("train_config.json"))?)?;
    let objects = data::simulated(&data::simulation(CALIBRATION_SEED, per_class));
    let views = data::augment(&objects, &config.augment, CALIBRATION_SEED);
    eprintln!(
        "{} calibration views of {} objects",
        views.len(),
        objects.len()
    );
    let mut classifier = Classifier::load(&dir, &default_device())?;
    let fit = fit_ensemble(&mut classifier, &views, &shares)
        .ok_or("the model has no outlier-exposed network")?;
    for tried in &fit.tried {
        eprintln!(
            "share {}: temperature {:.4}, calibration NLL {:.4}",
            tried.share, tried.temperature, tried.calibration_nll
        );
    }
    classifier.save(&dir)?;
    eprintln!(
        "{}: share {} (lowest NLL), temperature {:.4}, outlier network {:.4}",
        dir.display(),
        fit.chosen.share,
        fit.chosen.temperature,
        fit.outlier_temperature
    );
    Ok(())
}
