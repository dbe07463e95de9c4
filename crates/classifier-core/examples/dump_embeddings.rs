//! Writes a model's anomaly scores, embeddings, logits, the layers the embedding is fused from, raw global
//! features and GP grid, as CSV, to study anomaly scores
//! offline: the training views the anomaly model is fitted on (`fit`, as `refit_anomaly` draws
//! them), a fresh simulation with the anomaly classes as in `train_default` (`test`: full curves),
//! its 16- and 32-day truncations and its 8-, 16- and 30-day alert views.
//!
//! `cargo run -p classifier-core --release --example dump_embeddings -- MODEL_DIR OUT.csv [test_per_class] [train_per_class] [test_seed]`
//!
//! `test_per_class` defaults to 73, `train_per_class` to 220 and `test_seed` to 2024 (the shipped
//! model's test and training sets); another test seed gives a validation set to choose methods on.

use std::io::Write;
use std::path::PathBuf;

use classifier_core::calibration::softmax_into;
use classifier_core::data::{self, NamedCurve};
use classifier_core::inference::normalized_entropy;
use classifier_core::train::{TrainConfig, anomaly_fit_views, training_views};
use classifier_core::{CLASS_NAMES, Classifier, LightCurve, N_CLASSES, default_device};
use simulator::SimulationConfig;

fn sim(seed: u64, per_class: usize, truncate: Option<f64>, anomalies: bool) -> SimulationConfig {
    let mut c = data::simulation(seed, per_class);
    c.truncate_days = truncate;
    if anomalies {
        c = c.with_anomalies();
    }
    c
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let model = PathBuf::from(args.get(1).map_or("models/default", String::as_str));
    let out = PathBuf::from(args.get(2).map_or("embeddings.csv", String::as_str));
    let test_n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(73);
    let train_n: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(220);
    let test_seed: u64 = args.get(5).and_then(|s| s.parse().ok()).unwrap_or(2024);
    let classifier = Classifier::load(&model, &default_device())?;
    let config: TrainConfig =
        serde_json::from_str(&std::fs::read_to_string(model.join("train_config.json"))?)?;

    let mut sets: Vec<(String, Vec<NamedCurve>)> = Vec::new();
    // DEEPRUBIN_ALL_VIEWS=1 writes every training view, not only those the anomaly model uses.
    let dataset = data::simulated(&sim(1, train_n, None, false));
    let fit = if std::env::var_os("DEEPRUBIN_ALL_VIEWS").is_some() {
        training_views(&config, &dataset)
    } else {
        anomaly_fit_views(&config, &dataset)
    };
    sets.push((
        "fit".into(),
        fit.into_iter()
            .map(|c| NamedCurve {
                curve: c.curve,
                label: CLASS_NAMES[c.label].to_string(),
            })
            .collect(),
    ));
    let base = data::simulated_named(&sim(test_seed, test_n, None, true));
    for days in [16.0, 32.0] {
        let name = format!("truncated_{days:.0}d");
        sets.push((
            name,
            data::simulated_named(&sim(test_seed, test_n, Some(days), true)),
        ));
    }
    for days in [8.0, 16.0, 30.0] {
        let curves = data::alert_views_after(&base, days);
        sets.push((format!("alert_{days:.0}d"), curves));
    }
    sets.push(("test".into(), base));

    let mut file = std::io::BufWriter::new(std::fs::File::create(&out)?);
    let mut header = false;
    let mut p = [0f32; N_CLASSES];
    for (split, curves) in &sets {
        eprintln!("{split}: {} curves", curves.len());
        let lcs: Vec<LightCurve> = curves.iter().map(|c| c.curve.clone()).collect();
        let features = classifier.featurize(&lcs);
        let raw = classifier.raw_outputs(&features);
        let scores = classifier.classify_features(&features, &[], 0);
        let d = raw.embeddings.len() / curves.len().max(1);
        let k = raw.logits.len() / curves.len().max(1);
        let ds = raw.sequence.len() / curves.len().max(1);
        let dc = raw.context.len() / curves.len().max(1);
        for (i, c) in curves.iter().enumerate() {
            let g = &features[i].global;
            if !header {
                let mut h = vec![
                    "split".to_string(),
                    "label".into(),
                    "survey".into(),
                    "n_tokens".into(),
                    "uncertainty".into(),
                    "anomaly_score".into(),
                ];
                h.extend((0..d).map(|j| format!("e{j}")));
                h.extend((0..k).map(|j| format!("l{j}")));
                h.extend((0..g.len()).map(|j| format!("g{j}")));
                h.extend((0..features[i].grid.len()).map(|j| format!("q{j}")));
                h.extend((0..ds).map(|j| format!("s{j}")));
                h.extend((0..dc).map(|j| format!("c{j}")));
                writeln!(file, "{}", h.join(","))?;
                header = true;
            }
            let logits = &raw.logits[i * k..(i + 1) * k];
            softmax_into(logits, classifier.meta.temperature, &mut p);
            let mut row = vec![
                split.clone(),
                c.label.clone(),
                c.curve.survey.as_str().to_string(),
                features[i].n_tokens.to_string(),
                normalized_entropy(&p).to_string(),
                scores[i].anomaly_score.to_string(),
            ];
            row.extend(
                raw.embeddings[i * d..(i + 1) * d]
                    .iter()
                    .map(|v| v.to_string()),
            );
            row.extend(logits.iter().map(|v| v.to_string()));
            row.extend(g.iter().map(|v| v.to_string()));
            row.extend(features[i].grid.iter().map(|v| v.to_string()));
            row.extend(
                raw.sequence[i * ds..(i + 1) * ds]
                    .iter()
                    .map(|v| v.to_string()),
            );
            row.extend(
                raw.context[i * dc..(i + 1) * dc]
                    .iter()
                    .map(|v| v.to_string()),
            );
            writeln!(file, "{}", row.join(","))?;
        }
    }
    Ok(())
}
