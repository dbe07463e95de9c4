//! Training: class-balanced cross-entropy on the 15 classes plus a top-level loss, AdamW with
//! warm-up and cosine decay, per-epoch validation, temperature scaling and the anomaly model fitted
//! after training, and everything logged to MLflow or a local run folder.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, TensorData};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::anomaly::{AnomalyModel, ClassGaussians, GaussianFitInputs};
use crate::batch::make_batch;
use crate::calibration::{
    FixedMember, fit_temperature, fit_temperature_averaged, fit_temperature_in_ensemble,
    nll_of_mixture, softmax_into,
};
use crate::data::{AugmentConfig, LabelledCurve, NamedCurve, augment, featurize, resample_noise};
use crate::evaluate::{self, EvaluationReport};
use crate::features::{FeatureConfig, Features, Standardizer};
use crate::inference::{Classifier, ModelMeta, argmax, normalized_entropy, to_vec};
use crate::lightcurve::LightCurve;
use crate::metrics::Confusion;
use crate::model::{LightCurveNet, ModelConfig};
use crate::outliers::outlier_views;
use crate::priors::ClassPriors;
use crate::taxonomy::{CLASS_NAMES, N_CLASSES, top_level_of};
use crate::tracking::{self, Tracker, TrackingError};

/// Training views the anomaly model is fitted and calibrated on (evenly spread over all of them).
const ANOMALY_FIT_VIEWS: usize = 40_000;
/// Covariance shrinkage of the anomaly model's class Gaussians (0.03–0.1 did alike offline).
const ANOMALY_SHRINKAGE: f64 = 0.1;
/// Cross-fitting folds (by object) for the anomaly model's calibration quantiles.
const ANOMALY_FOLDS: usize = 5;

/// Where the training objects came from: logged with the run, not used by training.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// `simulated`, or the light-curve CSV's path.
    pub source: String,
    /// [`simulator::POPULATION_VERSION`] of simulated data.
    pub simulator_version: Option<String>,
    /// Seed of the simulation (the training seed is [`TrainConfig::seed`]).
    pub simulation_seed: Option<u64>,
}

impl DatasetInfo {
    pub fn simulated(config: &simulator::SimulationConfig) -> Self {
        DatasetInfo {
            source: "simulated".into(),
            simulator_version: Some(simulator::POPULATION_VERSION.into()),
            simulation_seed: Some(config.seed),
        }
    }
}

/// Everything a training run needs besides the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub model: ModelConfig,
    pub features: FeatureConfig,
    pub augment: AugmentConfig,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f32,
    /// Weight of the top-level (Transient/Stochastic/Periodic) cross-entropy.
    pub top_level_weight: f32,
    /// Fraction of objects held out for validation, calibration and model selection.
    pub validation_fraction: f64,
    pub seed: u64,
    /// Stop after this many optimiser steps (tests).
    pub max_steps: Option<usize>,
    /// Stop after the epoch that passes this many seconds of training (a time-boxed run keeps
    /// the best epoch so far).
    #[serde(default)]
    pub max_seconds: Option<f64>,
    /// Measurement errors in the loss: from the second epoch on, each epoch trains on a fresh
    /// draw of every flux, `flux + noise_resampling·σ·z` ([`crate::data::resample_noise`]).
    /// 0 turns it off (as in models trained before the option existed).
    #[serde(default)]
    pub noise_resampling: f64,
    /// Weight λ of outlier exposure: each step adds λ × the cross-entropy to the uniform
    /// distribution (both heads) on a quarter-batch of distorted supernovae
    /// ([`crate::outliers`]), so the network learns to be unsure off the taxonomy. 0 turns it off.
    #[serde(default)]
    pub outlier_exposure: f64,
    /// Default MC-dropout samples for inference.
    pub mc_samples: usize,
    pub run_name: String,
    /// Root of local run folders when MLflow is not configured.
    pub local_runs_dir: PathBuf,
    #[serde(default)]
    pub dataset: DatasetInfo,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            model: ModelConfig::default(),
            features: FeatureConfig::default(),
            augment: AugmentConfig::default(),
            epochs: 30,
            batch_size: 128,
            learning_rate: 3e-3,
            weight_decay: 1e-4,
            top_level_weight: 0.5,
            validation_fraction: 0.15,
            seed: 7,
            max_steps: None,
            max_seconds: None,
            noise_resampling: 0.0,
            outlier_exposure: 0.0,
            mc_samples: 10,
            run_name: "classifier".into(),
            local_runs_dir: PathBuf::from("runs"),
            dataset: DatasetInfo::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("no training data")]
    Empty,
    #[error(transparent)]
    Tracking(#[from] TrackingError),
    #[error(transparent)]
    Model(#[from] crate::inference::ModelError),
    #[error("cannot write {path}: {message}")]
    Output { path: PathBuf, message: String },
}

/// Metrics of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub val_loss: f64,
    pub val_accuracy: f64,
    pub val_macro_f1: f64,
    pub seconds: f64,
}

