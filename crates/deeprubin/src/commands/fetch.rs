//! `deeprubin fetch --alerce OID...`: light curves and ALeRCE's classifications of ZTF objects
//! from the ALeRCE API; optionally stored (the same idempotent path as the stream), classified by
//! the broker's own model, and written as CSV for `deeprubin evaluate`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use alerce::{AlerceClient, ClientConfig, FetchedObject, RetryPolicy};
use alert_model::Survey;
use anyhow::Context;
use clap::{Args, ValueEnum};
use classifier_core::{Classifier, Prediction};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use store::{PgConfig, PgStore, StateStore, UpsertOutcome};

use super::runtime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON line per object: summary, ALeRCE probabilities (and points with --points).
    Json,
    /// Light-curve points as CSV on stdout; a summary line per object on stderr.
    Csv,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// ZTF object ids, e.g. ZTF18adoojej.
    #[arg(long = "alerce", value_name = "OID", num_args = 1.., required_unless_present = "from_file")]
    pub oids: Vec<String>,
    /// A file of object ids, one a line (blank lines and `#` comments ignored).
    #[arg(long, value_name = "OIDS.txt")]
    pub from_file: Option<PathBuf>,
    /// Store the light curves in this database (migrated beforehand); replays change nothing.
    #[arg(long)]
    pub database_url: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Include every point in the JSON lines.
    #[arg(long)]
    pub points: bool,
    /// ALeRCE ZTF API root.
    #[arg(long, env = "DEEPRUBIN_ALERCE_URL", default_value = alerce::DEFAULT_BASE_URL)]
    pub base_url: String,
    /// Whole-request timeout in seconds.
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    /// Attempts per request (429 and 5xx are retried with backoff; at most 10).
    #[arg(long, default_value_t = 4)]
    pub max_attempts: u32,
    /// Requests per second, at most.
    #[arg(long, default_value_t = 5.0)]
    pub rate: f64,
    /// Classify with the broker's own model too, beside ALeRCE's probabilities.
    #[arg(long)]
    pub classify: bool,
    /// Model directory for --classify (default: the shipped models/default).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// MC-dropout samples for --classify (0: deterministic).
    #[arg(long, default_value_t = 10)]
    pub mc_samples: usize,
    #[arg(long, default_value = "default")]
    pub device: String,
    /// Write lightcurves.csv (object_id,mjd,band,flux,flux_err in nJy) and labels.csv
    /// (object_id,class: ALeRCE's top lc_classifier class) here, for `deeprubin evaluate`.
    #[arg(long, value_name = "DIR")]
    pub write_lightcurves: Option<PathBuf>,
}

