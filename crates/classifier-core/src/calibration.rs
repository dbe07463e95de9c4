//! Temperature scaling (Guo et al. 2017, ICML): one scalar T divides the logits so that the
//! validation negative log-likelihood is minimal; it leaves the argmax unchanged.

/// Softmax of `logits / temperature` into `out`.
pub fn softmax_into(logits: &[f32], temperature: f32, out: &mut [f32]) {
    let t = if temperature > 0.0 { temperature } else { 1.0 };
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for (o, l) in out.iter_mut().zip(logits) {
        *o = ((l - max) / t).exp();
        sum += *o;
    }
    if sum > 0.0 {
        for o in out.iter_mut() {
            *o /= sum;
        }
    }
}

/// Mean negative log-likelihood of `labels` under `logits / t` (`logits` row-major, `k` wide).
pub fn nll(logits: &[f32], labels: &[usize], k: usize, t: f64) -> f64 {
    if labels.is_empty() || k == 0 {
        return 0.0;
    }
    let mut total = 0.0;
    for (row, &y) in logits.chunks(k).zip(labels) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        let lse = row
            .iter()
            .map(|l| ((*l as f64 - max) / t).exp())
            .sum::<f64>()
            .ln();
        let ly = row.get(y).copied().unwrap_or(0.0) as f64;
        total += lse - (ly - max) / t;
    }
    total / labels.len() as f64
}

/// The temperature in [0.05, 20] minimising the NLL (golden-section search on log T).
pub fn fit_temperature(logits: &[f32], labels: &[usize], k: usize) -> f32 {
    if labels.is_empty() {
        return 1.0;
    }
    minimise_over_log_t(|t| nll(logits, labels, k, t))
}

/// Mean negative log-likelihood of `labels` under the average over `samples` (each row-major,
/// `k` wide) of softmax(logits / t): the MC-dropout predictive distribution inference serves.
pub fn nll_averaged(samples: &[Vec<f32>], labels: &[usize], k: usize, t: f64) -> f64 {
    nll_of_mixture(samples, None, labels, k, t)
}

/// Probabilities of an ensemble member held fixed while the other's temperature is fitted:
/// `probabilities` (row-major, `k` wide) enter the served average with weight `share`.
#[derive(Debug, Clone, Copy)]
pub struct FixedMember<'a> {
    pub probabilities: &'a [f32],
    pub share: f64,
}

/// [`nll_averaged`] of `(1 − share)·(MC average of softmax(logits / t)) + share·fixed`.
pub fn nll_of_mixture(
    samples: &[Vec<f32>],
    fixed: Option<FixedMember>,
    labels: &[usize],
    k: usize,
    t: f64,
) -> f64 {
    if labels.is_empty() || k == 0 || samples.is_empty() {
        return 0.0;
    }
    let share = fixed.map_or(0.0, |f| f.share);
    let mut p = vec![0f64; k];
    let mut total = 0.0;
    for (i, &y) in labels.iter().enumerate() {
        p.iter_mut().for_each(|v| *v = 0.0);
        for sample in samples {
            let Some(row) = sample.get(i * k..(i + 1) * k) else {
                continue;
            };
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let e: Vec<f64> = row.iter().map(|l| ((*l as f64 - max) / t).exp()).collect();
            let sum: f64 = e.iter().sum();
            for (acc, v) in p.iter_mut().zip(&e) {
                *acc += (1.0 - share) * v / sum / samples.len() as f64;
            }
        }
        if let Some(row) = fixed.and_then(|f| f.probabilities.get(i * k..(i + 1) * k)) {
            for (acc, q) in p.iter_mut().zip(row) {
                *acc += share * f64::from(*q);
            }
        }
        total -= p.get(y).copied().unwrap_or(0.0).max(1e-12).ln();
    }
    total / labels.len() as f64
}

/// The temperature minimising [`nll_averaged`]: with MC dropout the served probabilities are
/// averages over samples, which are softer than one deterministic pass, so T is fitted on them.
pub fn fit_temperature_averaged(samples: &[Vec<f32>], labels: &[usize], k: usize) -> f32 {
    if labels.is_empty() || samples.is_empty() {
        return 1.0;
    }
    minimise_over_log_t(|t| nll_averaged(samples, labels, k, t))
}

