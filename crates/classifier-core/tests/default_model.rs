//! The shipped default model (`models/default/`) loads and classifies simulated light curves.

use std::path::PathBuf;

use alert_model::Survey;
use classifier_core::{CLASS_NAMES, Classifier, LightCurve, default_device};

fn model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/default")
}

#[test]
fn default_model_classifies_simulated_curves() {
    let dir = model_dir();
    if !dir.join("classifier.json").is_file() {
        eprintln!("skipping: no shipped model at {}", dir.display());
        return;
    }
    let classifier = Classifier::load(&dir, &default_device()).expect("default model loads");
    let mut config = simulator::SimulationConfig::with_seed(99);
    config.surveys = vec![Survey::Ztf, Survey::Lsst];
    config.objects_per_class = 4;
    config.min_detections = 2;
    let objects = simulator::simulate(&config);
    let curves: Vec<LightCurve> = objects.iter().map(LightCurve::from_simulated).collect();
    let predictions = classifier.classify(&curves, 5);
    assert_eq!(predictions.len(), curves.len());
    let mut correct_top = 0;
    for (p, o) in predictions.iter().zip(&objects) {
        assert_eq!(p.probabilities.len(), CLASS_NAMES.len());
        assert!((p.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        assert!((0.0..=1.0).contains(&p.anomaly_score));
        assert!((0.0..=1.0).contains(&p.uncertainty));
        assert_eq!(p.object_id, o.object_id);
        if p.top_level_class.name() == o.class.top_level().name() {
            correct_top += 1;
        }
    }
    // Far better than chance (1/3) at the top level even on this tiny sample.
    assert!(
        correct_top as f64 > 0.7 * predictions.len() as f64,
        "{correct_top}/{}",
        predictions.len()
    );
}

#[test]
fn batched_and_parallel_predictions_match_one_curve_at_a_time() {
    let dir = model_dir();
    if !dir.join("classifier.json").is_file() {
        eprintln!("skipping: no shipped model at {}", dir.display());
        return;
    }
    let classifier = Classifier::load(&dir, &default_device()).expect("default model loads");
    let mut config = simulator::SimulationConfig::with_seed(7);
    config.surveys = vec![Survey::Ztf, Survey::Lsst];
    config.objects_per_class = 3;
    config.min_detections = 2;
    let curves: Vec<LightCurve> = simulator::simulate(&config)
        .iter()
        .map(LightCurve::from_simulated)
        .collect();
    // 90 curves of mixed lengths: sorted into batches and, on a multi-core CPU, spread over
    // threads; the predictions must come back in input order and equal single-curve passes.
    let together = classifier.classify(&curves, 0);
    assert_eq!(together.len(), curves.len());
    // Forward passes of at most 7 curves (13 batches over the workers) give the same.
    let mut small_batches = classifier.clone();
    small_batches.max_batch = 7;
    for (small, batched) in small_batches.classify(&curves, 0).iter().zip(&together) {
        assert_eq!(small.object_id, batched.object_id);
        for (a, b) in small.probabilities.iter().zip(&batched.probabilities) {
            assert!((a - b).abs() < 1e-4, "{}: {a} vs {b}", small.object_id);
        }
    }
    for (curve, batched) in curves.iter().zip(&together) {
        let alone = classifier.classify(std::slice::from_ref(curve), 0);
        assert_eq!(batched.object_id, curve.object_id);
        assert_eq!(alone[0].class, batched.class, "{}", curve.object_id);
        for (a, b) in alone[0].probabilities.iter().zip(&batched.probabilities) {
            assert!((a - b).abs() < 1e-4, "{}: {a} vs {b}", curve.object_id);
        }
        assert!((alone[0].anomaly_score - batched.anomaly_score).abs() < 1e-4);
    }
}