pub fn run(args: FetchArgs) -> anyhow::Result<ExitCode> {
    let oids = object_ids(&args)?;
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        anyhow::bail!("--timeout must be a positive number of seconds");
    }
    let classifier = match args.classify {
        true => Some(load_classifier(&args)?),
        false => None,
    };
    let rt = runtime()?;
    let store = match &args.database_url {
        Some(url) => Some(rt.block_on(connect(url))?),
        None => None,
    };
    let client = AlerceClient::new(ClientConfig {
        base_url: args.base_url.clone(),
        timeout: Duration::from_secs_f64(args.timeout),
        retry: RetryPolicy {
            max_attempts: args.max_attempts,
            ..RetryPolicy::default()
        },
        max_requests_per_second: args.rate,
        ..ClientConfig::default()
    });

    let bar = progress(oids.len());
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.format == Format::Csv {
        writeln!(
            out,
            "object_id,kind,mjd,band,flux,flux_err,mag,mag_err,source_id"
        )?;
    }
    let (mut fetched, mut failures) = (Vec::new(), 0usize);
    for oid in &oids {
        bar.set_message(oid.clone());
        let object = match client.fetch(oid) {
            Ok(object) => object,
            Err(e) => {
                failures += 1;
                // Every error names the object already, except transport-level ones.
                let message = e.to_string();
                match message.contains(oid.as_str()) {
                    true => bar.suspend(|| eprintln!("error: {message}")),
                    false => bar.suspend(|| eprintln!("error: {oid}: {message}")),
                }
                bar.inc(1);
                continue;
            }
        };
        let stored = match (&store, object.alert()) {
            (Some(store), Some(alert)) => {
                let outcomes = rt
                    .block_on(store.upsert_alerts(std::slice::from_ref(&alert)))
                    .with_context(|| format!("storing {oid}"))?;
                outcomes.first().copied()
            }
            _ => None,
        };
        let prediction = classifier
            .as_ref()
            .and_then(|c| classify(c, &object, args.mc_samples));
        match args.format {
            Format::Json => {
                let line = summary(
                    &object,
                    stored,
                    prediction.as_ref(),
                    args.points,
                    store.is_some(),
                );
                writeln!(out, "{line}")?;
            }
            Format::Csv => {
                write_points(&mut out, &object)?;
                bar.suspend(|| eprintln!("{}", one_line(&object, prediction.as_ref())));
            }
        }
        out.flush()?;
        bar.inc(1);
        fetched.push(object);
    }
    bar.finish_and_clear();
    if let Some(dir) = &args.write_lightcurves {
        write_for_evaluate(dir, &fetched)?;
        eprintln!(
            "wrote {} and {} ({} objects)",
            dir.join("lightcurves.csv").display(),
            dir.join("labels.csv").display(),
            fetched.len()
        );
    }
    if let Some(store) = store {
        rt.block_on(store.close());
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("{failures} of {} objects failed", oids.len());
        ExitCode::from(1)
    })
}

/// Ids from the command line, then from the file, each once, in order.
fn object_ids(args: &FetchArgs) -> anyhow::Result<Vec<String>> {
    let mut ids: Vec<String> = args.oids.iter().map(|s| s.trim().to_owned()).collect();
    if let Some(path) = &args.from_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading object ids from {}", path.display()))?;
        ids.extend(
            text.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| !id.is_empty() && seen.insert(id.clone()));
    anyhow::ensure!(
        !ids.is_empty(),
        "no object ids given (--alerce OID or --from-file FILE)"
    );
    Ok(ids)
}

fn load_classifier(args: &FetchArgs) -> anyhow::Result<Classifier> {
    let device = classifier_core::device_by_name(&args.device)
        .with_context(|| format!("device {:?} is not available in this build", args.device))?;
    let model =
        stream_consumer::classify::resolve_model_dir(args.model.as_deref()).with_context(|| {
            let given = args.model.as_deref();
            format!(
                "--classify: loading the model from {}",
                given.map_or_else(|| "the default places".into(), |p| p.display().to_string())
            )
        })?;
    Classifier::load(&model, &device).with_context(|| {
        format!(
            "--classify: loading the model from {} (train one with `deeprubin train`)",
            model.display()
        )
    })
}

async fn connect(url: &str) -> anyhow::Result<PgStore> {
    let store = PgStore::connect(&PgConfig::with_url(url))
        .await
        .with_context(|| format!("connecting to {}", store::redact(url)))?;
    store
        .ping()
        .await
        .with_context(|| format!("checking {}", store::redact(url)))?;
    Ok(store)
}

fn progress(n: usize) -> ProgressBar {
    if n < 2 {
        return ProgressBar::hidden();
    }
    ProgressBar::new(n as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} objects {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    )
}

/// The broker's model on the object's detections (upper limits carry no flux measurement).
fn classify(
    classifier: &Classifier,
    object: &FetchedObject,
    mc_samples: usize,
) -> Option<Prediction> {
    let points = object
        .light_curve
        .detections
        .iter()
        .map(classifier_core::Point::from_detection)
        .collect();
    let curve = classifier_core::LightCurve::new(object.object_id.as_str(), Survey::Ztf, points);
    if curve.points.is_empty() {
        return None;
    }
    classifier.classify(&[curve], mc_samples).into_iter().next()
}

fn prediction_json(p: &Prediction) -> Value {
    json!({
        "class": p.class,
        "probability": p.probability(),
        "top_level_class": p.top_level_class,
        "uncertainty": p.uncertainty,
        "anomaly_score": p.anomaly_score,
        "probabilities": p.probability_map(),
    })
}