/// What [`train`] returns.
#[derive(Debug, Clone)]
pub struct TrainReport {
    pub classifier: Classifier,
    pub history: Vec<EpochMetrics>,
    /// Evaluation of the calibrated model on the validation views.
    pub validation: EvaluationReport,
    pub temperature: f32,
    pub best_epoch: usize,
    pub n_train_views: usize,
    pub n_val_views: usize,
    pub featurize_seconds: f64,
    pub train_seconds: f64,
    pub tracking_location: String,
    pub steps: usize,
}

struct Prepared {
    features: Vec<Features>,
    labels: Vec<usize>,
}

fn prepare(views: &[LabelledCurve], config: &FeatureConfig) -> Prepared {
    let refs: Vec<&LightCurve> = views.iter().map(|v| &v.curve).collect();
    Prepared {
        features: featurize(&refs, config),
        labels: views.iter().map(|v| v.label).collect(),
    }
}

/// Stratified split of objects by a seeded shuffle within each class.
fn split(
    dataset: &[LabelledCurve],
    fraction: f64,
    seed: u64,
) -> (Vec<LabelledCurve>, Vec<LabelledCurve>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut train = Vec::new();
    let mut val = Vec::new();
    for class in 0..N_CLASSES {
        let mut members: Vec<&LabelledCurve> =
            dataset.iter().filter(|c| c.label == class).collect();
        members.shuffle(&mut rng);
        let n_val = ((members.len() as f64) * fraction).round() as usize;
        let n_val = if members.len() >= 2 {
            n_val.clamp(1, members.len() - 1)
        } else {
            0
        };
        for (i, m) in members.into_iter().enumerate() {
            if i < n_val {
                val.push(m.clone());
            } else {
                train.push(m.clone());
            }
        }
    }
    (train, val)
}

/// Class-balanced cross-entropy: Σ w_y·(−log p_y) / Σ w_y.
pub fn weighted_cross_entropy(
    logits: Tensor<2>,
    labels: &[usize],
    weights: &[f32],
    device: &Device,
) -> Tensor<1> {
    let b = labels.len();
    let logp = log_softmax(logits, 1);
    let idx = Tensor::<2, Int>::from_data(
        TensorData::new(labels.iter().map(|&l| l as i64).collect::<Vec<_>>(), [b, 1]),
        device,
    );
    let picked = logp.gather(1, idx);
    let w: Vec<f32> = labels
        .iter()
        .map(|&l| weights.get(l).copied().unwrap_or(1.0))
        .collect();
    let wsum: f32 = w.iter().sum::<f32>().max(1e-6);
    let w = Tensor::<2>::from_data(TensorData::new(w, [b, 1]), device);
    (picked * w).sum().neg().div_scalar(wsum)
}

/// Cross-entropy to the uniform distribution, −mean over rows and classes of log softmax: the
/// outlier-exposure loss (Hendrycks et al. 2019, eq. 1 with the uniform target).
fn uniform_cross_entropy(logits: Tensor<2>) -> Tensor<1> {
    log_softmax(logits, 1).mean().neg()
}

/// How many of `labels` fall in each of `k` classes (labels ≥ k are not counted).
fn label_counts(labels: impl IntoIterator<Item = usize>, k: usize) -> Vec<usize> {
    let mut counts = vec![0usize; k];
    for label in labels {
        if let Some(n) = counts.get_mut(label) {
            *n += 1;
        }
    }
    counts
}

/// Objects per taxonomy class, in [`CLASS_NAMES`] order.
fn class_counts(dataset: &[LabelledCurve]) -> Vec<usize> {
    label_counts(dataset.iter().map(|c| c.label), N_CLASSES)
}

