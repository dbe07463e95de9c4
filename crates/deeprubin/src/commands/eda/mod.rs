//! `deeprubin eda`: compares classes of transients (by default SN Ia and SN II) by their rise and
//! decline times and colours, measured per object from the light curves ([`measure`]), and writes
//! the figures of `docs/eda.md`, a per-class summary (`summary.json`) and every object's
//! measurements (`measurements.csv`).

mod figures;
mod measure;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use alert_model::Survey;
use anyhow::Context;
use classifier_core::lightcurve::LightCurve;
use serde::Serialize;
use simulator::{Class, SimulationConfig};

use figures::ClassSet;
use measure::{MAX_GAP_DAYS, MIN_DETECTIONS, Measurement};

#[derive(Debug, clap::Args)]
pub struct EdaArgs {
    /// Output folder: lightcurves_r.png, rise_decline_hist.png, colour_phase.png,
    /// rise_vs_decline.png, summary.json and measurements.csv.
    #[arg(long)]
    pub out: PathBuf,
    /// Simulated objects per class (ignored with --lightcurves).
    #[arg(long, default_value_t = 300)]
    pub objects_per_class: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Survey to simulate (ignored with --lightcurves).
    #[arg(long, default_value = "ztf")]
    pub survey: Survey,
    /// Classes to compare, as the simulator and labels.csv name them (repeatable).
    #[arg(long = "class", default_values = ["SNIa", "SNII"])]
    pub classes: Vec<String>,
    /// Measure a labelled set instead of simulating: lightcurves.csv (object_id, mjd, band, flux,
    /// flux_err in nJy) …
    #[arg(long, requires = "labels")]
    pub lightcurves: Option<PathBuf>,
    /// … and labels.csv (object_id, class). Without redshifts, times are observer-frame.
    #[arg(long, requires = "lightcurves")]
    pub labels: Option<PathBuf>,
}

/// Median and interquartile range of one statistic over a class.
#[derive(Debug, Serialize)]
struct Stat {
    n: usize,
    median: Option<f64>,
    q25: Option<f64>,
    q75: Option<f64>,
}

impl Stat {
    fn of(objects: &[&Measurement], f: impl Fn(&Measurement) -> Option<f64>) -> Stat {
        let v = measure::sorted(objects.iter().filter_map(|m| f(m)));
        let round = |x: Option<f64>| x.map(|x| (x * 1000.0).round() / 1000.0);
        Stat {
            n: v.len(),
            median: round(measure::quantile(&v, 0.5)),
            q25: round(measure::quantile(&v, 0.25)),
            q75: round(measure::quantile(&v, 0.75)),
        }
    }
}

#[derive(Debug, Serialize)]
struct ClassSummary {
    /// Objects of the class measured.
    objects: usize,
    /// Objects with a constrained r-band peak (the reference of every phase).
    with_r_peak: usize,
    stats: BTreeMap<&'static str, Stat>,
}

#[derive(Debug, Serialize)]
struct Summary {
    source: String,
    survey: Option<String>,
    seed: Option<u64>,
    objects_per_class: Option<usize>,
    /// `rest` (times divided by 1 + z) or `observer`.
    frame: &'static str,
    definitions: BTreeMap<&'static str, String>,
    classes: BTreeMap<String, ClassSummary>,
}

/// The statistics of the summary and of `measurements.csv`, in order.
type Column = (&'static str, fn(&Measurement) -> Option<f64>);
const COLUMNS: [Column; 11] = [
    ("rise_days", |m| m.rise_days),
    ("decline_days", |m| m.decline_days),
    ("rise_days_g", |m| m.rise_days_g),
    ("decline_days_g", |m| m.decline_days_g),
    ("dm15_g", |m| m.dm15_g),
    ("dm15_r", |m| m.dm15_r),
    ("dm50_r", |m| m.dm50_r),
    ("gr_peak", |m| m.gr_peak),
    ("peak_mag_r", |m| m.peak_mag_r),
    ("peak_mjd_r", |m| m.peak_mjd_r),
    ("redshift", |m| m.redshift),
];

fn definitions(frame: &str) -> BTreeMap<&'static str, String> {
    let gap = format!(
        "bands fitted one by one with the project's Matern-3/2 GP (>= {MIN_DETECTIONS} detections); \
         a time counts only where observations of the band bracket it at most {MAX_GAP_DAYS} observer days apart"
    );
    BTreeMap::from([
        ("method", gap),
        (
            "rise_days",
            format!("{frame}-frame days from the r-band half maximum before the peak to the peak"),
        ),
        (
            "decline_days",
            format!("{frame}-frame days from the r-band peak to the half maximum after it"),
        ),
        ("rise_days_g", "rise_days in g".into()),
        ("decline_days_g", "decline_days in g".into()),
        (
            "dm15_g",
            format!("g mag faded {frame}-frame 15 d after the g peak (Phillips 1993 uses B)"),
        ),
        (
            "dm15_r",
            format!("r mag faded {frame}-frame 15 d after the r peak"),
        ),
        (
            "dm50_r",
            format!("r mag faded {frame}-frame 50 d after the r peak"),
        ),
        (
            "gr_peak",
            "g - r (AB, -2.5 log10 f_g/f_r of the GP means) at the r-band peak".into(),
        ),
        ("peak_mag_r", "31.4 - 2.5 log10(peak r flux / nJy)".into()),
    ])
}

/// Light curves with their class names and redshifts (if known).
type Labelled = Vec<(LightCurve, String, Option<f64>)>;