fn summary(
    object: &FetchedObject,
    stored: Option<UpsertOutcome>,
    prediction: Option<&Prediction>,
    points: bool,
    storing: bool,
) -> Value {
    let lc = &object.light_curve;
    let mut per_band = serde_json::Map::new();
    for d in &lc.detections {
        let n = per_band.entry(d.band.as_str()).or_insert(json!(0));
        *n = json!(n.as_u64().unwrap_or(0) + 1);
    }
    let mut line = json!({
        "object_id": object.object_id,
        "ra": object.summary.meanra,
        "dec": object.summary.meandec,
        "first_mjd": lc.detections.first().map(|d| d.mjd),
        "last_mjd": lc.detections.last().map(|d| d.mjd),
        "n_detections": lc.detections.len(),
        "n_upper_limits": lc.upper_limits.len(),
        "detections_per_band": per_band,
        "skipped": lc.skipped,
        "alerce": object.alerce_class().map(|p| json!({
            "class": p.class_name,
            "probability": p.probability,
            "classifier": p.classifier_name,
            "classifier_version": p.classifier_version,
        })),
        "alerce_probabilities": object.probabilities,
    });
    if storing {
        line["stored"] = match stored {
            Some(o) => json!(o),
            None => json!(null), // no detection: nothing an alert could carry
        };
    }
    if let Some(p) = prediction {
        line["prediction"] = prediction_json(p);
    }
    if points {
        line["detections"] = json!(lc.detections);
        line["upper_limits"] = json!(lc.upper_limits);
    }
    line
}

fn write_points(out: &mut impl Write, object: &FetchedObject) -> std::io::Result<()> {
    let oid = object.object_id.as_str();
    for d in &object.light_curve.detections {
        let (mag, mag_err) = d.mag.map_or((String::new(), String::new()), |m| {
            (m.mag.to_string(), m.err.to_string())
        });
        writeln!(
            out,
            "{oid},detection,{},{},{},{},{mag},{mag_err},{}",
            d.mjd.0, d.band, d.flux.0, d.flux_err.0, d.source_id
        )?;
    }
    for u in &object.light_curve.upper_limits {
        writeln!(
            out,
            "{oid},upper_limit,{},{},{},,{},,",
            u.mjd.0,
            u.band,
            u.flux_limit().0,
            u.limiting_mag
        )?;
    }
    Ok(())
}

fn one_line(object: &FetchedObject, prediction: Option<&Prediction>) -> String {
    let lc = &object.light_curve;
    let mut s = format!(
        "{}: {} detections, {} upper limits",
        object.object_id,
        lc.detections.len(),
        lc.upper_limits.len()
    );
    match object.alerce_class() {
        Some(p) => {
            let _ = write!(
                s,
                "; ALeRCE {}: {} {:.3}",
                p.classifier_name, p.class_name, p.probability
            );
        }
        None => s.push_str("; ALeRCE: no lc_classifier probabilities"),
    }
    if let Some(p) = prediction {
        let _ = write!(s, "; ours: {} {:.3}", p.class, p.probability());
    }
    s
}

/// `lightcurves.csv` and `labels.csv` in the layout `deeprubin evaluate` reads.
fn write_for_evaluate(dir: &Path, objects: &[FetchedObject]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut curves = String::from("object_id,mjd,band,flux,flux_err\n");
    let mut labels = String::from("object_id,class\n");
    for o in objects {
        for d in &o.light_curve.detections {
            let _ = writeln!(
                curves,
                "{},{},{},{},{}",
                o.object_id, d.mjd.0, d.band, d.flux.0, d.flux_err.0
            );
        }
        if let Some(p) = o.alerce_class() {
            let _ = writeln!(labels, "{},{}", o.object_id, csv_field(&p.class_name));
        }
    }
    for (name, text) in [("lightcurves.csv", curves), ("labels.csv", labels)] {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// A CSV field, quoted when it needs to be.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}
