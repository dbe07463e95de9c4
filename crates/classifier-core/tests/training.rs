//! Training on the CPU backend: the loss falls, the record saves and reloads to identical outputs,
//! the run folder and reports are written.

mod common;

use std::path::Path;

use burn::optim::{AdamWConfig, GradientsParams};
use burn::prelude::Device;
use classifier_core::batch::make_batch;
use classifier_core::calibration::softmax_into;
use classifier_core::data::LabelledCurve;
use classifier_core::features::{Features, Standardizer};
use classifier_core::inference::to_vec;
use classifier_core::members::attach_members;
use classifier_core::outlier_energy::attach;
use classifier_core::train::{
    TrainConfig, fit_ensemble, refit_temperature, train, validation_views, weighted_cross_entropy,
};
use classifier_core::{ClassPriors, Classifier, LightCurve, ModelError, N_CLASSES, default_device};

#[test]
fn loss_falls_on_a_fixed_batch() {
    let data = common::small_dataset(4, 11);
    let config = common::tiny_config(&common::temp_dir("loss-runs"));
    let feats: Vec<Features> = data
        .iter()
        .map(|c| classifier_core::features::extract(&c.curve, &config.features))
        .collect();
    let labels: Vec<usize> = data.iter().map(|c| c.label).collect();
    let refs: Vec<&Features> = feats.iter().collect();
    let standardizer = Standardizer::fit(
        feats.iter().map(|f| f.global.as_slice()),
        config.features.d_global(),
    );
    let device = default_device().autodiff();
    device.seed(3);
    let mut model_config = config.model.clone();
    model_config.grid_len = config.features.grid_len();
    model_config.d_global = config.features.d_global();
    let mut net = model_config.init(&device);
    let mut optim = AdamWConfig::new().init();
    let weights = vec![1.0f32; N_CLASSES];
    let input = make_batch(&refs, &standardizer, model_config.grid_len, &device);
    let mut losses = Vec::new();
    for _ in 0..25 {
        let out = net.forward(&input, false);
        let loss = weighted_cross_entropy(out.logits, &labels, &weights, &device);
        losses.push(to_vec(loss.clone().detach())[0]);
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(3e-3, net, grads);
    }
    let first = losses[0];
    let last = *losses.last().expect("losses");
    assert!(first.is_finite() && last.is_finite());
    assert!(last < 0.7 * first, "loss did not fall: {losses:?}");
}

#[test]
fn trains_saves_and_reloads_to_identical_outputs() {
    let data = common::small_dataset(6, 5);
    let out = common::temp_dir("train-out");
    let runs = common::temp_dir("train-runs");
    let config = common::tiny_config(&runs);
    let device = default_device();
    let report = train(&config, &data, &out, &device).expect("training runs");
    assert_eq!(report.steps, 8);
    assert!(report.history.iter().all(|e| e.train_loss.is_finite()));
    for file in [
        "model.bpk",
        "classifier.json",
        "train_config.json",
        "history.json",
        "card_inputs.json",
        "validation_metrics.json",
        "validation_confusion.png",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    // The local run folder holds params, metrics and the artifacts.
    let run_dir = std::fs::read_dir(&runs)
        .expect("runs")
        .next()
        .expect("one run")
        .expect("entry")
        .path();
    assert!(run_dir.join("params.json").is_file());
    // The dataset's metadata: objects per class.
    let params: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run_dir.join("params.json")).expect("params"),
    )
    .expect("params JSON");
    for class in ["SNIa", "Periodic-Other"] {
        let index = classifier_core::taxonomy::class_index(class).expect("class");
        let count = data.iter().filter(|c| c.label == index).count();
        assert!(count > 0);
        assert_eq!(params[format!("n_objects.{class}")], count.to_string());
    }
    assert!(run_dir.join("metrics.jsonl").is_file());
    assert!(run_dir.join("artifacts/model/model.bpk").is_file());
    assert_eq!(
        std::fs::read_to_string(run_dir.join("status"))
            .expect("status")
            .trim(),
        "FINISHED"
    );

    // Reload: identical deterministic outputs.
    let reloaded = Classifier::load(&out, &device).expect("reload");
    let curves: Vec<_> = data.iter().take(20).map(|c| c.curve.clone()).collect();
    let a = report.classifier.classify(&curves, 0);
    let b = reloaded.classify(&curves, 0);
    assert_eq!(a.len(), 20);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.class, y.class);
        for (p, q) in x.probabilities.iter().zip(&y.probabilities) {
            assert!((p - q).abs() < 1e-6, "{p} vs {q}");
        }
        assert!(
            (x.anomaly_score - y.anomaly_score).abs() < 1e-6,
            "{} vs {} (uncertainty {} vs {})",
            x.anomaly_score,
            y.anomaly_score,
            x.uncertainty,
            y.uncertainty
        );
        let sum: f32 = x.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4);
        assert!((0.0..=1.0).contains(&x.uncertainty));
        assert!((0.0..=1.0).contains(&x.anomaly_score));
    }
    // MC dropout gives valid probabilities too.
    let mc = reloaded.classify(&curves, 4);
    for p in &mc {
        let sum: f32 = p.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4);
        let top: f32 = p.top_level.iter().sum();
        assert!((top - 1.0).abs() < 1e-4);
    }
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&runs);
}

