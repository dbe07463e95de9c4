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
    let f = |log_t: f64| nll(logits, labels, k, log_t.exp());
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

    #[test]
    fn overconfident_logits_get_a_temperature_above_one() {
        // Logits say 10:0 but the label is right only 70 % of the time: T > 1 softens them.
        let mut logits = Vec::new();
        let mut labels = Vec::new();
        for i in 0..100 {
            logits.extend_from_slice(&[10.0f32, 0.0]);
            labels.push(usize::from(i % 10 >= 7));
        }
        let t = fit_temperature(&logits, &labels, 2);
        assert!(t > 2.0, "{t}");
        // At the optimum the confidence matches the accuracy: softmax(10/T) ≈ 0.7.
        let mut p = [0.0f32; 2];
        softmax_into(&[10.0, 0.0], t, &mut p);
        assert!((p[0] - 0.7).abs() < 0.01, "{p:?}");
    }
}
