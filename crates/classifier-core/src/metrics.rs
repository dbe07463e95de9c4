//! Classification metrics: confusion matrix, accuracy, balanced accuracy, macro-F1, per-class
//! precision/recall/F1, expected calibration error (Guo et al. 2017, ICML) and ROC AUC.

use serde::{Deserialize, Serialize};

/// Confusion matrix: `counts[true][predicted]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confusion {
    pub counts: Vec<Vec<u64>>,
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

impl Confusion {
    pub fn new(n_classes: usize) -> Self {
        Confusion {
            counts: vec![vec![0; n_classes]; n_classes],
        }
    }

    pub fn from_pairs(n_classes: usize, truth: &[usize], predicted: &[usize]) -> Self {
        let mut c = Confusion::new(n_classes);
        for (&t, &p) in truth.iter().zip(predicted) {
            c.add(t, p);
        }
        c
    }

    pub fn add(&mut self, truth: usize, predicted: usize) {
        if let Some(row) = self.counts.get_mut(truth)
            && let Some(cell) = row.get_mut(predicted)
        {
            *cell += 1;
        }
    }

    pub fn n_classes(&self) -> usize {
        self.counts.len()
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.n_classes()).map(|i| self.counts[i][i]).sum();
        ratio(correct, self.total())
    }

    /// Scores of each class; a class without support or predictions scores 0.
    pub fn per_class(&self) -> Vec<ClassScores> {
        let n = self.n_classes();
        (0..n)
            .map(|i| {
                let tp = self.counts[i][i];
                let support: u64 = self.counts[i].iter().sum();
                let predicted: u64 = (0..n).map(|t| self.counts[t][i]).sum();
                let precision = ratio(tp, predicted);
                let recall = ratio(tp, support);
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassScores {
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect()
    }

    /// Mean recall over classes that have support.
    pub fn balanced_accuracy(&self) -> f64 {
        let scores: Vec<f64> = self
            .per_class()
            .iter()
            .filter(|s| s.support > 0)
            .map(|s| s.recall)
            .collect();
        mean(&scores)
    }

    /// Mean F1 over classes that have support.
    pub fn macro_f1(&self) -> f64 {
        let scores: Vec<f64> = self
            .per_class()
            .iter()
            .filter(|s| s.support > 0)
            .map(|s| s.f1)
            .collect();
        mean(&scores)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Expected calibration error of the top-class confidence with `bins` equal-width bins.
pub fn expected_calibration_error(confidences: &[f64], correct: &[bool], bins: usize) -> f64 {
    let bins = bins.max(1);
    let n = confidences.len().min(correct.len());
    if n == 0 {
        return 0.0;
    }
    let mut conf_sum = vec![0.0; bins];
    let mut acc_sum = vec![0.0; bins];
    let mut count = vec![0usize; bins];
    for (&c, &ok) in confidences.iter().zip(correct) {
        let b = ((c.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1);
        conf_sum[b] += c;
        acc_sum[b] += f64::from(u8::from(ok));
        count[b] += 1;
    }
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| (acc_sum[b] - conf_sum[b]).abs() / n as f64)
        .sum()
}

/// Area under the ROC curve of `scores` for positives `labels` (Mann–Whitney U with ties counted
/// half). `None` without both positives and negatives.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let mut pairs: Vec<(f64, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    let n_pos = pairs.iter().filter(|p| p.1).count();
    let n_neg = pairs.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Sum of positive ranks (1-based, ties get their average rank).
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        while j + 1 < pairs.len() && pairs[j + 1].0 == pairs[i].0 {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += avg_rank * pairs[i..=j].iter().filter(|p| p.1).count() as f64;
        i = j + 1;
    }
    let u = rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Some(u / (n_pos as f64 * n_neg as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_confusion() {
        // truth:     0 0 0 1 1 2
        // predicted: 0 0 1 1 2 2
        let c = Confusion::from_pairs(3, &[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 2, 2]);
        assert!((c.accuracy() - 4.0 / 6.0).abs() < 1e-12);
        let s = c.per_class();
        // class 0: P = 2/2, R = 2/3, F1 = 0.8
        assert!((s[0].precision - 1.0).abs() < 1e-12);
        assert!((s[0].recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((s[0].f1 - 0.8).abs() < 1e-12);
        // class 1: P = 1/2, R = 1/2, F1 = 0.5; class 2: P = 1/2, R = 1, F1 = 2/3
        assert!((s[1].f1 - 0.5).abs() < 1e-12);
        assert!((s[2].f1 - 2.0 / 3.0).abs() < 1e-12);
        assert!((c.macro_f1() - (0.8 + 0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        assert!((c.balanced_accuracy() - (2.0 / 3.0 + 0.5 + 1.0) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn ece_of_a_hand_example() {
        // Bin [0.9,1.0): confidences 0.95, 0.95, accuracy 1/2 → |0.5−0.95|·2/4;
        // bin [0.6,0.7): 0.65, 0.65, both right → |1−0.65|·2/4. ECE = 0.225 + 0.175 = 0.4.
        let ece =
            expected_calibration_error(&[0.95, 0.95, 0.65, 0.65], &[true, false, true, true], 10);
        assert!((ece - 0.4).abs() < 1e-12, "{ece}");
    }

    #[test]
    fn auroc_of_hand_examples() {
        assert_eq!(
            roc_auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]),
            Some(1.0)
        );
        assert_eq!(
            roc_auc(&[0.9, 0.8, 0.2, 0.1], &[false, false, true, true]),
            Some(0.0)
        );
        // One positive at 0.5 tied with one negative, another positive above all: (1 + 0.5 + 1 + 1)/4.
        let auc = roc_auc(&[0.5, 0.5, 0.9, 0.1], &[true, false, true, false]).unwrap();
        assert!((auc - 0.875).abs() < 1e-12);
        assert_eq!(roc_auc(&[0.1], &[true]), None);
    }
}
