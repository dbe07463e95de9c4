//! `deeprubin train`: train a light-curve classifier on simulated or CSV light curves.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use classifier_core::data;
use classifier_core::model::Architecture;
use classifier_core::train::{
    DatasetInfo, ENSEMBLE_SHARES, TrainConfig, attach_outlier_network, fit_ensemble, train,
    validation_views,
};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ArchitectureArg {
    Transformer,
    Gru,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Output model directory (weights, classifier.json, metrics, confusion matrix).
    #[arg(long, default_value = "models/default")]
    pub out: PathBuf,
    /// Training light curves (`object_id,mjd,band,flux,flux_err` or `mag,mag_err`); without it
    /// the simulator generates the training set.
    #[arg(long, requires = "labels")]
    pub lightcurves: Option<PathBuf>,
    /// `object_id,class` labels for --lightcurves.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Simulated objects per class and survey (when no CSV is given; the shipped model: 300).
    #[arg(long, default_value_t = 300)]
    pub objects_per_class: usize,
    /// Seed of the simulation, and of training unless --training-seed is given.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seed of the initialisation, shuffling and views (the shipped model: 7, on simulation
    /// seed 1); defaults to --seed.
    #[arg(long)]
    pub training_seed: Option<u64>,
    /// Training epochs (the shipped model: 18).
    #[arg(long, default_value_t = 18)]
    pub epochs: usize,
    #[arg(long, value_enum, default_value_t = ArchitectureArg::Transformer)]
    pub architecture: ArchitectureArg,
    /// A JSON TrainConfig to start from (flags above override epochs, seeds, architecture).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Measurement errors in the loss: each epoch after the first trains on fluxes redrawn as
    /// flux + K·σ·N(0, 1) (overrides the config; the shipped model uses 0, its predecessor 0.5).
    #[arg(long, value_name = "K")]
    pub noise_resampling: Option<f64>,
    /// Also train a network with outlier exposure of this weight (distorted supernovae pushed
    /// towards uniform predictions; the shipped model uses 0.5) into OUT/outlier-network, add
    /// its energy to the anomaly score and give it the share of the class probabilities that
    /// fits the validation views best (or --class-share).
    #[arg(long, value_name = "WEIGHT")]
    pub outlier_exposure: Option<f64>,
    /// The outlier-exposed network's share of the class probabilities, in [0, 1], instead of
    /// the share of 0, 0.1, …, 0.6 with the lowest validation NLL (the shipped model uses 0.9,
    /// chosen on real alerts, which the simulated NLL cannot see: its model card).
    #[arg(long, value_name = "SHARE", requires = "outlier_exposure", value_parser = unit_share)]
    pub class_share: Option<f32>,
    /// Compute device: default, flex, ndarray, cpu, cuda, cuda:N (as compiled in).
    #[arg(long, default_value = "default")]
    pub device: String,
}

/// `--class-share`: a share of the class probabilities, in [0, 1].
fn unit_share(text: &str) -> Result<f32, String> {
    let share: f32 = text.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=1.0).contains(&share) {
        Ok(share)
    } else {
        Err(format!("{share} is outside [0, 1]"))
    }
}

pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let device = classifier_core::device_by_name(&args.device)
        .with_context(|| format!("device {:?} is not available in this build", args.device))?;
    let mut config = match &args.config {
        Some(path) => serde_json::from_str(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("parsing {}", path.display()))?,
        None => TrainConfig::default(),
    };
    config.epochs = args.epochs;
    if let Some(k) = args.noise_resampling {
        config.noise_resampling = k;
    }
    config.seed = args.training_seed.unwrap_or(args.seed);
    config.model.architecture = match args.architecture {
        ArchitectureArg::Transformer => Architecture::Transformer,
        ArchitectureArg::Gru => Architecture::Gru,
    };
    let dataset = match (&args.lightcurves, &args.labels) {
        (Some(lc), Some(labels)) => {
            let named = data::load_csv(lc, labels)?;
            let (known, unknown) = data::split_known(named);
            if !unknown.is_empty() {
                tracing::warn!(
                    skipped = unknown.len(),
                    "labels outside the taxonomy skipped"
                );
            }
            config.dataset = DatasetInfo {
                source: lc.display().to_string(),
                ..DatasetInfo::default()
            };
            known
        }
        _ => {
            let simulation = data::simulation(args.seed, args.objects_per_class);
            config.dataset = DatasetInfo::simulated(&simulation);
            data::simulated(&simulation)
        }
    };
    tracing::info!(objects = dataset.len(), out = %args.out.display(), "training");
    let report = train(&config, &dataset, &args.out, &device)?;
    let mut outlier_run = None;
    let mut ensemble = None;
    if let Some(weight) = args.outlier_exposure {
        let dir = args.out.join("outlier-network");
        let mut exposed = config.clone();
        exposed.outlier_exposure = weight;
        exposed.run_name = format!("{}-outlier-exposure", config.run_name);
        tracing::info!(weight, out = %dir.display(), "training the outlier-exposed network");
        let outlier = train(&exposed, &dataset, &dir, &device)?;
        let mut classifier = report.classifier.clone();
        attach_outlier_network(&mut classifier, outlier.classifier, &config, &dataset)?;
        // Both networks trained on the same split, so its validation views are new to both.
        let views = validation_views(&config, &dataset);
        let shares = args
            .class_share
            .map_or(ENSEMBLE_SHARES.to_vec(), |s| vec![s]);
        if let Some(fit) = fit_ensemble(&mut classifier, &views, &shares) {
            tracing::info!(
                share = fit.chosen.share,
                temperature = fit.chosen.temperature,
                outlier_temperature = fit.outlier_temperature,
                "the outlier-exposed network joins the class probabilities"
            );
            ensemble = Some(fit.chosen);
        }
        classifier.save(&args.out)?;
        std::fs::copy(
            dir.join("train_config.json"),
            args.out.join("outlier_train_config.json"),
        )
        .with_context(|| {
            format!(
                "copying the outlier network's config from {}",
                dir.display()
            )
        })?;
        outlier_run = Some(outlier.tracking_location);
    }
    println!(
        "{}",
        serde_json::json!({
            "out": args.out,
            "best_epoch": report.best_epoch,
            "steps": report.steps,
            "validation_macro_f1": report.validation.macro_f1,
            "validation_accuracy": report.validation.accuracy,
            "validation_top_level_accuracy": report.validation.top_level.accuracy,
            "validation_ece": report.validation.ece,
            "temperature": report.temperature,
            "tracking": report.tracking_location,
            "outlier_network_tracking": outlier_run,
            // The share as written (ENSEMBLE_SHARES or --class-share) rather than as f32 noise.
            "ensemble_share": ensemble.map(|e| (f64::from(e.share) * 100.0).round() / 100.0),
            "ensemble_temperature": ensemble.map(|e| e.temperature),
        })
    );
    Ok(ExitCode::SUCCESS)
}
