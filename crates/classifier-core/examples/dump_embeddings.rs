//! Writes a model's embeddings, logits and raw global features for a simulated training sample and
//! a test sample with the anomaly classes, as CSV, to study anomaly scores offline.
//!
//! `cargo run -p classifier-core --release --example dump_embeddings -- MODEL_DIR OUT.csv [per_class]`

use std::io::Write;
use std::path::PathBuf;

use alert_model::Survey;
use classifier_core::data::{self, NamedCurve};
use classifier_core::{Classifier, LightCurve, default_device};
use simulator::SimulationConfig;

fn sim(seed: u64, per_class: usize, anomalies: bool) -> SimulationConfig {
    let mut c = SimulationConfig::with_seed(seed);
    c.surveys = vec![Survey::Ztf, Survey::Lsst];
    c.objects_per_class = per_class;
    c.min_detections = 2;
    if anomalies {
        c = c.with_anomalies();
    }
    c
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let model = PathBuf::from(args.get(1).map_or("models/default", String::as_str));
    let out = PathBuf::from(args.get(2).map_or("embeddings.csv", String::as_str));
    let per_class: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(60);
    let classifier = Classifier::load(&model, &default_device())?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out)?);
    let mut header = false;
    for (split, seed, anomalies) in [("train", 1u64, false), ("test", 2024u64, true)] {
        let curves: Vec<NamedCurve> = data::simulated_named(&sim(seed, per_class, anomalies));
        let lcs: Vec<LightCurve> = curves.iter().map(|c| c.curve.clone()).collect();
        let features = classifier.featurize(&lcs);
        let raw = classifier.raw_outputs(&features);
        let d = raw.embeddings.len() / curves.len().max(1);
        let k = raw.logits.len() / curves.len().max(1);
        for (i, c) in curves.iter().enumerate() {
            let g = &features[i].global;
            if !header {
                let mut h = vec!["split".to_string(), "label".into(), "survey".into()];
                h.extend((0..d).map(|j| format!("e{j}")));
                h.extend((0..k).map(|j| format!("l{j}")));
                h.extend((0..g.len()).map(|j| format!("g{j}")));
                writeln!(file, "{}", h.join(","))?;
                header = true;
            }
            let mut row = vec![
                split.to_string(),
                c.label.clone(),
                c.curve.survey.as_str().to_string(),
            ];
            row.extend(
                raw.embeddings[i * d..(i + 1) * d]
                    .iter()
                    .map(|v| v.to_string()),
            );
            row.extend(raw.logits[i * k..(i + 1) * k].iter().map(|v| v.to_string()));
            row.extend(g.iter().map(|v| v.to_string()));
            writeln!(file, "{}", row.join(","))?;
        }
    }
    Ok(())
}