fn simulated(args: &EdaArgs) -> anyhow::Result<Labelled> {
    let classes = args
        .classes
        .iter()
        .map(|c| {
            c.parse::<Class>()
                .map_err(|e| anyhow::anyhow!("--class {c}: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let config = SimulationConfig {
        seed: args.seed,
        surveys: vec![args.survey],
        objects_per_class: args.objects_per_class,
        classes,
        // Only objects a broker would see alerts of; more detections leave more to measure.
        min_detections: 5,
        ..SimulationConfig::default()
    };
    Ok(simulator::simulate(&config)
        .iter()
        .map(|o| {
            (
                LightCurve::from_simulated(o),
                o.class.name().to_string(),
                o.redshift,
            )
        })
        .collect())
}

fn from_csv(args: &EdaArgs, lightcurves: &Path, labels: &Path) -> anyhow::Result<Labelled> {
    let curves = classifier_core::data::load_csv(lightcurves, labels)
        .with_context(|| format!("reading {} and {}", lightcurves.display(), labels.display()))?;
    Ok(curves
        .into_iter()
        .filter(|c| args.classes.contains(&c.label))
        .map(|c| (c.curve, c.label, None))
        .collect())
}

fn write_measurements(path: &Path, measurements: &[Measurement]) -> anyhow::Result<()> {
    let mut out = String::from("object_id,class,detections");
    for (name, _) in COLUMNS {
        out.push(',');
        out.push_str(name);
    }
    out.push('\n');
    for m in measurements {
        out.push_str(&format!("{},{},{}", m.object_id, m.class, m.detections));
        for (_, f) in COLUMNS {
            out.push(',');
            if let Some(v) = f(m) {
                out.push_str(&format!("{v:.4}"));
            }
        }
        out.push('\n');
    }
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}

pub fn run(args: EdaArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let (labelled, source) = match (&args.lightcurves, &args.labels) {
        (Some(lc), Some(labels)) => (
            from_csv(&args, lc, labels)?,
            format!("{} + {}", lc.display(), labels.display()),
        ),
        _ => (simulated(&args)?, "simulated".to_string()),
    };
    let from_sim = args.lightcurves.is_none();
    let frame = if labelled.iter().all(|(_, _, z)| z.is_some()) && !labelled.is_empty() {
        "rest"
    } else {
        "observer"
    };
    // Rest frame only when every object has a redshift, so a class is never a mix of frames.
    let measurements: Vec<Measurement> = labelled
        .iter()
        .map(|(lc, class, redshift)| {
            let z = if frame == "rest" { *redshift } else { None };
            let mut m = measure::measure(lc, class, z);
            m.redshift = *redshift;
            m
        })
        .collect();

    let sets: Vec<ClassSet<'_>> = args
        .classes
        .iter()
        .map(|name| ClassSet {
            name,
            objects: measurements.iter().filter(|m| &m.class == name).collect(),
        })
        .collect();
    for set in &sets {
        if set.objects.is_empty() {
            anyhow::bail!("no objects of class {}", set.name);
        }
    }

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let out = &args.out;
    let figure = |name: &str, result: Result<(), String>| {
        result.map_err(|e| anyhow::anyhow!("drawing {}: {e}", out.join(name).display()))
    };
    figure(
        "lightcurves_r.png",
        figures::lightcurves(&out.join("lightcurves_r.png"), &sets, frame),
    )?;
    figure(
        "rise_decline_hist.png",
        figures::histograms(&out.join("rise_decline_hist.png"), &sets, frame),
    )?;
    figure(
        "colour_phase.png",
        figures::colours(&out.join("colour_phase.png"), &sets, frame),
    )?;
    figure(
        "rise_vs_decline.png",
        figures::scatter(&out.join("rise_vs_decline.png"), &sets, frame),
    )?;
    write_measurements(&out.join("measurements.csv"), &measurements)?;

    let classes = sets
        .iter()
        .map(|set| {
            let stats = COLUMNS
                .iter()
                .filter(|(name, _)| *name != "peak_mjd_r")
                .map(|(name, f)| (*name, Stat::of(&set.objects, f)))
                .collect();
            (
                set.name.to_string(),
                ClassSummary {
                    objects: set.objects.len(),
                    with_r_peak: set
                        .objects
                        .iter()
                        .filter(|m| m.peak_mjd_r.is_some())
                        .count(),
                    stats,
                },
            )
        })
        .collect();
    let summary = Summary {
        source,
        survey: from_sim.then(|| args.survey.as_str().to_string()),
        seed: from_sim.then_some(args.seed),
        objects_per_class: from_sim.then_some(args.objects_per_class),
        frame,
        definitions: definitions(frame),
        classes,
    };
    let summary_path = out.join("summary.json");
    std::fs::write(
        &summary_path,
        serde_json::to_string_pretty(&summary)? + "\n",
    )
    .with_context(|| format!("writing {}", summary_path.display()))?;

    println!(
        "{:<8} {:>7} {:>7} {:>15} {:>15} {:>13} {:>13}",
        "class", "objects", "r_peak", "rise_d (n)", "decline_d (n)", "dm15_g (n)", "g-r@pk (n)"
    );
    let cell = |s: &Stat| match s.median {
        Some(m) => format!("{m:.2} ({})", s.n),
        None => format!("- ({})", s.n),
    };
    for (name, c) in &summary.classes {
        let get = |k: &str| c.stats.get(k).map(cell).unwrap_or_default();
        println!(
            "{:<8} {:>7} {:>7} {:>15} {:>15} {:>13} {:>13}",
            name,
            c.objects,
            c.with_r_peak,
            get("rise_days"),
            get("decline_days"),
            get("dm15_g"),
            get("gr_peak"),
        );
    }
    println!(
        "frame={frame} seconds={:.1} out={}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
