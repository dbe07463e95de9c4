//! `deeprubin classify`: classify light curves from a CSV file, one JSON line per object:
//! `object_id, class, probability, probabilities` (class name → probability, all 15),
//! `top_level_class, top_level` (Transient/Stochastic/Periodic → probability), `uncertainty` and
//! `anomaly_score`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use alert_model::Survey;
use anyhow::Context;
use clap::Args;
use classifier_core::{ClassPriors, Classifier};
use stream_consumer::classify::resolve_model_dir;

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Model directory (default: the shipped models/default, found from any working directory).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// `object_id,mjd,band,flux,flux_err` (nJy) and/or `mag,mag_err` (AB, with an optional
    /// `isdiffpos` column giving the sign of a difference flux); alert-schema names such as
    /// `oid`, `jd`, `fid`, `magpsf`, `sigmapsf`, `psfFlux` are accepted too.
    #[arg(long, value_name = "CSV")]
    pub lightcurves: Option<PathBuf>,
    /// The same CSV given without `--lightcurves`.
    #[arg(
        value_name = "CSV",
        conflicts_with = "lightcurves",
        required_unless_present = "lightcurves"
    )]
    pub file: Option<PathBuf>,
    /// Survey of every object (`ztf` or `lsst`); inferred from the bands when absent.
    #[arg(long)]
    pub survey: Option<String>,
    /// MC-dropout samples (0: deterministic).
    #[arg(long, default_value_t = 10)]
    pub mc_samples: usize,
    /// Class priors: `survey` (supernova types at the rates of a magnitude-limited survey, for
    /// real alerts) or `balanced` (equal classes, as the model was trained).
    #[arg(long, default_value_t = ClassPriors::Survey)]
    pub priors: ClassPriors,
    #[arg(long, default_value = "default")]
    pub device: String,
}

pub fn run(args: ClassifyArgs) -> anyhow::Result<ExitCode> {
    let device = classifier_core::device_by_name(&args.device)
        .with_context(|| format!("device {:?} is not available in this build", args.device))?;
    let survey = match args
        .survey
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => None,
        Some("ztf") => Some(Survey::Ztf),
        Some("lsst") | Some("rubin") => Some(Survey::Lsst),
        Some(other) => anyhow::bail!("unknown survey {other:?} (ztf or lsst)"),
    };
    let model = resolve_model_dir(args.model.as_deref())?;
    let classifier = Classifier::load(&model, &device)
        .with_context(|| format!("loading the model in {}", model.display()))?;
    let path = args
        .lightcurves
        .or(args.file)
        .context("no light-curve CSV given (--lightcurves CSV)")?;
    let parsed = classifier_core::csv::read_light_curves(&path, survey)
        .with_context(|| format!("reading {}", path.display()))?;
    if let Some(summary) = parsed.skipped_summary() {
        eprintln!("warning: {}: {summary}", path.display());
    }
    if let Some(id) = &parsed.object_id_from_file_name {
        eprintln!(
            "note: {} has no object id column: its rows are one object, {id}",
            path.display()
        );
    }
    let curves = parsed.curves;
    let predictions = classifier.classify_with_priors(&curves, args.mc_samples, args.priors);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for p in &predictions {
        // Probabilities by name, as in the stream's events and `fetch --classify`.
        let line = serde_json::json!({
            "object_id": p.object_id,
            "class": p.class,
            "probability": p.probability(),
            "probabilities": p.probability_map(),
            "top_level_class": p.top_level_class,
            "top_level": p.top_level_map(),
            "uncertainty": p.uncertainty,
            "anomaly_score": p.anomaly_score,
        });
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