/// Inverse-frequency weights n / (present classes · count), 0 for absent classes.
fn class_weights(labels: &[usize], k: usize) -> Vec<f32> {
    let counts = label_counts(labels.iter().copied(), k);
    let n = labels.len() as f32;
    let present = counts.iter().filter(|c| **c > 0).count().max(1) as f32;
    counts
        .iter()
        .map(|&c| {
            if c == 0 {
                0.0
            } else {
                n / (present * c as f32)
            }
        })
        .collect()
}

/// Deterministic logits and embeddings of a prepared set (no autodiff).
fn outputs(
    net: &LightCurveNet,
    data: &Prepared,
    meta: (&Standardizer, usize),
    device: &Device,
    batch: usize,
) -> (Vec<f32>, Vec<f32>) {
    let refs: Vec<&Features> = data.features.iter().collect();
    let mut logits = Vec::new();
    let mut emb = Vec::new();
    for chunk in refs.chunks(batch.max(1)) {
        let input = make_batch(chunk, meta.0, meta.1, device);
        let out = net.forward(&input, false);
        logits.extend(to_vec(out.logits));
        emb.extend(to_vec(out.embedding));
    }
    (logits, emb)
}

fn mean_nll_and_accuracy(logits: &[f32], labels: &[usize]) -> (f64, f64, Confusion) {
    let loss = crate::calibration::nll(logits, labels, N_CLASSES, 1.0);
    let mut conf = Confusion::new(N_CLASSES);
    for (row, &y) in logits.chunks(N_CLASSES).zip(labels) {
        conf.add(y, argmax(row));
    }
    (loss, conf.accuracy(), conf)
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), TrainError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| TrainError::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    std::fs::write(path, text).map_err(|e| TrainError::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Trains a classifier on `dataset` (full light curves; truncated views are drawn per
/// `config.augment`) on `device`, writes the model and its reports into `out_dir` and logs the
/// run to MLflow (`MLFLOW_TRACKING_URI`) or a local run folder.
pub fn train(
    config: &TrainConfig,
    dataset: &[LabelledCurve],
    out_dir: &Path,
    device: &Device,
) -> Result<TrainReport, TrainError> {
    if dataset.is_empty() {
        return Err(TrainError::Empty);
    }
    std::fs::create_dir_all(out_dir).map_err(|e| TrainError::Output {
        path: out_dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut tracker = tracking::from_env(&config.run_name, &config.local_runs_dir)?;
    tracing::info!(run = %tracker.location(), "tracking training run");
    let result = run(config, dataset, out_dir, device, tracker.as_mut());
    let finished = tracker.finish(result.is_ok());
    let mut report = result?;
    finished?;
    report.tracking_location = tracker.location();
    Ok(report)
}

fn run(
    config: &TrainConfig,
    dataset: &[LabelledCurve],
    out_dir: &Path,
    device: &Device,
    tracker: &mut dyn Tracker,
) -> Result<TrainReport, TrainError> {
    let config_json = serde_json::to_value(config).unwrap_or_default();
    let mut params: Vec<(String, String)> = Vec::new();
    flatten("", &config_json, &mut params);
    params.push(("n_objects".into(), dataset.len().to_string()));
    for (class, count) in CLASS_NAMES.iter().zip(class_counts(dataset)) {
        params.push((format!("n_objects.{class}"), count.to_string()));
    }
    tracker.log_params(&params)?;

    // Data: split objects, then draw views, then preprocess.
    let t0 = Instant::now();
    let (train_objects, val_objects) = split(dataset, config.validation_fraction, config.seed);
    let train_views = augment(&train_objects, &config.augment, config.seed ^ 0x5eed);
    let val_views = augment(&val_objects, &config.augment, config.seed ^ 0xba11);
    let train_data = prepare(&train_views, &config.features);
    let val_data = prepare(&val_views, &config.features);
    let outliers = if config.outlier_exposure > 0.0 {
        let views = outlier_views(&train_views, config.seed ^ 0x0e);
        let refs: Vec<&LightCurve> = views.iter().collect();
        let mut features = featurize(&refs, &config.features);
        // Views come grouped by object: shuffle so each step sees many objects.
        features.shuffle(&mut ChaCha8Rng::seed_from_u64(config.seed ^ 0x0f));
        features
    } else {
        Vec::new()
    };
    let featurize_seconds = t0.elapsed().as_secs_f64();
    tracing::info!(
        train = train_views.len(),
        val = val_views.len(),
        outliers = outliers.len(),
        seconds = featurize_seconds,
        "preprocessed views"
    );

    let standardizer = Standardizer::fit(
        train_data.features.iter().map(|f| f.global.as_slice()),
        config.features.d_global(),
    );
    let weights = class_weights(&train_data.labels, N_CLASSES);
    let top_labels: Vec<usize> = train_data
        .labels
        .iter()
        .map(|&l| top_level_of(l).index())
        .collect();
    let top_weights = class_weights(&top_labels, crate::taxonomy::N_TOP);
    let mut model_config = config.model.clone();
    model_config.grid_len = config.features.grid_len();
    model_config.d_global = config.features.d_global();

    let ad = device.clone().autodiff();
    ad.seed(config.seed);
    let mut net = model_config.init(&ad);
    let mut optim = AdamWConfig::new()
        .with_weight_decay(config.weight_decay)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
        .init();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let n = train_data.labels.len();
    let batch = config.batch_size.max(1);
    let steps_per_epoch = n.div_ceil(batch);
    let total_steps = config
        .max_steps
        .unwrap_or(usize::MAX)
        .min(steps_per_epoch * config.epochs.max(1))
        .max(1);
    let warmup = (total_steps / 20).max(1);
    let mut step = 0usize;
    let mut history = Vec::new();
    let mut best: Option<(f64, usize, LightCurveNet)> = None;
    let train_start = Instant::now();
    let meta_in = (&standardizer, model_config.grid_len);

    'epochs: for epoch in 1..=config.epochs.max(1) {
        let t_epoch = Instant::now();
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut seen, mut correct) = (0.0f64, 0usize, 0usize);
        let resampled;
        let epoch_data = if config.noise_resampling > 0.0 && epoch > 1 {
            let views = resample_noise(
                &train_views,
                config.noise_resampling,
                config.seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9),
            );
            resampled = prepare(&views, &config.features);
            &resampled
        } else {
            &train_data
        };
        for idx in order.chunks(batch) {
            if step >= total_steps {
                break;
            }
            let lr = if step < warmup {
                config.learning_rate * (step + 1) as f64 / warmup as f64
            } else {
                let p = (step - warmup) as f64 / (total_steps - warmup).max(1) as f64;
                config.learning_rate
                    * (0.02 + 0.98 * 0.5 * (1.0 + (std::f64::consts::PI * p).cos()))
            };
            let feats: Vec<&Features> = idx.iter().map(|&i| &epoch_data.features[i]).collect();
            let labels: Vec<usize> = idx.iter().map(|&i| train_data.labels[i]).collect();
            let tops: Vec<usize> = idx.iter().map(|&i| top_labels[i]).collect();
            let input = make_batch(&feats, meta_in.0, meta_in.1, &ad);
            let out = net.forward(&input, true);
            let logits_vals = to_vec(out.logits.clone().detach());
            let loss = weighted_cross_entropy(out.logits, &labels, &weights, &ad)
                + weighted_cross_entropy(out.top_logits, &tops, &top_weights, &ad)
                    .mul_scalar(config.top_level_weight);
            let loss = if outliers.is_empty() {
                loss
            } else {
                let picked: Vec<&Features> = (0..(idx.len() / 4).max(1))
                    .map(|j| &outliers[(step * batch / 4 + j) % outliers.len()])
                    .collect();
                let out = net.forward(&make_batch(&picked, meta_in.0, meta_in.1, &ad), true);
                let to_uniform = uniform_cross_entropy(out.logits)
                    + uniform_cross_entropy(out.top_logits).mul_scalar(config.top_level_weight);
                loss + to_uniform.mul_scalar(config.outlier_exposure)
            };
            let loss_value = to_vec(loss.clone().detach())
                .first()
                .copied()
                .unwrap_or(f32::NAN);
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(lr, net, grads);
            loss_sum += f64::from(loss_value) * labels.len() as f64;
            seen += labels.len();
            correct += logits_vals
                .chunks(N_CLASSES)
                .zip(&labels)
                .filter(|(row, y)| argmax(row) == **y)
                .count();
            step += 1;
        }
        let valid_net = net.valid();
        let (val_logits, _) = outputs(&valid_net, &val_data, meta_in, device, 512);
        let (val_loss, val_acc, val_conf) = mean_nll_and_accuracy(&val_logits, &val_data.labels);
        let m = EpochMetrics {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            val_loss,
            val_accuracy: val_acc,
            val_macro_f1: val_conf.macro_f1(),
            seconds: t_epoch.elapsed().as_secs_f64(),
        };
        tracing::info!(
            epoch,
            step,
            train_loss = m.train_loss,
            train_acc = m.train_accuracy,
            val_loss,
            val_acc,
            val_f1 = m.val_macro_f1,
            secs = m.seconds,
            "epoch"
        );
        tracker.log_metrics(
            epoch as u64,
            &[
                ("train_loss".into(), m.train_loss),
                ("train_accuracy".into(), m.train_accuracy),
                ("val_loss".into(), m.val_loss),
                ("val_accuracy".into(), m.val_accuracy),
                ("val_macro_f1".into(), m.val_macro_f1),
            ],
        )?;
        if best.as_ref().is_none_or(|(f1, _, _)| m.val_macro_f1 > *f1) || val_data.labels.is_empty()
        {
            best = Some((m.val_macro_f1, epoch, valid_net));
        }
        history.push(m);
        let out_of_time = config
            .max_seconds
            .is_some_and(|s| train_start.elapsed().as_secs_f64() >= s);
        if step >= total_steps || out_of_time {
            break 'epochs;
        }
    }
    let train_seconds = train_start.elapsed().as_secs_f64();
    let (_, best_epoch, best_net) = match best {
        Some(b) => b,
        None => (0.0, 0, net.valid()),
    };

    // Calibration on validation views, anomaly model on training views.
    let temperature =
        calibrate_temperature(&best_net, &val_data, meta_in, device, config.mc_samples);
    let anomaly = fit_anomaly(
        &best_net,
        &train_data.features,
        &train_data.labels,
        &object_groups(&train_views),
        (&standardizer, temperature),
        &model_config,
        device,
    );

    let classifier = Classifier {
        net: best_net,
        outlier_net: None,
        meta: ModelMeta {
            classes: CLASS_NAMES.iter().map(|s| s.to_string()).collect(),
            model: model_config,
            features: config.features.clone(),
            standardizer,
            temperature,
            anomaly,
            outlier: None,
            members: None,
            mc_samples: config.mc_samples,
        },
        members: Vec::new(),
        device: device.clone(),
        max_batch: crate::inference::BATCH_SIZE,
    };
    classifier.save(out_dir)?;

    // Validation report of the calibrated model (deterministic, as `score` needs names).
    let val_named: Vec<NamedCurve> = val_views
        .iter()
        .map(|v| NamedCurve {
            curve: v.curve.clone(),
            label: CLASS_NAMES[v.label].to_string(),
        })
        .collect();
    let ids: Vec<&str> = val_named
        .iter()
        .map(|c| c.curve.object_id.as_str())
        .collect();
    // Balanced priors: the validation views hold every class alike.
    let preds = classifier.classify_features_with_priors(
        &val_data.features,
        &ids,
        0,
        ClassPriors::Balanced,
    );
    let validation = evaluate::score(&val_named, &preds, 0, ClassPriors::Balanced);
    evaluate::write_report(&validation, out_dir, "validation_").map_err(|message| {
        TrainError::Output {
            path: out_dir.to_path_buf(),
            message,
        }
    })?;
    write_json(&out_dir.join("train_config.json"), config)?;
    write_json(&out_dir.join("history.json"), &history)?;
    let card = serde_json::json!({
        "classes": CLASS_NAMES,
        "n_objects": dataset.len(),
        "n_train_views": train_views.len(),
        "n_val_views": val_views.len(),
        "best_epoch": best_epoch,
        "steps": step,
        "temperature": temperature,
        "featurize_seconds": featurize_seconds,
        "train_seconds": train_seconds,
        "validation_macro_f1": validation.macro_f1,
        "validation_accuracy": validation.accuracy,
        "validation_top_level_accuracy": validation.top_level.accuracy,
        "validation_ece": validation.ece,
        "parameters": classifier.net.num_params(),
    });
    write_json(&out_dir.join("card_inputs.json"), &card)?;
    tracker.log_metrics(
        step as u64,
        &[
            ("final_val_macro_f1".into(), validation.macro_f1),
            ("final_val_accuracy".into(), validation.accuracy),
            (
                "final_val_top_level_accuracy".into(),
                validation.top_level.accuracy,
            ),
            ("final_val_ece".into(), validation.ece),
            ("temperature".into(), f64::from(temperature)),
        ],
    )?;
    for file in [
        crate::inference::WEIGHTS_FILE,
        crate::inference::META_FILE,
        "train_config.json",
        "history.json",
        "card_inputs.json",
        "validation_metrics.json",
        "validation_confusion.png",
    ] {
        tracker.log_artifact(&out_dir.join(file), "model")?;
    }
    Ok(TrainReport {
        classifier,
        history,
        validation,
        temperature,
        best_epoch,
        n_train_views: train_views.len(),
        n_val_views: val_views.len(),
        featurize_seconds,
        train_seconds,
        tracking_location: String::new(),
        steps: step,
    })
}

/// The logits whose softmaxes inference averages: `mc_samples` dropout draws, or one
/// deterministic pass when `mc_samples` < 2.
fn served_logits(
    net: &LightCurveNet,
    data: &Prepared,
    meta_in: (&Standardizer, usize),
    device: &Device,
    mc_samples: usize,
) -> Vec<Vec<f32>> {
    if mc_samples < 2 {
        return vec![outputs(net, data, meta_in, device, 512).0];
    }
    let refs: Vec<&Features> = data.features.iter().collect();
    crate::inference::mc_logits(net, &refs, meta_in, device, mc_samples)
}

/// Temperature scaling on the validation views, fitted on the probabilities inference serves.
fn calibrate_temperature(
    net: &LightCurveNet,
    val: &Prepared,
    meta_in: (&Standardizer, usize),
    device: &Device,
    mc_samples: usize,
) -> f32 {
    let samples = served_logits(net, val, meta_in, device, mc_samples);
    fit_temperature_averaged(&samples, &val.labels, N_CLASSES)
}

/// Refits the temperature of a trained classifier on `config`'s validation views of `dataset`
/// (as [`train`] does), leaving the networks and the anomaly model as they are. Returns it. A
/// model whose second network holds a share of the class probabilities keeps that share and
/// refits both temperatures on the average it serves ([`fit_ensemble`]).
pub fn refit_temperature(
    classifier: &mut Classifier,
    config: &TrainConfig,
    dataset: &[LabelledCurve],
) -> f32 {
    let views = validation_views(config, dataset);
    let share = classifier
        .meta
        .outlier
        .as_ref()
        .map_or(0.0, |o| o.class_share);
    if share > 0.0
        && let Some(fit) = fit_ensemble(classifier, &views, &[share])
    {
        return fit.chosen.temperature;
    }
    let val = prepare(&views, &classifier.meta.features);
    let meta = &classifier.meta;
    let temperature = calibrate_temperature(
        &classifier.net,
        &val,
        (&meta.standardizer, meta.model.grid_len),
        &classifier.device,
        meta.mc_samples,
    );
    classifier.meta.temperature = temperature;
    temperature
}

/// The shares of the second network's class probabilities [`fit_ensemble`] tries by default.
pub const ENSEMBLE_SHARES: [f32; 7] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6];

