//! The second half of the anomaly score: the energy of a network trained with outlier exposure.
//!
//! A network of the classifier's architecture trained to be unsure on distorted supernovae
//! ([`crate::outliers`], `TrainConfig::outlier_exposure`) gives low logits off the taxonomy, so its
//! energy −log Σₖ exp(logitₖ) (Liu et al. 2020, NeurIPS, "Energy-based out-of-distribution
//! detection") is high there. The classifier's per-class Gaussian score and this energy miss
//! different curves, so the anomaly score averages them: each is first turned into its quantile
//! among calibration views of similar length (validation views, unseen by both networks), and the
//! average is turned into its quantile the same way, so normal curves still score uniformly on
//! [0, 1] whatever their length.

use burn::module::Module;
use serde::{Deserialize, Serialize};

use crate::anomaly::{LENGTH_BUCKETS, bucket_of, cdf, quantiles};
use crate::features::{Features, Standardizer};
use crate::inference::{Classifier, ModelError};
use crate::model::ModelConfig;

/// Weights of the outlier-exposed network inside a model directory.
pub const OUTLIER_WEIGHTS_FILE: &str = "outlier.bpk";

/// Energy of one curve's logits (temperature 1): −log Σ exp(logits).
pub fn energy(logits: &[f32]) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        return f64::INFINITY;
    }
    let sum: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
    -(f64::from(max) + sum.ln())
}

/// Quantiles of a score per light-curve length bucket ([`LENGTH_BUCKETS`] and an open last one),
/// with the quantiles over all lengths for buckets that had too few calibration curves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LengthQuantiles {
    pub buckets: Vec<Vec<f64>>,
    pub overall: Vec<f64>,
}

/// A bucket needs this many calibration curves to get its own quantiles.
const MIN_BUCKET_CURVES: usize = 50;

impl LengthQuantiles {
    pub fn fit(values: &[f64], n_tokens: &[usize]) -> Self {
        let mut by_bucket = vec![Vec::new(); LENGTH_BUCKETS.len() + 1];
        for (&v, &n) in values.iter().zip(n_tokens) {
            by_bucket[bucket_of(n)].push(v);
        }
        LengthQuantiles {
            buckets: by_bucket
                .into_iter()
                .map(|b| {
                    if b.len() >= MIN_BUCKET_CURVES {
                        quantiles(b)
                    } else {
                        Vec::new()
                    }
                })
                .collect(),
            overall: quantiles(values.to_vec()),
        }
    }

    /// Fraction of the calibration curves of this length scoring below `x`.
    pub fn cdf(&self, x: f64, n_tokens: usize) -> f64 {
        let q = self
            .buckets
            .get(bucket_of(n_tokens))
            .filter(|q| q.len() > 2)
            .unwrap_or(&self.overall);
        cdf(q, x).clamp(0.0, 1.0)
    }
}

/// What inference needs to use the outlier-exposed network, saved in `classifier.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutlierEnergy {
    /// The network's configuration (its weights are [`OUTLIER_WEIGHTS_FILE`]).
    pub model: ModelConfig,
    /// The standardiser of the global features it was trained with.
    pub standardizer: Standardizer,
    /// Calibration of its energy, and of the average of the two quantiles.
    pub energy: LengthQuantiles,
    pub combined: LengthQuantiles,
    /// Share of this network's class probabilities in the reported ones: the two networks, trained
    /// apart on the same population, average as a deep ensemble (Lakshminarayanan et al. 2017,
    /// NeurIPS), which holds up better than one network off the training distribution (Ovadia et
    /// al. 2019, NeurIPS). 0 in models saved before, whose probabilities are the classifier's.
    #[serde(default)]
    pub class_share: f32,
    /// Temperature of this network's logits in that average, fitted on validation views alone.
    #[serde(default = "unit_temperature")]
    pub temperature: f32,
}

fn unit_temperature() -> f32 {
    1.0
}

impl OutlierEnergy {
    /// Calibrates on the Gaussian scores and energies of the same curves.
    pub fn fit(
        model: ModelConfig,
        standardizer: Standardizer,
        gaussian_scores: &[f32],
        energies: &[f64],
        n_tokens: &[usize],
    ) -> Self {
        let energy = LengthQuantiles::fit(energies, n_tokens);
        let averages: Vec<f64> = gaussian_scores
            .iter()
            .zip(energies)
            .zip(n_tokens)
            .map(|((&g, &e), &n)| 0.5 * (f64::from(g) + energy.cdf(e, n)))
            .collect();
        OutlierEnergy {
            combined: LengthQuantiles::fit(&averages, n_tokens),
            model,
            standardizer,
            energy,
            class_share: 0.0,
            temperature: 1.0,
        }
    }

