//! Batched inference: load a trained model directory and classify many light curves per forward
//! pass, with MC-dropout uncertainty (Gal & Ghahramani 2016) and the anomaly score.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::module::Module;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::anomaly::AnomalyModel;
use crate::batch::make_batch;
use crate::calibration::softmax_into;
use crate::data::featurize;
use crate::features::{FeatureConfig, Features, Standardizer};
use crate::lightcurve::LightCurve;
use crate::members::{MEMBERS_DIR, Members, check_member, check_name};
use crate::model::{LightCurveNet, ModelConfig, ModelInput};
use crate::outlier_energy::{OUTLIER_WEIGHTS_FILE, OutlierEnergy, energy};
use crate::priors::ClassPriors;
use crate::taxonomy::{CLASS_NAMES, N_CLASSES, N_TOP, TopLevel, top_level_probabilities};

/// File names inside a model directory.
pub const WEIGHTS_FILE: &str = "model.bpk";
pub const META_FILE: &str = "classifier.json";
/// Curves per forward pass.
pub const BATCH_SIZE: usize = 256;
/// Curves a worker thread gets at least: below that, a second thread costs more than it saves.
const MIN_CURVES_PER_WORKER: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid model metadata {path}: {source}")]
    Meta {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot load or save weights {path}: {message}")]
    Weights { path: PathBuf, message: String },
    #[error("model metadata {0}")]
    Incompatible(String),
}

/// Everything besides the weights that inference needs, saved as `classifier.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Class names in output order (must equal [`CLASS_NAMES`]).
    pub classes: Vec<String>,
    pub model: ModelConfig,
    pub features: FeatureConfig,
    pub standardizer: Standardizer,
    /// Temperature fitted on validation data.
    pub temperature: f32,
    pub anomaly: AnomalyModel,
    /// The outlier-exposed network whose energy joins the anomaly score (absent in older models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier: Option<OutlierEnergy>,
    /// The pairs trained with other seeds whose outputs are averaged with this one's
    /// ([`crate::members`]; absent in single models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Members>,
    /// Default MC-dropout samples.
    pub mc_samples: usize,
}

/// The classification of one light curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub object_id: String,
    /// Most probable class name.
    pub class: String,
    pub class_index: usize,
    /// Calibrated probabilities of the 15 classes (sum 1), in [`CLASS_NAMES`] order, under the
    /// class priors asked for ([`ClassPriors`]).
    pub probabilities: Vec<f32>,
    /// Transient, Stochastic, Periodic: sums of the class probabilities.
    pub top_level: [f32; N_TOP],
    pub top_level_class: TopLevel,
    /// Predictive uncertainty in [0, 1]: entropy of the (MC-averaged) probabilities over ln 15.
    pub uncertainty: f32,
    /// Anomaly score in [0, 1].
    pub anomaly_score: f32,
}

impl Prediction {
    /// Class name → probability, as the stream's events, the store and the CLI give them.
    pub fn probability_map(&self) -> BTreeMap<String, f64> {
        CLASS_NAMES
            .iter()
            .zip(&self.probabilities)
            .map(|(name, p)| ((*name).to_owned(), f64::from(*p)))
            .collect()
    }

    /// Top level (Transient, Stochastic, Periodic) → probability.
    pub fn top_level_map(&self) -> BTreeMap<String, f64> {
        TopLevel::ALL
            .iter()
            .zip(self.top_level)
            .map(|(level, p)| (level.name().to_owned(), f64::from(p)))
            .collect()
    }

    /// Probability of the predicted class.
    pub fn probability(&self) -> f32 {
        self.probabilities
            .get(self.class_index)
            .copied()
            .unwrap_or(0.0)
    }
}

/// Raw per-curve network outputs for evaluation and calibration.
#[derive(Debug, Clone)]
pub struct RawOutputs {
    /// Deterministic logits, `n × 15`.
    pub logits: Vec<f32>,
    /// Deterministic embeddings, `n × d_embedding`.
    pub embeddings: Vec<f32>,
    /// The layers the embedding is fused from: the sequence encoder's pooled output
    /// (`n × 2·d_model`) and the grid/global MLP's (`n × d_context`).
    pub sequence: Vec<f32>,
    pub context: Vec<f32>,
}