/// One share tried by [`fit_ensemble`]: the classifier's temperature fitted with it, and the NLL
/// on the calibration views of the probabilities then served.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShareFit {
    pub share: f32,
    pub temperature: f32,
    pub calibration_nll: f64,
}

/// What [`fit_ensemble`] chose: the share of the lowest NLL, and every share tried.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsembleFit {
    pub chosen: ShareFit,
    pub outlier_temperature: f32,
    pub tried: Vec<ShareFit>,
}

/// Makes the outlier-exposed network a member of the class probabilities
/// (`OutlierEnergy::class_share`; 0 leaves the classifier alone) with the share among `shares`
/// whose served probabilities fit `views` best (lowest NLL), and fits both temperatures on
/// `views`: the second network's on its own logits, then, for each share, the classifier's on
/// the average served. The two networks may have trained on different splits, so `views` should
/// be new to both (a simulation of its own seed). `None` when the model has no second network or
/// no share is given.
pub fn fit_ensemble(
    classifier: &mut Classifier,
    views: &[LabelledCurve],
    shares: &[f32],
) -> Option<EnsembleFit> {
    let val = prepare(views, &classifier.meta.features);
    let (net, outlier) = (
        classifier.outlier_net.as_ref()?,
        classifier.meta.outlier.as_ref()?,
    );
    let device = &classifier.device;
    let (logits, _) = outputs(
        net,
        &val,
        (&outlier.standardizer, outlier.model.grid_len),
        device,
        512,
    );
    let outlier_temperature = fit_temperature(&logits, &val.labels, N_CLASSES);
    let mut probabilities = vec![0f32; logits.len()];
    for (row, out) in logits
        .chunks(N_CLASSES)
        .zip(probabilities.chunks_mut(N_CLASSES))
    {
        softmax_into(row, outlier_temperature, out);
    }
    let meta = &classifier.meta;
    let meta_in = (&meta.standardizer, meta.model.grid_len);
    let samples = served_logits(&classifier.net, &val, meta_in, device, meta.mc_samples);
    let tried: Vec<ShareFit> = shares
        .iter()
        .map(|&share| {
            let share = share.clamp(0.0, 1.0);
            let fixed = FixedMember {
                probabilities: &probabilities,
                share: f64::from(share),
            };
            let temperature = fit_temperature_in_ensemble(&samples, fixed, &val.labels, N_CLASSES);
            let calibration_nll = nll_of_mixture(
                &samples,
                Some(fixed),
                &val.labels,
                N_CLASSES,
                f64::from(temperature),
            );
            ShareFit {
                share,
                temperature,
                calibration_nll,
            }
        })
        .collect();
    let chosen = *tried
        .iter()
        .min_by(|a, b| a.calibration_nll.total_cmp(&b.calibration_nll))?;
    classifier.meta.temperature = chosen.temperature;
    if let Some(outlier) = classifier.meta.outlier.as_mut() {
        outlier.class_share = chosen.share;
        outlier.temperature = outlier_temperature;
    }
    Some(EnsembleFit {
        chosen,
        outlier_temperature,
        tried,
    })
}

