//! Makes trained models members of a model's seed ensemble (`classifier_core::members`): each
//! member directory is copied under `MODEL_DIR/members/<its folder name>` with its training
//! configs, and the averaged anomaly score is calibrated on views of a simulation of its own seed
//! ([`CALIBRATION_SEED`], new to every member, as `fit_ensemble` uses).
//!
//! `cargo run -p classifier-core --release --example attach_members -- MODEL_DIR objects_per_class MEMBER_DIR...`

use std::path::{Path, PathBuf};

use classifier_core::members::{MEMBERS_DIR, attach_members};
use classifier_core::train::TrainConfig;
use classifier_core::{Classifier, LightCurve, data, default_device};

/// Training simulates seed 1, the test sets 2024 (`train_default`).
const CALIBRATION_SEED: u64 = 11;

/// Files kept with a member besides the ones `Classifier::save` writes: how it was trained.
const PROVENANCE_FILES: [&str; 3] = [
    "train_config.json",
    "outlier_train_config.json",
    "validation_metrics.json",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: attach_members MODEL_DIR objects_per_class MEMBER_DIR...";
    let dir = PathBuf::from(args.get(1).ok_or(usage)?);
    let per_class: usize = args.get(2).ok_or(usage)?.parse()?;
    let member_dirs: Vec<PathBuf> = args[3.min(args.len())..]
        .iter()
        .map(PathBuf::from)
        .collect();
    if member_dirs.is_empty() {
        return Err(usage.into());
    }
    let device = default_device();
    let mut classifier = Classifier::load(&dir, &device)?;
    let mut members = Vec::new();
    for member_dir in &member_dirs {
        let name = member_dir
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{}: no folder name", member_dir.display()))?
            .to_owned();
        members.push((name, Classifier::load(member_dir, &device)?));
    }
    let config: TrainConfig =
        serde_json::from_str(&std::fs::read_to_string(dir.join("train_config.json"))?)?;
    let objects = data::simulated(&data::simulation(CALIBRATION_SEED, per_class));
    let views: Vec<LightCurve> = data::augment(&objects, &config.augment, CALIBRATION_SEED)
        .into_iter()
        .map(|v| v.curve)
        .collect();
    eprintln!(
        "{} calibration views of {} objects",
        views.len(),
        objects.len()
    );
    let features = classifier.featurize(&views);
    attach_members(&mut classifier, members, &features)?;
    classifier.save(&dir)?;
    for member_dir in &member_dirs {
        copy_provenance(member_dir, &dir)?;
    }
    eprintln!(
        "{}: {} members besides its own networks",
        dir.display(),
        classifier.members.len()
    );
    Ok(())
}

/// Copies the member's training configs and validation metrics next to its saved weights.
fn copy_provenance(member_dir: &Path, model_dir: &Path) -> std::io::Result<()> {
    let Some(name) = member_dir.file_name() else {
        return Ok(());
    };
    let target = model_dir.join(MEMBERS_DIR).join(name);
    for file in PROVENANCE_FILES {
        let source = member_dir.join(file);
        if source.exists() {
            std::fs::copy(&source, target.join(file))?;
        }
    }
    Ok(())
}