#[test]
fn gru_baseline_trains_too() {
    let data = common::small_dataset(3, 9);
    let out = common::temp_dir("gru-out");
    let runs = common::temp_dir("gru-runs");
    let mut config = common::tiny_config(&runs);
    config.model.architecture = classifier_core::model::Architecture::Gru;
    // Into the second epoch, which trains on fluxes redrawn within their errors.
    config.noise_resampling = 0.5;
    // And with outlier exposure to distorted supernovae.
    config.outlier_exposure = 0.5;
    config.max_steps = Some(6);
    let report = train(&config, &data, &out, &default_device()).expect("GRU training runs");
    assert_eq!(report.steps, 6);
    assert_eq!(report.history.len(), 2, "{:?}", report.history);
    assert!(report.history.iter().all(|e| e.train_loss.is_finite()));
    let reloaded = Classifier::load(&out, &default_device()).expect("reload");
    let curves: Vec<_> = data.iter().take(5).map(|c| c.curve.clone()).collect();
    let a = report.classifier.classify(&curves, 0);
    let b = reloaded.classify(&curves, 0);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.probabilities, y.probabilities);
    }
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&runs);
}

/// Two tiny models on the same data, each with its configuration, saved into its directory.
fn train_both(
    (first, first_dir): (&TrainConfig, &Path),
    (second, second_dir): (&TrainConfig, &Path),
    data: &[LabelledCurve],
    device: &Device,
) -> (Classifier, Classifier) {
    let trained = |config, dir| {
        train(config, data, dir, device)
            .expect("a tiny model trains")
            .classifier
    };
    (trained(first, first_dir), trained(second, second_dir))
}

/// The curves of the validation views training cut from `data`.
fn validation_curves(config: &TrainConfig, data: &[LabelledCurve]) -> Vec<LightCurve> {
    validation_views(config, data)
        .into_iter()
        .map(|v| v.curve)
        .collect()
}