/// A stable number per object (FNV-1a of its id), so an object's views share a cross-fitting fold.
fn object_groups(views: &[LabelledCurve]) -> Vec<u64> {
    views
        .iter()
        .map(|v| {
            v.curve
                .object_id
                .bytes()
                .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
                })
        })
        .collect()
}

/// Up to `max` indices spread evenly over `0..n`. Not a fixed stride: the views come grouped by
/// object (the full curve first), and a stride equal to the views per object would keep only
/// full curves, leaving short views out of the length calibration.
fn spread(n: usize, max: usize) -> Vec<usize> {
    let m = n.min(max);
    (0..m).map(|i| i * n / m.max(1)).collect()
}

/// Fits the anomaly model on training views spread evenly over all of them: per-class Gaussians
/// of the embedding, cross-fitted by object (`groups`) and calibrated per light-curve length.
fn fit_anomaly(
    net: &LightCurveNet,
    features: &[Features],
    labels: &[usize],
    groups: &[u64],
    (standardizer, temperature): (&Standardizer, f32),
    model_config: &ModelConfig,
    device: &Device,
) -> AnomalyModel {
    let chosen = spread(labels.len(), ANOMALY_FIT_VIEWS);
    let sub = Prepared {
        features: chosen.iter().map(|&i| features[i].clone()).collect(),
        labels: chosen.iter().map(|&i| labels[i]).collect(),
    };
    let groups: Vec<u64> = chosen
        .iter()
        .map(|&i| groups.get(i).copied().unwrap_or(i as u64))
        .collect();
    let meta_in = (standardizer, model_config.grid_len);
    let (logits, embeddings) = outputs(net, &sub, meta_in, device, 512);
    let mut p = [0f32; N_CLASSES];
    let uncertainties: Vec<f32> = logits
        .chunks(N_CLASSES)
        .map(|row| {
            softmax_into(row, temperature, &mut p);
            normalized_entropy(&p)
        })
        .collect();
    let n_tokens: Vec<usize> = sub.features.iter().map(|f| f.n_tokens).collect();
    // Offline comparison (`examples/dump_embeddings.rs`, full simulated test curves, held-out
    // TDE/kilonova/microlensing/PISN; AUROC): the Mahalanobis distance to the predicted class's
    // own Gaussian, calibrated per class, 0.83–0.84, against 0.73 for the k-th neighbour distance
    // on the unit sphere of the previous anomaly model, 0.79 for a per-class neighbour distance,
    // 0.67 for a shared-covariance Mahalanobis distance and 0.65 for the entropy; adding the
    // entropy, an energy score or the neighbour distance did not help.
    let mut anomaly = AnomalyModel::fit(
        &embeddings,
        &sub.labels,
        &uncertainties,
        model_config.d_embedding,
        N_CLASSES,
    );
    anomaly.distance_weight = 0.0;
    anomaly.with_class_gaussians(ClassGaussians::fit(
        &embeddings,
        model_config.d_embedding,
        GaussianFitInputs {
            logits: &logits,
            labels: &sub.labels,
            groups: &groups,
            n_tokens: &n_tokens,
            n_classes: N_CLASSES,
            shrinkage: ANOMALY_SHRINKAGE,
            folds: ANOMALY_FOLDS,
        },
    ))
}