/// The temperature of one ensemble member minimising the NLL of the served average, the other
/// member's probabilities (`fixed`) held as they are.
pub fn fit_temperature_in_ensemble(
    samples: &[Vec<f32>],
    fixed: FixedMember,
    labels: &[usize],
    k: usize,
) -> f32 {
    if labels.is_empty() || samples.is_empty() {
        return 1.0;
    }
    minimise_over_log_t(|t| nll_of_mixture(samples, Some(fixed), labels, k, t))
}

/// Golden-section search for the T in [0.05, 20] minimising `f(T)`, on log T.
fn minimise_over_log_t(f: impl Fn(f64) -> f64) -> f32 {
    let f = |log_t: f64| f(log_t.exp());
    let (mut a, mut b) = (0.05f64.ln(), 20f64.ln());
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..60 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    (0.5 * (a + b)).exp() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 100 curves with two-class logits `first`:0, whose label is class 0 for 70 of them.
    fn right_seven_times_in_ten(first: f32) -> (Vec<f32>, Vec<usize>) {
        let logits = [first, 0.0].repeat(100);
        let labels = (0..100).map(|i| usize::from(i % 10 >= 7)).collect();
        (logits, labels)
    }

    #[test]
    fn overconfident_logits_get_a_temperature_above_one() {
        // Logits say 10:0 but the label is right only 70 % of the time: T > 1 softens them.
        let (logits, labels) = right_seven_times_in_ten(10.0);
        let t = fit_temperature(&logits, &labels, 2);
        assert!(t > 2.0, "{t}");
        // At the optimum the confidence matches the accuracy: softmax(10/T) ≈ 0.7.
        let mut p = [0.0f32; 2];
        softmax_into(&[10.0, 0.0], t, &mut p);
        assert!((p[0] - 0.7).abs() < 0.01, "{p:?}");
    }

    #[test]
    fn averaged_samples_need_a_lower_temperature_than_one_pass() {
        // Two samples that disagree average to a softer distribution than either; when the
        // labels follow the logits' favourite 90 % of the time, the averaged fit sharpens more.
        let mut one = Vec::new();
        let mut a = Vec::new();
        let mut b = Vec::new();
        let mut labels = Vec::new();
        for i in 0..200 {
            one.extend_from_slice(&[2.0f32, 0.0]);
            a.extend_from_slice(&[4.0f32, 0.0]);
            b.extend_from_slice(&[0.0f32, 0.0]);
            labels.push(usize::from(i % 10 == 9));
        }
        let single = fit_temperature_averaged(std::slice::from_ref(&one), &labels, 2);
        assert!((single - fit_temperature(&one, &labels, 2)).abs() < 1e-3);
        let averaged = fit_temperature_averaged(&[a, b], &labels, 2);
        assert!(averaged < single, "{averaged} vs {single}");
    }

    #[test]
    fn an_unsure_ensemble_member_makes_the_other_sharpen() {
        // Labels follow logits 2:0 70 % of the time. Alone, softmax(2/T) = 0.7 at the optimum:
        // T = 2/ln(7/3). A flat member (0.5, 0.5) holding half the average pulls the served
        // probability towards 0.5, so the other must give 0.9 for it to be 0.7: T = 2/ln 9.
        let (logits, labels) = right_seven_times_in_ten(2.0);
        let flat = vec![0.5f32; 200];
        let samples = std::slice::from_ref(&logits);
        let member = |share| FixedMember {
            probabilities: &flat,
            share,
        };
        let alone = fit_temperature_in_ensemble(samples, member(0.0), &labels, 2);
        assert!((alone - fit_temperature(&logits, &labels, 2)).abs() < 1e-3);
        assert!(
            (f64::from(alone) - 2.0 / (7.0f64 / 3.0).ln()).abs() < 0.01,
            "{alone}"
        );
        let shared = fit_temperature_in_ensemble(samples, member(0.5), &labels, 2);
        assert!(
            (f64::from(shared) - 2.0 / 9f64.ln()).abs() < 0.01,
            "{shared}"
        );
        // Both serve 0.7, so both fits reach the same NLL.
        let nll_alone = nll_of_mixture(samples, Some(member(0.0)), &labels, 2, f64::from(alone));
        let nll_shared = nll_of_mixture(samples, Some(member(0.5)), &labels, 2, f64::from(shared));
        assert!((nll_alone - nll_shared).abs() < 1e-4);
    }
}
