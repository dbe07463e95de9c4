//! `deeprubin alerts-to-csv`: the light curves that alert packets carry, as the CSV files
//! `classify` and `evaluate` read, with catalogue labels where a broker cross-matched the alerts.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use alert_model::Alert;
use anyhow::Context;
use clap::Args;
use classifier_core::LightCurve;
use classifier_core::simbad::{self, SimbadLabel};

use crate::cli::SchemaArgs;
use crate::commands::schemas;

#[derive(Debug, Args)]
pub struct AlertsToCsvArgs {
    #[command(flatten)]
    pub schemas: SchemaArgs,
    /// Output folder: lightcurves.csv (object_id,mjd,band,flux,flux_err in nJy) and, when the
    /// packets carry a SIMBAD cross-match, labels.csv (object_id,class,simbad_type,candidate).
    #[arg(long)]
    pub out: PathBuf,
    /// One light curve per alert (id `<object>_<source id>`) instead of one per object, the
    /// latest alert's.
    #[arg(long)]
    pub every_alert: bool,
    /// Top-level field holding the SIMBAD type of the nearest catalogued source (Fink's name).
    #[arg(long, default_value = "cdsxmatch")]
    pub simbad_field: String,
    /// Alert files or directories (searched recursively for *.avro).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// One light curve to write, with the SIMBAD type its alert carried.
struct Exported {
    curve: LightCurve,
    simbad_type: Option<String>,
}

pub fn run(args: AlertsToCsvArgs) -> anyhow::Result<ExitCode> {
    let decoder = schemas::decoder(&args.schemas)?;
    let files = schemas::alert_files(&args.paths)?;
    anyhow::ensure!(!files.is_empty(), "no alert files found");
    let mut alerts: Vec<(Alert, Option<String>)> = Vec::new();
    let mut failures = 0usize;
    for path in &files {
        match schemas::decode_file(path, |bytes| {
            decoder.decode_annotated(bytes, &args.simbad_field)
        }) {
            Ok(decoded) => alerts.extend(decoded),
            Err(message) => {
                failures += 1;
                eprintln!("error: {message}");
            }
        }
    }
    let n_alerts = alerts.len();
    let exported = if args.every_alert {
        alerts
            .into_iter()
            .map(|(alert, simbad_type)| {
                let mut curve = LightCurve::from_alert(&alert);
                curve.object_id = format!("{}_{}", alert.object_id.as_str(), alert.source_id());
                Exported { curve, simbad_type }
            })
            .collect()
    } else {
        latest_per_object(alerts)
    };
    write(&args, &exported)?;
    println!("{}", summary(n_alerts, &exported, &args));
    if failures > 0 {
        eprintln!("{failures} of {} files failed to decode", files.len());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Each object's latest alert (largest candidate MJD), in object order.
fn latest_per_object(alerts: Vec<(Alert, Option<String>)>) -> Vec<Exported> {
    let mut latest: BTreeMap<String, (Alert, Option<String>)> = BTreeMap::new();
    for (alert, simbad_type) in alerts {
        let id = alert.object_id.as_str().to_owned();
        let newer = latest
            .get(&id)
            .is_none_or(|(kept, _)| alert.candidate.mjd.0 > kept.candidate.mjd.0);
        if newer {
            latest.insert(id, (alert, simbad_type));
        }
    }
    latest
        .into_values()
        .map(|(alert, simbad_type)| Exported {
            curve: LightCurve::from_alert(&alert),
            simbad_type,
        })
        .collect()
}

fn write(args: &AlertsToCsvArgs, exported: &[Exported]) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut curves = String::from("object_id,mjd,band,flux,flux_err\n");
    let mut labels = String::from("object_id,class,simbad_type,candidate\n");
    let mut any_label = false;
    for e in exported {
        let id = &e.curve.object_id;
        for p in &e.curve.points {
            let _ = writeln!(
                curves,
                "{id},{},{},{},{}",
                p.mjd, p.band, p.flux_njy, p.flux_err_njy
            );
        }
        if let Some((t, label)) = simbad_label(e) {
            any_label = true;
            let _ = writeln!(labels, "{id},{},{},{}", label.class, t, label.candidate);
        }
    }
    let path = args.out.join("lightcurves.csv");
    std::fs::write(&path, curves).with_context(|| format!("writing {}", path.display()))?;
    if any_label {
        let path = args.out.join("labels.csv");
        std::fs::write(&path, labels).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The SIMBAD type of a light curve and its class, when the type maps to one (every mapped type
/// is a plain name, safe to write unquoted).
fn simbad_label(e: &Exported) -> Option<(&str, SimbadLabel)> {
    let t = e.simbad_type.as_deref()?.trim();
    Some((t, simbad::label_of(t)?))
}

/// What was written: counts, labelled objects per class, and the commonest unmapped types.
fn summary(n_alerts: usize, exported: &[Exported], args: &AlertsToCsvArgs) -> String {
    let n_points: usize = exported.iter().map(|e| e.curve.points.len()).sum();
    let mut per_class: BTreeMap<&str, usize> = BTreeMap::new();
    let mut unmapped: HashMap<&str, usize> = HashMap::new();
    let mut without_type = 0usize;
    for e in exported {
        match (e.simbad_type.as_deref(), simbad_label(e)) {
            (_, Some((_, label))) => *per_class.entry(label.class).or_default() += 1,
            (Some(t), None) => *unmapped.entry(t).or_default() += 1,
            (None, None) => without_type += 1,
        }
    }
    let mut s = format!(
        "{n_alerts} alerts → {} light curves, {n_points} points: {}",
        exported.len(),
        args.out.join("lightcurves.csv").display()
    );
    if !per_class.is_empty() {
        let classes: Vec<String> = per_class.iter().map(|(c, n)| format!("{c} {n}")).collect();
        let _ = write!(
            s,
            "\nlabelled from SIMBAD types ({}): {} → {}",
            args.simbad_field,
            classes.join(", "),
            args.out.join("labels.csv").display()
        );
    }
    if !unmapped.is_empty() {
        let mut types: Vec<(&str, usize)> = unmapped.into_iter().collect();
        types.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = types
            .iter()
            .take(8)
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        let more = if types.len() > 8 { ", …" } else { "" };
        let n: usize = types.iter().map(|(_, n)| n).sum();
        let _ = write!(
            s,
            "\nleft unlabelled: {n} with a SIMBAD type outside the taxonomy ({}{more})",
            shown.join(", ")
        );
    }
    if without_type > 0 {
        let _ = write!(s, "\nleft unlabelled: {without_type} without a cross-match");
    }
    s
}