/// Every training view `config` draws from the training objects of `dataset` (the same split and
/// seeds as [`train`]).
pub fn training_views(config: &TrainConfig, dataset: &[LabelledCurve]) -> Vec<LabelledCurve> {
    let (train_objects, _) = split(dataset, config.validation_fraction, config.seed);
    augment(&train_objects, &config.augment, config.seed ^ 0x5eed)
}

/// Every validation view `config` draws from the validation objects of `dataset` (the same split
/// and seeds as [`train`]): curves the network never trained on.
pub fn validation_views(config: &TrainConfig, dataset: &[LabelledCurve]) -> Vec<LabelledCurve> {
    let (_, val_objects) = split(dataset, config.validation_fraction, config.seed);
    augment(&val_objects, &config.augment, config.seed ^ 0xba11)
}

/// Makes `outlier` (trained with outlier exposure on the same split of `dataset`) the second half
/// of `classifier`'s anomaly score ([`crate::outlier_energy`]), calibrated on `config`'s
/// validation views, which neither network trained on. Returns how many views calibrated it.
pub fn attach_outlier_network(
    classifier: &mut Classifier,
    outlier: Classifier,
    config: &TrainConfig,
    dataset: &[LabelledCurve],
) -> Result<usize, crate::inference::ModelError> {
    let views: Vec<LightCurve> = validation_views(config, dataset)
        .into_iter()
        .map(|v| v.curve)
        .collect();
    let features = classifier.featurize(&views);
    crate::outlier_energy::attach(classifier, outlier, &features)?;
    Ok(features.len())
}

