//! Evaluation of a classifier on labelled curves: 15-class and top-level metrics, calibration
//! (ECE) and, when some labels are outside the taxonomy, the anomaly AUROC (out-of-taxonomy
//! objects as positives).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::data::NamedCurve;
use crate::inference::{Classifier, Prediction};
use crate::metrics::{ClassScores, Confusion, expected_calibration_error, roc_auc};
use crate::priors::ClassPriors;
use crate::taxonomy::{CLASS_NAMES, N_CLASSES, N_TOP, TopLevel, class_index, top_level_of};

/// Bins of the expected calibration error.
pub const ECE_BINS: usize = 15;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopLevelReport {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_class: BTreeMap<String, ClassScores>,
    pub confusion: Confusion,
}

/// Metrics of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationReport {
    pub n_evaluated: usize,
    pub accuracy: f64,
    pub balanced_accuracy: f64,
    pub macro_f1: f64,
    pub per_class: BTreeMap<String, ClassScores>,
    pub top_level: TopLevelReport,
    /// Expected calibration error of the top-class probability.
    pub ece: f64,
    /// Mean predictive uncertainty and anomaly score of the in-taxonomy objects.
    pub mean_uncertainty: f64,
    pub mean_anomaly_score: f64,
    /// AUROC of the anomaly score separating out-of-taxonomy objects from the rest.
    pub anomaly_auroc: Option<f64>,
    /// AUROC of the uncertainty alone, for comparison.
    pub uncertainty_auroc: Option<f64>,
    /// Labels outside the taxonomy and how many objects carried them (skipped from the
    /// classification metrics).
    pub unknown_labels: BTreeMap<String, usize>,
    pub confusion: Confusion,
    pub mc_samples: usize,
    /// Class priors of the predictions (reports written before they existed: balanced).
    #[serde(default = "balanced")]
    pub priors: ClassPriors,
}

fn balanced() -> ClassPriors {
    ClassPriors::Balanced
}

/// Classifies `curves` under `priors` and scores the predictions against their labels.
pub fn evaluate(
    classifier: &Classifier,
    curves: &[NamedCurve],
    mc_samples: usize,
    priors: ClassPriors,
) -> EvaluationReport {
    let lcs: Vec<_> = curves.iter().map(|c| c.curve.clone()).collect();
    let predictions = classifier.classify_with_priors(&lcs, mc_samples, priors);
    score(curves, &predictions, mc_samples, priors)
}

/// Scores precomputed predictions (same order as `curves`), made under `priors`.
pub fn score(
    curves: &[NamedCurve],
    predictions: &[Prediction],
    mc_samples: usize,
    priors: ClassPriors,
) -> EvaluationReport {
    let mut confusion = Confusion::new(N_CLASSES);
    let mut top_conf = Confusion::new(N_TOP);
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    let mut conf = Vec::new();
    let mut correct = Vec::new();
    let mut anomaly_scores = Vec::new();
    let mut uncertainties = Vec::new();
    let mut is_anomaly = Vec::new();
    let (mut sum_u, mut sum_a) = (0.0, 0.0);
    for (c, p) in curves.iter().zip(predictions) {
        anomaly_scores.push(f64::from(p.anomaly_score));
        uncertainties.push(f64::from(p.uncertainty));
        match class_index(&c.label) {
            Some(y) => {
                is_anomaly.push(false);
                confusion.add(y, p.class_index);
                top_conf.add(top_level_of(y).index(), p.top_level_class.index());
                conf.push(f64::from(p.probability()));
                correct.push(y == p.class_index);
                sum_u += f64::from(p.uncertainty);
                sum_a += f64::from(p.anomaly_score);
            }
            None => {
                is_anomaly.push(true);
                *unknown.entry(c.label.clone()).or_default() += 1;
            }
        }
    }
    let n = correct.len();
    let named = |scores: Vec<ClassScores>, names: &[&str]| {
        names
            .iter()
            .zip(scores)
            .map(|(n, s)| (n.to_string(), s))
            .collect::<BTreeMap<_, _>>()
    };
    let top_names: Vec<&str> = TopLevel::ALL.iter().map(|t| t.name()).collect();
    EvaluationReport {
        n_evaluated: n,
        accuracy: confusion.accuracy(),
        balanced_accuracy: confusion.balanced_accuracy(),
        macro_f1: confusion.macro_f1(),
        per_class: named(confusion.per_class(), &CLASS_NAMES),
        top_level: TopLevelReport {
            accuracy: top_conf.accuracy(),
            macro_f1: top_conf.macro_f1(),
            per_class: named(top_conf.per_class(), &top_names),
            confusion: top_conf,
        },
        ece: expected_calibration_error(&conf, &correct, ECE_BINS),
        mean_uncertainty: sum_u / n.max(1) as f64,
        mean_anomaly_score: sum_a / n.max(1) as f64,
        anomaly_auroc: roc_auc(&anomaly_scores, &is_anomaly),
        uncertainty_auroc: roc_auc(&uncertainties, &is_anomaly),
        unknown_labels: unknown,
        confusion,
        mc_samples,
        priors,
    }
}

/// Writes `<prefix>metrics.json` and `<prefix>confusion.png` into `dir`.
pub fn write_report(report: &EvaluationReport, dir: &Path, prefix: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("{prefix}metrics.json"));
    let text = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    crate::plot::confusion_png(
        &report.confusion,
        &CLASS_NAMES,
        &dir.join(format!("{prefix}confusion.png")),
    )
}
