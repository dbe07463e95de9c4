//! `deeprubin evaluate`: metrics of a trained classifier on labelled light curves.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use classifier_core::{ClassPriors, Classifier, data, evaluate};
use stream_consumer::classify::resolve_model_dir;

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Model directory (default: the shipped models/default, found from any working directory).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Light curves to evaluate; without them a fresh simulation (with anomaly classes) is used.
    #[arg(long, requires = "labels")]
    pub lightcurves: Option<PathBuf>,
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Simulated objects per class and survey (when no CSV is given).
    #[arg(long, default_value_t = 80)]
    pub objects_per_class: usize,
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// Truncate simulated curves to this many days before a random detection.
    #[arg(long)]
    pub truncate_days: Option<f64>,
    /// Where to write metrics.json and confusion.png.
    #[arg(long, default_value = "evaluation")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 10)]
    pub mc_samples: usize,
    /// Class priors (`survey` or `balanced`; see `classify`). Default: balanced for the simulated
    /// test set (equal objects per class), survey for CSV light curves (real alerts).
    #[arg(long)]
    pub priors: Option<ClassPriors>,
    #[arg(long, default_value = "default")]
    pub device: String,
}

pub fn run(args: EvaluateArgs) -> anyhow::Result<ExitCode> {
    let device = classifier_core::device_by_name(&args.device)
        .with_context(|| format!("device {:?} is not available in this build", args.device))?;
    let model = resolve_model_dir(args.model.as_deref())?;
    let classifier = Classifier::load(&model, &device)
        .with_context(|| format!("loading the model in {}", model.display()))?;
    let (curves, default_priors) = match (&args.lightcurves, &args.labels) {
        (Some(lc), Some(labels)) => (data::load_csv(lc, labels)?, ClassPriors::Survey),
        _ => {
            let mut sim = data::simulation(args.seed, args.objects_per_class).with_anomalies();
            sim.truncate_days = args.truncate_days;
            (data::simulated_named(&sim), ClassPriors::Balanced)
        }
    };
    let priors = args.priors.unwrap_or(default_priors);
    let report = evaluate::evaluate(&classifier, &curves, args.mc_samples, priors);
    for (label, n) in &report.unknown_labels {
        eprintln!(
            "label {label:?} is not in the taxonomy: {n} objects skipped (used as anomalies)"
        );
    }
    evaluate::write_report(&report, &args.out, "").map_err(anyhow::Error::msg)?;
    println!(
        "{}",
        serde_json::json!({
            "n": report.n_evaluated,
            "accuracy": report.accuracy,
            "balanced_accuracy": report.balanced_accuracy,
            "macro_f1": report.macro_f1,
            "top_level_accuracy": report.top_level.accuracy,
            "ece": report.ece,
            "anomaly_auroc": report.anomaly_auroc,
            "priors": priors,
            "out": args.out,
        })
    );
    Ok(ExitCode::SUCCESS)
}