/// The training views the anomaly model is fitted on: up to `ANOMALY_FIT_VIEWS` of
/// [`training_views`], spread evenly over them.
pub fn anomaly_fit_views(config: &TrainConfig, dataset: &[LabelledCurve]) -> Vec<LabelledCurve> {
    let views = training_views(config, dataset);
    let keep = spread(views.len(), ANOMALY_FIT_VIEWS);
    let mut keep = keep.into_iter().peekable();
    views
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep.next_if_eq(i).is_some())
        .map(|(_, v)| v)
        .collect()
}

/// Refits a trained classifier's anomaly model on the training views `config` draws from
/// `dataset` (the same split and views as training), leaving the network and calibration alone.
pub fn refit_anomaly(classifier: &mut Classifier, config: &TrainConfig, dataset: &[LabelledCurve]) {
    let chosen = anomaly_fit_views(config, dataset);
    let data = prepare(&chosen, &classifier.meta.features);
    classifier.meta.anomaly = fit_anomaly(
        &classifier.net,
        &data.features,
        &data.labels,
        &object_groups(&chosen),
        (&classifier.meta.standardizer, classifier.meta.temperature),
        &classifier.meta.model,
        &classifier.device,
    );
}

/// Flattens a JSON object into `a.b.c = value` parameters.
fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_weights_balance_the_present_classes() {
        // Two present classes of three (label 7 is out of range): each carries half the weight.
        let weights = class_weights(&[0, 0, 1, 7], 3);
        assert_eq!(weights.len(), 3);
        let counted = [2.0f32, 1.0];
        let total: f32 = weights[..2].iter().zip(counted).map(|(w, c)| w * c).sum();
        assert!((weights[0] * 2.0 - weights[1]).abs() < 1e-6, "{weights:?}");
        assert!((total - 4.0).abs() < 1e-5, "{weights:?}");
        assert_eq!(weights[2], 0.0);
        assert_eq!(label_counts([0, 2, 2, 5], 3), vec![1, 0, 2]);
    }
}