    /// The anomaly score in [0, 1] from the classifier's Gaussian score and this network's energy.
    pub fn combine(&self, gaussian_score: f32, energy: f64, n_tokens: usize) -> f32 {
        let average = 0.5 * (f64::from(gaussian_score) + self.energy.cdf(energy, n_tokens));
        self.combined.cdf(average, n_tokens) as f32
    }
}

/// Makes `outlier` (a classifier trained with outlier exposure) the second half of `classifier`'s
/// anomaly score, calibrated on `calibration`: features of curves neither network trained on.
pub fn attach(
    classifier: &mut Classifier,
    outlier: Classifier,
    calibration: &[Features],
) -> Result<(), ModelError> {
    if outlier.meta.features != classifier.meta.features {
        return Err(ModelError::Incompatible(
            "the outlier network was trained on other features than the classifier".into(),
        ));
    }
    // The Gaussian score alone, as the classifier gives it without a second network.
    classifier.outlier_net = None;
    classifier.meta.outlier = None;
    let gaussian: Vec<f32> = classifier
        .classify_features(calibration, &[], 0)
        .iter()
        .map(|p| p.anomaly_score)
        .collect();
    let k = classifier.meta.classes.len();
    let energies: Vec<f64> = outlier
        .raw_outputs(calibration)
        .logits
        .chunks(k)
        .map(energy)
        .collect();
    let n_tokens: Vec<usize> = calibration.iter().map(|f| f.n_tokens).collect();
    classifier.meta.outlier = Some(OutlierEnergy::fit(
        outlier.meta.model.clone(),
        outlier.meta.standardizer.clone(),
        &gaussian,
        &energies,
        &n_tokens,
    ));
    classifier.outlier_net = Some(outlier.net.valid());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn energy_is_minus_logsumexp() {
        let e = energy(&[0.0, 0.0]);
        assert!((e + 2f64.ln()).abs() < 1e-9);
        // Confident logits have lower energy than flat ones of the same scale.
        assert!(energy(&[10.0, 0.0, 0.0]) < energy(&[1.0, 0.0, 0.0]));
        assert!(energy(&[1e30, 0.0]).is_finite());
    }

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn calibration_curves_score_uniformly_and_both_halves_count() {
        // Short curves have higher energies than long ones; the length calibration removes that.
        let mut seed = 7;
        let n = 4000;
        let n_tokens: Vec<usize> = (0..n).map(|i| if i % 2 == 0 { 3 } else { 60 }).collect();
        let energies: Vec<f64> = n_tokens
            .iter()
            .map(|&t| lcg(&mut seed) + if t == 3 { 5.0 } else { 0.0 })
            .collect();
        let gaussian: Vec<f32> = (0..n).map(|_| lcg(&mut seed) as f32).collect();
        let m = OutlierEnergy::fit(
            ModelConfig::default(),
            Standardizer::identity(2),
            &gaussian,
            &energies,
            &n_tokens,
        );
        let scores: Vec<f32> = (0..n)
            .map(|i| m.combine(gaussian[i], energies[i], n_tokens[i]))
            .collect();
        for tokens in [3, 60] {
            let mine: Vec<f32> = (0..n)
                .filter(|&i| n_tokens[i] == tokens)
                .map(|i| scores[i])
                .collect();
            let above = mine.iter().filter(|&&s| s > 0.9).count() as f64 / mine.len() as f64;
            assert!((above - 0.1).abs() < 0.03, "{tokens} tokens: {above}");
        }
        // Raising either half raises the score; both at their top is an anomaly.
        let base = m.combine(0.5, 0.5, 60);
        assert!(m.combine(0.9, 0.5, 60) > base);
        assert!(m.combine(0.5, 0.9, 60) > base);
        assert!(m.combine(1.0, 2.0, 60) > 0.99);
    }

    #[test]
    fn models_saved_before_the_ensemble_serve_the_classifier_alone() {
        let m = OutlierEnergy::fit(
            ModelConfig::default(),
            Standardizer::identity(2),
            &[0.1, 0.5, 0.9],
            &[1.0, 2.0, 3.0],
            &[3, 3, 3],
        );
        let mut json = serde_json::to_value(&m).expect("serialises");
        let fields = json.as_object_mut().expect("an object");
        fields.remove("class_share");
        fields.remove("temperature");
        let old: OutlierEnergy = serde_json::from_value(json).expect("reads without the fields");
        assert_eq!(old.class_share, 0.0);
        assert_eq!(old.temperature, 1.0);
        assert_eq!(old, m);
    }
}