/// What a model serves for a batch of `n` curves, before the class priors.
pub(crate) struct Served {
    /// Class probabilities, `n × 15`.
    pub probabilities: Vec<f32>,
    pub anomaly_scores: Vec<f32>,
}

/// A trained classifier on a device.
#[derive(Debug, Clone)]
pub struct Classifier {
    pub net: LightCurveNet,
    /// The outlier-exposed network of [`ModelMeta::outlier`], when the model has one.
    pub outlier_net: Option<LightCurveNet>,
    pub meta: ModelMeta,
    /// The seed ensemble's other members ([`ModelMeta::members`], in that order), each a single
    /// model.
    pub members: Vec<Classifier>,
    pub device: Device,
    /// Curves per forward pass at most ([`BATCH_SIZE`] unless set).
    pub max_batch: usize,
}

fn read_meta(path: &Path) -> Result<ModelMeta, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| ModelError::Meta {
        path: path.to_path_buf(),
        source,
    })
}

/// A network of `model`'s shape with the weights of the burnpack file `path`, for inference.
fn load_weights(
    model: &ModelConfig,
    path: &Path,
    device: &Device,
) -> Result<LightCurveNet, ModelError> {
    let net = model
        .init(device)
        .try_load_file(path)
        .map_err(|e| ModelError::Weights {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    Ok(net.valid())
}

/// Writes a network's weights as the burnpack file `path`.
fn save_weights(net: &LightCurveNet, path: &Path) -> Result<(), ModelError> {
    net.clone()
        .save_file(path)
        .map_err(|e| ModelError::Weights {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Normalised entropy in [0, 1].
pub fn normalized_entropy(p: &[f32]) -> f32 {
    let h: f32 = p.iter().filter(|v| **v > 0.0).map(|v| -v * v.ln()).sum();
    (h / (p.len().max(2) as f32).ln()).clamp(0.0, 1.0)
}

impl Classifier {
    /// Loads `classifier.json` and `model.bpk` (and `outlier.bpk`, and the seed ensemble's
    /// members under `members/`, where it names them) from `dir` onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self, ModelError> {
        let meta = read_meta(&dir.join(META_FILE))?;
        if meta
            .classes
            .iter()
            .map(String::as_str)
            .ne(CLASS_NAMES.iter().copied())
        {
            return Err(ModelError::Incompatible(format!(
                "classes {:?} differ from the taxonomy",
                meta.classes
            )));
        }
        let net = load_weights(&meta.model, &dir.join(WEIGHTS_FILE), device)?;
        let outlier_net = match &meta.outlier {
            Some(outlier) => Some(load_weights(
                &outlier.model,
                &dir.join(OUTLIER_WEIGHTS_FILE),
                device,
            )?),
            None => None,
        };
        let mut classifier = Classifier {
            net,
            outlier_net,
            meta,
            members: Vec::new(),
            device: device.clone(),
            max_batch: BATCH_SIZE,
        };
        let names = classifier
            .meta
            .members
            .as_ref()
            .map_or_else(Vec::new, |m| m.names.clone());
        for name in names {
            // Checked before the path is built from it.
            check_name(&name)?;
            let member = Classifier::load(&dir.join(MEMBERS_DIR).join(&name), device)?;
            check_member(&classifier, &name, &member)?;
            classifier.members.push(member);
        }
        Ok(classifier)
    }

    /// Writes `model.bpk`, `outlier.bpk` and `classifier.json` into `dir`, and each member of a
    /// seed ensemble into `members/<name>/`.
    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        std::fs::create_dir_all(dir).map_err(|source| ModelError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        save_weights(&self.net, &dir.join(WEIGHTS_FILE))?;
        if let Some(net) = &self.outlier_net {
            save_weights(net, &dir.join(OUTLIER_WEIGHTS_FILE))?;
        }
        if let Some(members) = &self.meta.members {
            for (name, member) in members.names.iter().zip(&self.members) {
                check_name(name)?;
                member.save(&dir.join(MEMBERS_DIR).join(name))?;
            }
        }
        let meta_path = dir.join(META_FILE);
        let text = serde_json::to_string_pretty(&self.meta).map_err(|source| ModelError::Meta {
            path: meta_path.clone(),
            source,
        })?;
        std::fs::write(&meta_path, text).map_err(|source| ModelError::Io {
            path: meta_path,
            source,
        })
    }

    /// A randomly initialised classifier (benchmarks and tests): identity standardisation,
    /// temperature 1 and an anomaly model fitted on nothing.
    pub fn untrained(model: ModelConfig, features: FeatureConfig, device: &Device) -> Self {
        let mut model = model;
        model.grid_len = features.grid_len();
        model.d_global = features.d_global();
        let d = model.d_embedding;
        Classifier {
            net: model.init(device).valid(),
            outlier_net: None,
            meta: ModelMeta {
                classes: CLASS_NAMES.iter().map(|s| s.to_string()).collect(),
                standardizer: Standardizer::identity(features.d_global()),
                temperature: 1.0,
                anomaly: AnomalyModel::fit(&vec![0.0; d], &[0], &[0.0], d, N_CLASSES),
                outlier: None,
                members: None,
                mc_samples: 0,
                model,
                features,
            },
            members: Vec::new(),
            device: device.clone(),
            max_batch: BATCH_SIZE,
        }
    }

    /// Preprocesses curves (GP fit and features) on all cores.
    pub fn featurize(&self, curves: &[LightCurve]) -> Vec<Features> {
        let refs: Vec<&LightCurve> = curves.iter().collect();
        featurize(&refs, &self.meta.features)
    }

    /// Classifies curves, `BATCH_SIZE` per forward pass; `mc_samples` ≥ 2 averages that many
    /// dropout samples, 0 or 1 runs the deterministic network only. The probabilities are for a
    /// real alert stream ([`ClassPriors::Survey`]).
    pub fn classify(&self, curves: &[LightCurve], mc_samples: usize) -> Vec<Prediction> {
        self.classify_with_priors(curves, mc_samples, ClassPriors::Survey)
    }

    /// [`Classifier::classify`] with the given class priors.
    pub fn classify_with_priors(
        &self,
        curves: &[LightCurve],
        mc_samples: usize,
        priors: ClassPriors,
    ) -> Vec<Prediction> {
        let features = self.featurize(curves);
        let ids: Vec<&str> = curves.iter().map(|c| c.object_id.as_str()).collect();
        self.classify_features_with_priors(&features, &ids, mc_samples, priors)
    }

    /// [`Classifier::classify`] on precomputed features.
    pub fn classify_features(
        &self,
        features: &[Features],
        ids: &[&str],
        mc_samples: usize,
    ) -> Vec<Prediction> {
        self.classify_features_with_priors(features, ids, mc_samples, ClassPriors::Survey)
    }

    /// [`Classifier::classify_with_priors`] on precomputed features. Batches of curves of similar
    /// length (little padding) are spread over the CPU's cores: Burn's CPU backend runs each
    /// forward pass on one thread.
    pub fn classify_features_with_priors(
        &self,
        features: &[Features],
        ids: &[&str],
        mc_samples: usize,
        priors: ClassPriors,
    ) -> Vec<Prediction> {
        let mut order: Vec<usize> = (0..features.len()).collect();
        order.sort_by_key(|&i| features[i].n_tokens);
        let workers = self.inference_workers(features.len());
        // Batches of up to `max_batch` (a larger batch costs less per curve), smaller only when
        // there are too few curves to give every worker one.
        let batch_size = self.max_batch.min(features.len().div_ceil(workers)).max(1);
        let batches: Vec<&[usize]> = order.chunks(batch_size).collect();
        // Each worker takes the next batch not yet taken until none are left.
        let next = AtomicUsize::new(0);
        let work = || -> Vec<(usize, Prediction)> {
            let mut done = Vec::new();
            while let Some(positions) = batches.get(next.fetch_add(1, Ordering::Relaxed)) {
                done.extend(self.predict_batch(positions, features, ids, mc_samples, priors));
            }
            done
        };
        let predictions: Vec<(usize, Prediction)> = if workers <= 1 {
            work()
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..workers).map(|_| s.spawn(work)).collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            })
        };
        let mut out: Vec<Option<Prediction>> = vec![None; features.len()];
        for (index, prediction) in predictions {
            out[index] = Some(prediction);
        }
        out.into_iter().flatten().collect()
    }

    /// Threads for `n` curves: one per core on a CPU device, where each forward pass runs on one
    /// thread, with at least [`MIN_CURVES_PER_WORKER`] curves each; one on an accelerator.
    fn inference_workers(&self, n: usize) -> usize {
        if !runs_on_one_cpu_thread(&self.device) {
            return 1;
        }
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        cores.min(n / MIN_CURVES_PER_WORKER).max(1)
    }

    /// Predictions for the curves at `positions` of `features`, as (position, prediction).
    fn predict_batch(
        &self,
        positions: &[usize],
        features: &[Features],
        ids: &[&str],
        mc_samples: usize,
        priors: ClassPriors,
    ) -> Vec<(usize, Prediction)> {
        let chunk: Vec<&Features> = positions.iter().map(|&i| &features[i]).collect();
        let served = self.served_by_ensemble(&chunk, mc_samples);
        let calibration = self
            .meta
            .members
            .as_ref()
            .filter(|_| !self.members.is_empty());
        let mut out = Vec::with_capacity(positions.len());
        for (i, (p, &score)) in served
            .probabilities
            .chunks(N_CLASSES)
            .zip(&served.anomaly_scores)
            .enumerate()
        {
            let mut p = p.to_vec();
            priors.apply(&mut p);
            let class_index = argmax(&p);
            let top = top_level_probabilities(&p);
            let uncertainty = normalized_entropy(&p);
            // The ensemble's average is put back on the scale of one member's score.
            let anomaly_score = calibration.map_or(score, |members| {
                members.anomaly.cdf(f64::from(score), chunk[i].n_tokens) as f32
            });
            let global_index = positions[i];
            out.push((
                global_index,
                Prediction {
                    object_id: ids
                        .get(global_index)
                        .map_or_else(String::new, |s| s.to_string()),
                    class: CLASS_NAMES[class_index].to_string(),
                    class_index,
                    top_level_class: TopLevel::ALL[argmax(&top)],
                    top_level: top,
                    uncertainty,
                    anomaly_score,
                    probabilities: p,
                },
            ));
        }
        out
    }

    /// What this model and its members serve for a batch, averaged (the anomaly score before the
    /// ensemble's calibration).
    pub(crate) fn served_by_ensemble(&self, chunk: &[&Features], mc_samples: usize) -> Served {
        let mut served = self.served_by_pair(chunk, mc_samples);
        if self.members.is_empty() {
            return served;
        }
        for member in &self.members {
            let other = member.served_by_pair(chunk, mc_samples);
            for (sum, v) in served.probabilities.iter_mut().zip(&other.probabilities) {
                *sum += v;
            }
            for (sum, v) in served.anomaly_scores.iter_mut().zip(&other.anomaly_scores) {
                *sum += v;
            }
        }
        let k = (self.members.len() + 1) as f32;
        for v in served
            .probabilities
            .iter_mut()
            .chain(served.anomaly_scores.iter_mut())
        {
            *v /= k;
        }
        served
    }

    /// What this model's own networks serve for a batch: the classifier's calibrated (and
    /// MC-averaged) probabilities with the second network's mixed in, and the anomaly score.
    fn served_by_pair(&self, chunk: &[&Features], mc_samples: usize) -> Served {
        let t = self.meta.temperature;
        let d_emb = self.meta.model.d_embedding;
        let input = make_batch(
            chunk,
            &self.meta.standardizer,
            self.meta.model.grid_len,
            &self.device,
        );
        let seq = self.net.encode(&input);
        let det = self.net.head(seq.clone(), &input, false);
        let logits = to_vec(det.logits);
        let emb = to_vec(det.embedding);
        let n = chunk.len();
        let outlier_logits = self.outlier_logits(chunk, &input);
        let energies: Option<Vec<f64>> = outlier_logits
            .as_ref()
            .map(|l| l.chunks(N_CLASSES).map(energy).collect());
        let mut probs = vec![0f32; n * N_CLASSES];
        if mc_samples >= 2 {
            let mut p = [0f32; N_CLASSES];
            for _ in 0..mc_samples {
                let sample = to_vec(self.net.head(seq.clone(), &input, true).logits);
                for i in 0..n {
                    softmax_into(&sample[i * N_CLASSES..(i + 1) * N_CLASSES], t, &mut p);
                    for (acc, v) in probs[i * N_CLASSES..(i + 1) * N_CLASSES].iter_mut().zip(&p) {
                        *acc += v / mc_samples as f32;
                    }
                }
            }
        } else {
            for i in 0..n {
                softmax_into(
                    &logits[i * N_CLASSES..(i + 1) * N_CLASSES],
                    t,
                    &mut probs[i * N_CLASSES..(i + 1) * N_CLASSES],
                );
            }
        }
        let ensemble = self
            .meta
            .outlier
            .as_ref()
            .filter(|o| o.class_share > 0.0)
            .zip(outlier_logits.as_ref());
        let mut anomaly_scores = Vec::with_capacity(n);
        for (i, p) in probs.chunks_mut(N_CLASSES).enumerate() {
            // The anomaly score was fitted on the classifier network's own uncertainty.
            let network_uncertainty = normalized_entropy(p);
            if let Some((outlier, logits)) = ensemble {
                mix_in(
                    p,
                    &logits[i * N_CLASSES..(i + 1) * N_CLASSES],
                    outlier.temperature,
                    outlier.class_share,
                );
            }
            anomaly_scores.push(self.anomaly_score(
                &emb[i * d_emb..(i + 1) * d_emb],
                network_uncertainty,
                energies.as_ref().and_then(|v| v.get(i).copied()),
                chunk[i].n_tokens,
            ));
        }
        Served {
            probabilities: probs,
            anomaly_scores,
        }
    }

    /// Deterministic logits (`n × 15`) of the outlier-exposed network on a batch, when the model
    /// has one; `input` is the classifier's batch, reused when both networks standardise alike.
    fn outlier_logits(&self, chunk: &[&Features], input: &ModelInput) -> Option<Vec<f32>> {
        let (net, outlier) = (self.outlier_net.as_ref()?, self.meta.outlier.as_ref()?);
        let logits = if outlier.standardizer == self.meta.standardizer {
            net.forward(input, false).logits
        } else {
            let own = make_batch(
                chunk,
                &outlier.standardizer,
                outlier.model.grid_len,
                &self.device,
            );
            net.forward(&own, false).logits
        };
        Some(to_vec(logits))
    }

    /// The anomaly score: the embedding's Gaussian score, averaged with the outlier network's
    /// energy when there is one.
    fn anomaly_score(
        &self,
        embedding: &[f32],
        uncertainty: f32,
        energy: Option<f64>,
        n_tokens: usize,
    ) -> f32 {
        let gaussian = self.meta.anomaly.score(embedding, uncertainty, n_tokens);
        match (&self.meta.outlier, energy) {
            (Some(outlier), Some(e)) => outlier.combine(gaussian, e, n_tokens),
            _ => gaussian,
        }
    }

    /// Deterministic logits and embeddings of precomputed features.
    pub fn raw_outputs(&self, features: &[Features]) -> RawOutputs {
        let refs: Vec<&Features> = features.iter().collect();
        let mut logits = Vec::with_capacity(features.len() * N_CLASSES);
        let mut embeddings = Vec::with_capacity(features.len() * self.meta.model.d_embedding);
        let (mut sequence, mut context) = (Vec::new(), Vec::new());
        for chunk in refs.chunks(BATCH_SIZE) {
            let input = make_batch(
                chunk,
                &self.meta.standardizer,
                self.meta.model.grid_len,
                &self.device,
            );
            let seq = self.net.encode(&input);
            let out = self.net.head(seq.clone(), &input, false);
            logits.extend(to_vec(out.logits));
            embeddings.extend(to_vec(out.embedding));
            sequence.extend(to_vec(seq));
            context.extend(to_vec(self.net.context(&input, false)));
        }
        RawOutputs {
            logits,
            embeddings,
            sequence,
            context,
        }
    }
}

/// `samples` MC-dropout draws of `net`'s class logits, each `n × 15` in the order of `features`.
pub(crate) fn mc_logits(
    net: &LightCurveNet,
    features: &[&Features],
    (standardizer, grid_len): (&Standardizer, usize),
    device: &Device,
    samples: usize,
) -> Vec<Vec<f32>> {
    let mut out = vec![Vec::with_capacity(features.len() * N_CLASSES); samples];
    for chunk in features.chunks(BATCH_SIZE) {
        let input = make_batch(chunk, standardizer, grid_len, device);
        let seq = net.encode(&input);
        for sample in out.iter_mut() {
            sample.extend(to_vec(net.head(seq.clone(), &input, true).logits));
        }
    }
    out
}

/// Replaces `probabilities` by `(1 − share)·probabilities + share·softmax(logits / temperature)`:
/// the average of an ensemble's members.
pub fn mix_in(probabilities: &mut [f32], logits: &[f32], temperature: f32, share: f32) {
    let mut other = [0f32; N_CLASSES];
    let other = &mut other[..logits.len().min(N_CLASSES)];
    softmax_into(logits, temperature, other);
    for (p, q) in probabilities.iter_mut().zip(other.iter()) {
        *p = (1.0 - share) * *p + share * q;
    }
}

/// Index of the largest value (first on ties).
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// A tensor's values as `f32`, row-major.
pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap_or_default()
}

