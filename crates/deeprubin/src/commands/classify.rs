//! `deeprubin classify`: classify light curves from a CSV file, one JSON line per object.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use alert_model::Survey;
use anyhow::Context;
use clap::Args;
use classifier_core::Classifier;

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Model directory.
    #[arg(long, default_value = "models/default")]
    pub model: PathBuf,
    /// `object_id,mjd,band,flux,flux_err` (nJy) and/or `mag,mag_err` (AB).
    pub lightcurves: PathBuf,
    /// Survey of every object (`ztf` or `lsst`); inferred from the bands when absent.
    #[arg(long)]
    pub survey: Option<String>,
    /// MC-dropout samples (0: deterministic).
    #[arg(long, default_value_t = 10)]
    pub mc_samples: usize,
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
    let classifier = Classifier::load(&args.model, &device)?;
    let curves = classifier_core::csv::read_light_curves(&args.lightcurves, survey)?;
    let predictions = classifier.classify(&curves, args.mc_samples);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for p in &predictions {
        writeln!(out, "{}", serde_json::to_string(p)?)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