#[test]
fn an_outlier_exposed_network_joins_the_anomaly_score() {
    let data = common::small_dataset(4, 21);
    let runs = common::temp_dir("oe-runs");
    let (own_dir, outlier_dir) = (common::temp_dir("oe-model"), common::temp_dir("oe-outlier"));
    let device = default_device();
    let config = common::tiny_config(&runs);
    let mut exposed = config.clone();
    exposed.outlier_exposure = 0.5;
    let (mut classifier, outlier) = train_both(
        (&config, &own_dir),
        (&exposed, &outlier_dir),
        &data,
        &device,
    );

    let views = validation_curves(&config, &data);
    let features = classifier.featurize(&views);
    let before = classifier.classify_features(&features, &[], 0);
    attach(&mut classifier, outlier, &features).expect("both networks read the same features");
    classifier.save(&own_dir).expect("save");
    let reloaded = Classifier::load(&own_dir, &device).expect("reload with the outlier network");
    assert!(reloaded.outlier_net.is_some() && reloaded.meta.outlier.is_some());

    let after = reloaded.classify_features(&features, &[], 0);
    for (b, a) in before.iter().zip(&after) {
        // The classification is the classifier's alone; only the anomaly score changes.
        assert_eq!(b.probabilities, a.probabilities);
        assert!((0.0..=1.0).contains(&a.anomaly_score));
    }
    let scores = |p: &[classifier_core::Prediction]| -> Vec<f32> {
        p.iter().map(|x| x.anomaly_score).collect()
    };
    assert_ne!(scores(&before), scores(&after));
    // The reloaded model scores alike (its calibration went through JSON, to within float noise).
    let in_memory = classifier.classify_features(&features, &[], 0);
    for (m, r) in scores(&in_memory).iter().zip(scores(&after)) {
        assert!((m - r).abs() < 1e-6, "{m} in memory, {r} reloaded");
    }

    // As an ensemble member, the second network's probabilities join the classifier's.
    let labelled = validation_views(&config, &data);
    let mut ensemble = reloaded.clone();
    let fit = fit_ensemble(&mut ensemble, &labelled, &[0.5]).expect("the model has two networks");
    assert_eq!(fit.tried.len(), 1);
    assert!(fit.chosen.calibration_nll.is_finite() && fit.outlier_temperature > 0.0);
    // Refitting the temperature later keeps the share and refits on the served average.
    let mut refitted = ensemble.clone();
    let t = refit_temperature(&mut refitted, &config, &data);
    let kept = refitted.meta.outlier.as_ref().expect("kept");
    assert_eq!(kept.class_share, 0.5);
    assert!(t > 0.0 && (kept.temperature - fit.outlier_temperature).abs() < 1e-6);
    ensemble.save(&own_dir).expect("save the ensemble");
    let ensemble = Classifier::load(&own_dir, &device).expect("reload the ensemble");
    // Balanced priors: the survey priors would re-weight the supernova types afterwards.
    let served = ensemble.classify_features_with_priors(&features, &[], 0, ClassPriors::Balanced);
    let own = ensemble.raw_outputs(&features).logits;
    let second = Classifier::load(&outlier_dir, &device)
        .expect("the outlier network alone")
        .raw_outputs(&features)
        .logits;
    let outlier_meta = ensemble.meta.outlier.as_ref().expect("kept");
    assert_eq!(outlier_meta.class_share, 0.5);
    for (i, prediction) in served.iter().enumerate() {
        let (mut p, mut q) = ([0f32; 15], [0f32; 15]);
        softmax_into(
            &own[i * 15..(i + 1) * 15],
            ensemble.meta.temperature,
            &mut p,
        );
        softmax_into(
            &second[i * 15..(i + 1) * 15],
            outlier_meta.temperature,
            &mut q,
        );
        for k in 0..15 {
            let expected = 0.5 * p[k] + 0.5 * q[k];
            let served = prediction.probabilities[k];
            assert!(
                (served - expected).abs() < 1e-5,
                "class {k}: {served} vs {expected}"
            );
        }
        // Mixing the class probabilities leaves the anomaly score as it was.
        assert!((prediction.anomaly_score - after[i].anomaly_score).abs() < 1e-5);
    }
    for dir in [own_dir, outlier_dir, runs] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn a_seed_ensemble_averages_its_members() {
    let data = common::small_dataset(4, 31);
    let runs = common::temp_dir("members-runs");
    let (own_dir, member_dir) = (
        common::temp_dir("members-model"),
        common::temp_dir("members-seed8"),
    );
    let device = default_device();
    let config = common::tiny_config(&runs);
    let mut reseeded = config.clone();
    reseeded.seed = 8;
    let (mut classifier, member) = train_both(
        (&config, &own_dir),
        (&reseeded, &member_dir),
        &data,
        &device,
    );

    let views = validation_curves(&config, &data);
    let features = classifier.featurize(&views);
    let served =
        |c: &Classifier| c.classify_features_with_priors(&features, &[], 0, ClassPriors::Balanced);
    let (own, other) = (served(&classifier), served(&member));

    // A member reading other features, or named outside the model directory, is refused.
    let mut other_features = member.clone();
    other_features.meta.features.max_tokens += 1;
    let refused = attach_members(
        &mut classifier.clone(),
        vec![("x".into(), other_features)],
        &features,
    );
    assert!(
        matches!(refused, Err(ModelError::Incompatible(_))),
        "{refused:?}"
    );
    let refused = attach_members(
        &mut classifier.clone(),
        vec![("../x".into(), member.clone())],
        &features,
    );
    assert!(
        matches!(refused, Err(ModelError::Incompatible(_))),
        "{refused:?}"
    );

    attach_members(&mut classifier, vec![("seed8".into(), member)], &features)
        .expect("same features");
    classifier.save(&own_dir).expect("save the ensemble");
    assert!(own_dir.join("members/seed8/model.bpk").is_file());
    let ensemble = Classifier::load(&own_dir, &device).expect("reload the ensemble");
    assert_eq!(ensemble.members.len(), 1);
    let averaged = served(&ensemble);
    let mut scores = Vec::new();
    for ((a, b), e) in own.iter().zip(&other).zip(&averaged) {
        for k in 0..N_CLASSES {
            let expected = 0.5 * (a.probabilities[k] + b.probabilities[k]);
            let got = e.probabilities[k];
            assert!(
                (got - expected).abs() < 1e-5,
                "class {k}: {got} vs {expected}"
            );
        }
        assert!((0.0..=1.0).contains(&e.anomaly_score));
        scores.push(e.anomaly_score);
    }
    // Calibrated on these same views, the averaged score spreads over [0, 1] again.
    let mean = scores.iter().sum::<f32>() / scores.len() as f32;
    assert!((0.3..0.7).contains(&mean), "mean anomaly score {mean}");

    // A model directory naming a member outside itself does not load.
    let meta_path = own_dir.join("classifier.json");
    let text = std::fs::read_to_string(&meta_path).expect("meta");
    std::fs::write(&meta_path, text.replace("\"seed8\"", "\"../seed8\"")).expect("edit meta");
    let refused = Classifier::load(&own_dir, &device);
    assert!(
        matches!(refused, Err(ModelError::Incompatible(_))),
        "{:?}",
        refused.err()
    );
    for dir in [own_dir, member_dir, runs] {
        let _ = std::fs::remove_dir_all(dir);
    }
}
