//! Refits a trained classifier's temperature on its validation views (the same split and seeds as
//! `train_default`), on MC-dropout-averaged probabilities as inference serves them, and saves it
//! in place; networks and anomaly model stay as they are.
//!
//! `cargo run -p classifier-core --release --example refit_temperature -- [MODEL_DIR] [objects_per_class]`

use std::path::PathBuf;

use classifier_core::train::{TrainConfig, refit_temperature};
use classifier_core::{Classifier, data, default_device};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(1).map_or("models/default", String::as_str));
    let per_class: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(220);
    let config: TrainConfig =
        serde_json::from_str(&std::fs::read_to_string(dir.join("train_config.json"))?)?;
    let dataset = data::simulated(&data::simulation(1, per_class));
    let mut classifier = Classifier::load(&dir, &default_device())?;
    let before = classifier.meta.temperature;
    let after = refit_temperature(&mut classifier, &config, &dataset);
    classifier.save(&dir)?;
    eprintln!("{}: temperature {before} → {after}", dir.display());
    Ok(())
}