/// The largest |a − b| between two value lists, pair by pair (tests that compare an inference
/// path with Burn's).
#[cfg(test)]
pub(crate) fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max)
}

/// Whether `device` runs each forward pass on one CPU thread (Burn's `flex` without its `rayon`
/// feature, `ndarray`), so batches can go to separate cores.
fn runs_on_one_cpu_thread(device: &Device) -> bool {
    is_host_device(device)
}

/// Whether `device` keeps tensors in the process's own memory (`flex`, `ndarray`), so reading
/// their values costs a copy, not a transfer.
pub(crate) fn is_host_device(device: &Device) -> bool {
    #[cfg(feature = "flex")]
    if *device == Device::flex() {
        return true;
    }
    #[cfg(feature = "ndarray")]
    #[allow(deprecated)]
    if *device == Device::ndarray() {
        return true;
    }
    let _ = device;
    false
}

/// The device inference and training use by default: CUDA with the `cuda` feature, else the
/// CPU backend this crate was built with.
pub fn default_device() -> Device {
    #[cfg(feature = "cuda")]
    {
        Device::cuda(0)
    }
    #[cfg(all(not(feature = "cuda"), feature = "flex"))]
    {
        Device::flex()
    }
    #[cfg(all(not(feature = "cuda"), not(feature = "flex"), feature = "cpu"))]
    {
        Device::cpu()
    }
    #[cfg(all(
        not(feature = "cuda"),
        not(feature = "flex"),
        not(feature = "cpu"),
        feature = "ndarray"
    ))]
    #[allow(deprecated)]
    {
        Device::ndarray()
    }
    #[cfg(not(any(
        feature = "cuda",
        feature = "flex",
        feature = "cpu",
        feature = "ndarray"
    )))]
    {
        Device::default()
    }
}

/// A device by name: `flex`, `cpu`, `ndarray`, `cuda` / `cuda:N`, or `default`.
pub fn device_by_name(name: &str) -> Option<Device> {
    match name.trim().to_ascii_lowercase().as_str() {
        "default" | "" => Some(default_device()),
        #[cfg(feature = "flex")]
        "flex" => Some(Device::flex()),
        #[cfg(feature = "cpu")]
        "cpu" => Some(Device::cpu()),
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        "ndarray" => Some(Device::ndarray()),
        #[cfg(feature = "cuda")]
        other if other.starts_with("cuda") => {
            let index = other
                .strip_prefix("cuda")
                .and_then(|s| s.strip_prefix(':'))
                .map_or(Some(0usize), |s| s.parse().ok())?;
            Some(Device::cuda(index))
        }
        _ => None,
    }
}
