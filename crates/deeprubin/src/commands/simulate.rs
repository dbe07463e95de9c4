//! `deeprubin simulate`: labelled light curves (CSV) and the alert packets a survey would send.

use std::process::ExitCode;

use anyhow::Context;
use simulator::{Class, SimulationConfig, simulate, write_csv, write_packets};

use crate::cli::SimulateArgs;

pub fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let mut classes: Vec<Class> = if args.classes.is_empty() {
        Class::ALL_TRAINING.to_vec()
    } else {
        args.classes
            .iter()
            .map(|c| {
                c.parse::<Class>()
                    .map_err(|e| anyhow::anyhow!("--class {c}: {e}"))
            })
            .collect::<anyhow::Result<_>>()?
    };
    if args.anomalies {
        classes.extend(Class::ANOMALIES);
    }
    let config = SimulationConfig {
        seed: args.seed,
        surveys: args.surveys.clone(),
        objects_per_class: args.objects_per_class,
        classes,
        truncate_days: args.truncate_days,
        duration_days: args.duration_days,
        ..SimulationConfig::default()
    };
    let started = std::time::Instant::now();
    let objects = simulate(&config);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let csv = write_csv(&args.out, &objects).context("writing CSV")?;
    // One folder per survey (alerts/ztf, alerts/lsst): each stream is replayed to its own topic.
    let mut packets = 0;
    if !args.no_packets {
        for survey in &args.surveys {
            let of_survey: Vec<_> = objects
                .iter()
                .filter(|o| o.survey == *survey)
                .cloned()
                .collect();
            let dir = args.out.join("alerts").join(survey.as_str());
            packets += write_packets(&dir, &of_survey)
                .with_context(|| format!("writing alert packets to {}", dir.display()))?
                .len();
        }
    }
    println!(
        "objects={} detections={} packets={} seconds={:.2} lightcurves={} labels={}",
        objects.len(),
        objects.iter().map(|o| o.n_detections()).sum::<usize>(),
        packets,
        started.elapsed().as_secs_f64(),
        csv.lightcurves.display(),
        csv.labels.display(),
    );
    Ok(ExitCode::SUCCESS)
}
