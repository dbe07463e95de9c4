//! Trains the shipped default model on simulated ZTF + Rubin light curves and evaluates it on a
//! fresh simulation (new seed): full curves, 16- and 32-day truncations, and anomaly classes.
//!
//! `cargo run -p classifier-core --release --example train_default -- [out_dir] [objects_per_class] [epochs]`

use std::path::PathBuf;
use std::time::Instant;

use alert_model::Survey;
use classifier_core::ClassPriors;
use classifier_core::data::{self, NamedCurve};
use classifier_core::evaluate::{self, EvaluationReport};
use classifier_core::train::{DatasetInfo, TrainConfig, train};
use classifier_core::{Classifier, default_device, throughput};
use simulator::SimulationConfig;

fn sim(seed: u64, per_class: usize, truncate: Option<f64>, anomalies: bool) -> SimulationConfig {
    let mut c = data::simulation(seed, per_class);
    c.truncate_days = truncate;
    if anomalies {
        c = c.with_anomalies();
    }
    c
}

fn line(name: &str, r: &EvaluationReport) -> String {
    format!(
        "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {} |",
        r.n_evaluated,
        r.accuracy,
        r.balanced_accuracy,
        r.macro_f1,
        r.top_level.accuracy,
        r.ece,
        r.anomaly_auroc
            .map_or("–".to_string(), |a| format!("{a:.3}")),
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber_init();
    classifier_core::allocator::keep_freed_tensor_memory();
    let args: Vec<String> = std::env::args().collect();
    let out = PathBuf::from(args.get(1).map_or("models/default", String::as_str));
    let per_class: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(300);
    let epochs: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(20);
    let device = default_device();

    let t = Instant::now();
    let simulation = sim(1, per_class, None, false);
    let dataset = data::simulated(&simulation);
    eprintln!(
        "simulated {} training objects in {:.1}s",
        dataset.len(),
        t.elapsed().as_secs_f64()
    );
    let config = TrainConfig {
        epochs,
        max_seconds: std::env::var("DEEPRUBIN_TRAIN_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok()),
        // DEEPRUBIN_NOISE_RESAMPLING=0.5 trains on fluxes redrawn within their errors each epoch.
        noise_resampling: std::env::var("DEEPRUBIN_NOISE_RESAMPLING")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.0),
        // DEEPRUBIN_OUTLIER_EXPOSURE=0.5 adds outlier exposure with that weight.
        outlier_exposure: std::env::var("DEEPRUBIN_OUTLIER_EXPOSURE")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.0),
        // DEEPRUBIN_TRAIN_SEED sets the initialisation and shuffling seed (default 7) on the same
        // simulated data, to measure how much a result owes to the training seed.
        seed: std::env::var("DEEPRUBIN_TRAIN_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(TrainConfig::default().seed),
        run_name: "default-model".into(),
        dataset: DatasetInfo::simulated(&simulation),
        ..TrainConfig::default()
    };
    // DEEPRUBIN_EVALUATE_ONLY=1 re-evaluates the model already in `out` (after a refit).
    if std::env::var_os("DEEPRUBIN_EVALUATE_ONLY").is_none() {
        let report = train(&config, &dataset, &out, &device)?;
        eprintln!(
            "trained: best epoch {}, {} steps, featurize {:.0}s, train {:.0}s, run {}",
            report.best_epoch,
            report.steps,
            report.featurize_seconds,
            report.train_seconds,
            report.tracking_location
        );
    }

    // Test sets: a new seed (DEEPRUBIN_TEST_SEED, default 2024; another gives a second test set).
    let test_seed: u64 = std::env::var("DEEPRUBIN_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2024);
    let classifier = Classifier::load(&out, &device)?;
    let test_n = (per_class / 3).max(30);
    let mut rows = Vec::new();
    let mut reports = serde_json::Map::new();
    let mut record =
        |name: &str, curves: &[NamedCurve]| -> Result<(), Box<dyn std::error::Error>> {
            let t = Instant::now();
            let r = evaluate::evaluate(
                &classifier,
                curves,
                config.mc_samples,
                ClassPriors::Balanced,
            );
            eprintln!(
                "{name}: {} curves in {:.1}s",
                curves.len(),
                t.elapsed().as_secs_f64()
            );
            evaluate::write_report(&r, &out, &format!("test_{name}_"))?;
            rows.push(line(name, &r));
            reports.insert(name.into(), serde_json::to_value(&r)?);
            eprintln!("{}", rows.last().cloned().unwrap_or_default());
            Ok(())
        };
    for (name, truncate) in [
        ("full", None),
        ("truncated_32d", Some(32.0)),
        ("truncated_16d", Some(16.0)),
    ] {
        record(
            name,
            &data::simulated_named(&sim(test_seed, test_n, truncate, true)),
        )?;
    }
    // Alert views: what a ZTF alert D days after the first detection shows (detections of the
    // last 30 days), and a Rubin alert (12 months of sources and forced photometry).
    let base: Vec<NamedCurve> = data::simulated_named(&sim(test_seed, test_n, None, true));
    for days in [8.0, 16.0, 30.0] {
        record(
            &format!("alert_{days:.0}d"),
            &data::alert_views_after(&base, days),
        )?;
    }
    // ZTF alerts as a stream raises them (and as a labelled sample of its alerts holds them):
    // each object as often as it raises alerts, 30 days of detections each.
    record(
        "ztf_alerts_streamed",
        &data::ztf_alerts_as_streamed(&base, 2 * test_n, test_seed),
    )?;
    // Inference throughput on this device (full curves and the 16-day ZTF alert views).
    let full: Vec<classifier_core::LightCurve> = base.iter().map(|c| c.curve.clone()).collect();
    let alerts: Vec<classifier_core::LightCurve> = full
        .iter()
        .filter(|c| c.survey == Survey::Ztf)
        .filter_map(|c| {
            let first = c.points.iter().find(|p| p.detected)?.mjd;
            Some(data::alert_view(c, first + 16.0))
        })
        .collect();
    let throughput = serde_json::json!({
        "full": throughput::measure(&classifier, &full, 5.0),
        "ztf_alert_16d": throughput::measure(&classifier, &alerts, 5.0),
    });
    eprintln!("inference throughput: {throughput}");
    std::fs::write(
        out.join("inference_throughput.json"),
        serde_json::to_string_pretty(&throughput)?,
    )?;
    std::fs::write(
        out.join("test_summary.json"),
        serde_json::to_string_pretty(&reports)?,
    )?;
    let table = format!(
        "| test set | n | accuracy | balanced acc. | macro-F1 | top-level acc. | ECE | anomaly AUROC |\n|---|---|---|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    );
    std::fs::write(out.join("test_table.md"), &table)?;
    println!("{table}");
    Ok(())
}

fn tracing_subscriber_init() {
    // The library logs through `tracing`; print epochs to stderr without a subscriber crate.
    struct Stderr;
    impl tracing::Subscriber for Stderr {
        fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
            *m.level() <= tracing::Level::INFO
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, e: &tracing::Event<'_>) {
            struct V(String);
            impl tracing::field::Visit for V {
                fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                    self.0.push_str(&format!(" {}={:?}", f.name(), v));
                }
            }
            let mut v = V(String::new());
            e.record(&mut v);
            eprintln!("{}", v.0);
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }
    let _ = tracing::subscriber::set_global_default(Stderr);
}
