//! Anomaly score from the embedding.
//!
//! Models fitted now use [`ClassGaussians`]: a Gaussian per class over the (square-rooted, unit)
//! embedding, each with its own mean and shrunk covariance; a curve's Mahalanobis distance to the
//! Gaussian of its predicted class is mapped to [0, 1] by its quantile among that class's training
//! views (cross-fitted, so the quantiles are those of unseen curves), then by the quantile of that
//! among training views of similar length (class-conditional Mahalanobis distance: Lee et al.
//! 2018, NeurIPS, here with a covariance per class). Older models keep the Mahalanobis distance to
//! the nearest class centroid with a shared covariance and the distance to the k-th nearest training
//! embedding on the unit sphere (Sun et al. 2022, ICML, "deep nearest neighbours"), each mapped to
//! [0, 1] by its quantile among training objects, combined with the predictive uncertainty's
//! quantile.

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// Number of stored quantiles of each calibration distribution.
const N_QUANTILES: usize = 201;

/// Fitted centroids, whitening and calibration quantiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyModel {
    pub dim: usize,
    /// Whitening matrix W (dim × dim, row-major) with W·Σ·Wᵀ = I.
    pub whitening: Vec<f64>,
    /// Whitened class centroids (n_classes × dim).
    pub centroids: Vec<Vec<f64>>,
    /// Quantiles of the training distance and uncertainty distributions.
    pub distance_quantiles: Vec<f64>,
    pub uncertainty_quantiles: Vec<f64>,
    /// Weight of the distance term (the uncertainty term gets 1 − w − knn weight).
    pub distance_weight: f64,
    /// Nearest-neighbour density of the training embeddings (absent in older models).
    #[serde(default)]
    pub knn: Option<KnnDensity>,
    /// Quantiles per light-curve length: a 3-point alert is compared with other short curves,
    /// not with year-long ones, whose embeddings are denser (absent in older models).
    #[serde(default)]
    pub by_length: Option<LengthCalibration>,
    /// Per-class Gaussians of the embedding; when present the score is theirs alone (absent in
    /// older models).
    #[serde(default)]
    pub class_gaussians: Option<ClassGaussians>,
}

/// Upper bounds (inclusive) of the token-count buckets; the last bucket is open.
pub const LENGTH_BUCKETS: [usize; 5] = [2, 4, 8, 16, 32];

pub(crate) fn bucket_of(n_tokens: usize) -> usize {
    LENGTH_BUCKETS
        .iter()
        .position(|&hi| n_tokens <= hi)
        .unwrap_or(LENGTH_BUCKETS.len())
}

/// Training quantiles of the neighbour distance and the uncertainty per length bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LengthCalibration {
    pub knn_quantiles: Vec<Vec<f64>>,
    pub uncertainty_quantiles: Vec<Vec<f64>>,
}

/// Reference embeddings (L2-normalised, a class-stratified sample of the training views) and the
/// quantiles of the training views' own k-th neighbour distance (leaving themselves out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnnDensity {
    pub k: usize,
    pub dim: usize,
    /// `n × dim`, row-major, unit rows.
    pub reference: Vec<f32>,
    pub distance_quantiles: Vec<f64>,
    /// Weight of this term in the score.
    pub weight: f64,
}

fn unit(embedding: &[f32]) -> Vec<f32> {
    let norm = embedding
        .iter()
        .map(|v| v * v)
        .sum::<f32>()
        .sqrt()
        .max(1e-9);
    embedding.iter().map(|v| v / norm).collect()
}

impl KnnDensity {
    /// Fits on up to `max_reference` training embeddings (every class kept in proportion).
    pub fn fit(
        embeddings: &[f32],
        dim: usize,
        k: usize,
        max_reference: usize,
        weight: f64,
    ) -> Self {
        let n = embeddings.len() / dim.max(1);
        let step = n.div_ceil(max_reference.max(1)).max(1);
        let mut reference = Vec::with_capacity(n.div_ceil(step) * dim);
        for row in embeddings.chunks(dim).step_by(step) {
            reference.extend(unit(row));
        }
        let mut model = KnnDensity {
            k: k.max(1),
            dim,
            reference,
            distance_quantiles: vec![],
            weight,
        };
        // Calibration on the reference itself: the k-th neighbour other than the point itself.
        let own: Vec<f64> = model
            .reference
            .chunks(dim)
            .map(|row| model.kth_distance(row, 1))
            .collect();
        model.distance_quantiles = quantiles(own);
        model
    }

    /// Distance from the unit vector `q` to its (k + skip)-th nearest reference row.
    fn kth_distance(&self, q: &[f32], skip: usize) -> f64 {
        let want = self.k + skip;
        // The `want` smallest squared distances, kept sorted (k is small).
        let mut best: Vec<f32> = Vec::with_capacity(want + 1);
        for row in self.reference.chunks(self.dim) {
            let d: f32 = row.iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum();
            if best.len() < want || d < best[best.len() - 1] {
                let pos = best.partition_point(|x| *x <= d);
                best.insert(pos, d);
                best.truncate(want);
            }
        }
        best.last().map_or(f64::INFINITY, |d| f64::from(*d).sqrt())
    }

    /// k-th nearest-neighbour distance of an embedding (any scale; it is normalised here).
    pub fn distance(&self, embedding: &[f32]) -> f64 {
        self.kth_distance(&unit(embedding), 0)
    }
}

pub(crate) fn quantiles(mut v: Vec<f64>) -> Vec<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return vec![0.0, 1.0];
    }
    v.sort_by(f64::total_cmp);
    (0..N_QUANTILES)
        .map(|i| v[(i * (v.len() - 1)) / (N_QUANTILES - 1)])
        .collect()
}

/// Fraction of the calibration distribution below `x`: piecewise linear through the distinct
/// stored quantiles (a run of equal quantiles counts at its middle rank), so the score is
/// continuous in `x` and float noise in the embedding cannot make it jump.
pub(crate) fn cdf(q: &[f64], x: f64) -> f64 {
    if q.is_empty() || !x.is_finite() {
        return 1.0;
    }
    let n = q.len();
    if n == 1 {
        return if x < q[0] { 0.0 } else { 1.0 };
    }
    // Knots: (value, rank fraction) of each run of equal values.
    let mut knots: Vec<(f64, f64)> = Vec::new();
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && q[j + 1] == q[i] {
            j += 1;
        }
        let rank = if i == 0 {
            0.0
        } else if j == n - 1 {
            (n - 1) as f64
        } else {
            0.5 * (i + j) as f64
        };
        knots.push((q[i], rank / (n - 1) as f64));
        i = j + 1;
    }
    let pos = knots.partition_point(|k| k.0 < x);
    if pos == 0 {
        return if x < knots[0].0 { 0.0 } else { knots[0].1 };
    }
    if pos >= knots.len() {
        return 1.0;
    }
    let ((a, ya), (b, yb)) = (knots[pos - 1], knots[pos]);
    ya + (yb - ya) * (x - a) / (b - a)
}

/// Shift of the embedding before its square root (the GELU output is above −0.17).
const GAUSSIAN_SHIFT: f32 = 0.2;

/// The embedding as the Gaussians see it: `√max(e + shift, 0)`, scaled to unit length. The square
/// root evens out the GELU output's long right tail; the unit length removes the overall scale,
/// which shrinks as curves get shorter.
fn gaussian_input(embedding: &[f32], shift: f32) -> Vec<f64> {
    let v: Vec<f64> = embedding
        .iter()
        .map(|e| f64::from((e + shift).max(0.0)).sqrt())
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
    v.into_iter().map(|x| x / norm).collect()
}

/// One class's Gaussian: its mean and the whitening `L⁻¹` of its shrunk covariance `L·Lᵀ`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassGaussian {
    pub mean: Vec<f64>,
    /// `dim × dim`, row-major, lower triangular.
    pub whitening: Vec<f64>,
    /// Quantiles of the (cross-fitted) squared distances of the class's training views.
    pub quantiles: Vec<f64>,
}

impl ClassGaussian {
    /// Fits on the rows `x` (each of length `dim`); `None` with fewer than two rows.
    fn fit(rows: &[&[f64]], dim: usize, shrinkage: f64) -> Option<Self> {
        if rows.len() < 2 {
            return None;
        }
        let n = rows.len() as f64;
        let mut mean = vec![0.0; dim];
        for r in rows {
            for (m, v) in mean.iter_mut().zip(r.iter()) {
                *m += v / n;
            }
        }
        let mut cov = DMatrix::<f64>::zeros(dim, dim);
        let mut d = DVector::<f64>::zeros(dim);
        for r in rows {
            for i in 0..dim {
                d[i] = r[i] - mean[i];
            }
            cov.syger(1.0 / n, &d, &d, 1.0);
        }
        // `syger` fills the lower triangle only.
        cov.fill_upper_triangle_with_lower_triangle();
        let avg_var = cov.trace() / dim.max(1) as f64;
        let ridge = shrinkage * avg_var.max(1e-12) + 1e-12;
        for i in 0..dim {
            cov[(i, i)] += ridge;
        }
        let whitening = cov.cholesky()?.l().try_inverse()?;
        Some(ClassGaussian {
            mean,
            whitening: whitening.transpose().as_slice().to_vec(),
            quantiles: vec![],
        })
    }

    /// Squared Mahalanobis distance of `x`.
    fn distance2(&self, x: &[f64]) -> f64 {
        let dim = self.mean.len();
        let centred: Vec<f64> = x.iter().zip(&self.mean).map(|(a, m)| a - m).collect();
        (0..dim)
            .map(|i| {
                let row = &self.whitening[i * dim..i * dim + i + 1];
                let z: f64 = row.iter().zip(&centred).map(|(w, c)| w * c).sum();
                z * z
            })
            .sum()
    }
}

/// Class-conditional Gaussians of the embedding and the calibration of their score.
///
/// A curve is compared with the Gaussian of the class the network predicts (the class head is
/// linear in the embedding; its weights are recovered from the training views' logits by least
/// squares, so the score needs nothing but the embedding). The squared Mahalanobis distance is
/// turned into its quantile among that class's training views, and that into its quantile among
/// training views of the curve's length bucket, so normal curves of every length score uniformly
/// on [0, 1] and a short early alert is not anomalous for being short.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassGaussians {
    pub dim: usize,
    /// Shift of the embedding before its square root.
    pub shift: f32,
    /// Class head recovered from the training logits: `n_classes × dim`, row-major, and biases.
    pub head_weights: Vec<f64>,
    pub head_bias: Vec<f64>,
    /// One Gaussian per class (a class without training views gets the pooled one).
    pub classes: Vec<ClassGaussian>,
    /// Quantiles of the training views' class-quantile score per length bucket
    /// ([`LENGTH_BUCKETS`]), and over all lengths (for buckets without training views).
    pub length_quantiles: Vec<Vec<f64>>,
    pub overall_quantiles: Vec<f64>,
}

/// What [`ClassGaussians::fit`] needs besides the embeddings.
#[derive(Debug, Clone, Copy)]
pub struct GaussianFitInputs<'a> {
    /// Deterministic logits of the same views (`n × n_classes`, row-major).
    pub logits: &'a [f32],
    pub labels: &'a [usize],
    /// Object of each view: views of one object go to the same cross-fitting fold.
    pub groups: &'a [u64],
    pub n_tokens: &'a [usize],
    pub n_classes: usize,
    /// Covariance shrinkage: this fraction of the average variance is added to the diagonal.
    pub shrinkage: f64,
    /// Cross-fitting folds for the calibration quantiles (≤ 1: in-sample).
    pub folds: usize,
}

impl ClassGaussians {
    /// Fits on training embeddings (`n × dim`, row-major).
    pub fn fit(embeddings: &[f32], dim: usize, inputs: GaussianFitInputs<'_>) -> Self {
        let GaussianFitInputs {
            logits,
            labels,
            groups,
            n_tokens,
            n_classes,
            shrinkage,
            folds,
        } = inputs;
        let shift = GAUSSIAN_SHIFT;
        let n = labels.len().min(embeddings.len() / dim.max(1));
        let x: Vec<Vec<f64>> = embeddings
            .chunks(dim)
            .take(n)
            .map(|e| gaussian_input(e, shift))
            .collect();
        let (head_weights, head_bias) = fit_linear_head(embeddings, logits, dim, n_classes, n);
        let predicted: Vec<usize> = logits
            .chunks(n_classes)
            .take(n)
            .map(crate::inference::argmax)
            .collect();

        // Gaussians on the given rows (`None` for a class with fewer than two of them).
        let fit_all = |keep: &dyn Fn(usize) -> bool| -> Vec<Option<ClassGaussian>> {
            let mut members: Vec<Vec<&[f64]>> = vec![Vec::new(); n_classes];
            for i in (0..n).filter(|&i| keep(i)) {
                if labels[i] < n_classes {
                    members[labels[i]].push(&x[i]);
                }
            }
            members
                .iter()
                .map(|rows| ClassGaussian::fit(rows, dim, shrinkage))
                .collect()
        };
        let all_rows: Vec<&[f64]> = x.iter().map(Vec::as_slice).collect();
        let pooled = ClassGaussian::fit(&all_rows, dim, shrinkage);
        let full = fit_all(&|_| true);

        // Cross-fitted squared distances of every view to its label's and its prediction's
        // Gaussian; a view whose fold left a class too few rows uses the full fit.
        let folds = folds.max(1);
        let mut to_label = vec![f64::NAN; n];
        let mut to_predicted = vec![f64::NAN; n];
        for k in 0..folds {
            let fold_of = |i: usize| groups.get(i).map_or(0, |g| (g % folds as u64) as usize);
            let trained = if folds > 1 {
                fit_all(&|i| fold_of(i) != k)
            } else {
                full.clone()
            };
            let pick = |c: usize| {
                trained
                    .get(c)
                    .and_then(Option::as_ref)
                    .or_else(|| full.get(c).and_then(Option::as_ref))
                    .or(pooled.as_ref())
            };
            for i in (0..n).filter(|&i| fold_of(i) == k) {
                if let Some(g) = pick(labels[i]) {
                    to_label[i] = g.distance2(&x[i]);
                }
                if let Some(g) = pick(predicted[i]) {
                    to_predicted[i] = g.distance2(&x[i]);
                }
            }
        }
        // A class without training views gets the pooled Gaussian, calibrated on every view.
        let fallback = pooled.map(|mut g| {
            g.quantiles = quantiles(x.iter().map(|r| g.distance2(r)).collect());
            g
        });
        let classes: Vec<ClassGaussian> = match &fallback {
            None => vec![],
            Some(fallback) => full
                .into_iter()
                .enumerate()
                .map(|(c, g)| match g {
                    Some(mut g) => {
                        let own = (0..n)
                            .filter(|&i| labels[i] == c)
                            .map(|i| to_label[i])
                            .collect();
                        g.quantiles = quantiles(own);
                        g
                    }
                    None => fallback.clone(),
                })
                .collect(),
        };
        let mut model = ClassGaussians {
            dim,
            shift,
            head_weights,
            head_bias,
            classes,
            length_quantiles: vec![],
            overall_quantiles: vec![],
        };
        let mut by_bucket = vec![Vec::new(); LENGTH_BUCKETS.len() + 1];
        let mut overall = Vec::with_capacity(n);
        for i in 0..n {
            let Some(g) = model.classes.get(predicted[i]) else {
                continue;
            };
            let s = cdf(&g.quantiles, to_predicted[i]);
            by_bucket[bucket_of(n_tokens.get(i).copied().unwrap_or(0))].push(s);
            overall.push(s);
        }
        model.length_quantiles = by_bucket.into_iter().map(quantiles).collect();
        model.overall_quantiles = quantiles(overall);
        model
    }

    /// The class the recovered head predicts for an embedding.
    pub fn predicted_class(&self, embedding: &[f32]) -> usize {
        let mut best = (0, f64::NEG_INFINITY);
        for (c, (w, b)) in self
            .head_weights
            .chunks(self.dim.max(1))
            .zip(&self.head_bias)
            .enumerate()
        {
            let z = b + w
                .iter()
                .zip(embedding)
                .map(|(w, e)| w * f64::from(*e))
                .sum::<f64>();
            if z > best.1 {
                best = (c, z);
            }
        }
        best.0
    }

    /// Score in [0, 1] of an embedding of a curve with `n_tokens` tokens.
    pub fn score(&self, embedding: &[f32], n_tokens: usize) -> f32 {
        let Some(g) = self.classes.get(self.predicted_class(embedding)) else {
            return 1.0;
        };
        let s = cdf(
            &g.quantiles,
            g.distance2(&gaussian_input(embedding, self.shift)),
        );
        let q = self
            .length_quantiles
            .get(bucket_of(n_tokens))
            .filter(|q| q.len() > 2)
            .unwrap_or(&self.overall_quantiles);
        cdf(q, s).clamp(0.0, 1.0) as f32
    }
}

/// Least-squares linear map from the embeddings to the logits (`n_classes × dim` weights and the
/// biases): the network's class head is linear, so this recovers it to float precision.
fn fit_linear_head(
    embeddings: &[f32],
    logits: &[f32],
    dim: usize,
    n_classes: usize,
    n: usize,
) -> (Vec<f64>, Vec<f64>) {
    let p = dim + 1;
    let mut ata = DMatrix::<f64>::zeros(p, p);
    let mut aty = DMatrix::<f64>::zeros(p, n_classes);
    let mut a = DVector::<f64>::zeros(p);
    for (e, l) in embeddings.chunks(dim).zip(logits.chunks(n_classes)).take(n) {
        for (ai, v) in a.iter_mut().zip(e) {
            *ai = f64::from(*v);
        }
        a[dim] = 1.0;
        ata.syger(1.0, &a, &a, 1.0);
        for (c, y) in l.iter().enumerate() {
            for j in 0..p {
                aty[(j, c)] += a[j] * f64::from(*y);
            }
        }
    }
    ata.fill_upper_triangle_with_lower_triangle();
    // A tiny ridge keeps constant (dead) embedding units from making the system singular.
    let scale = ata.trace() / p as f64;
    for j in 0..p {
        ata[(j, j)] += 1e-10 * scale.max(1e-12);
    }
    let solution = ata
        .cholesky()
        .map(|ch| ch.solve(&aty))
        .unwrap_or_else(|| DMatrix::zeros(p, n_classes));
    let mut weights = Vec::with_capacity(n_classes * dim);
    let mut bias = Vec::with_capacity(n_classes);
    for c in 0..n_classes {
        weights.extend((0..dim).map(|j| solution[(j, c)]));
        bias.push(solution[(dim, c)]);
    }
    (weights, bias)
}

impl AnomalyModel {
    /// Fits on training embeddings (`n × dim`, row-major), their labels and uncertainties.
    pub fn fit(
        embeddings: &[f32],
        labels: &[usize],
        uncertainties: &[f32],
        dim: usize,
        n_classes: usize,
    ) -> AnomalyModel {
        let n = labels.len();
        let mut sums = vec![vec![0.0f64; dim]; n_classes];
        let mut counts = vec![0usize; n_classes];
        for (row, &y) in embeddings.chunks(dim).zip(labels) {
            if y < n_classes {
                counts[y] += 1;
                for (s, v) in sums[y].iter_mut().zip(row) {
                    *s += f64::from(*v);
                }
            }
        }
        let means: Vec<Vec<f64>> = sums
            .iter()
            .zip(&counts)
            .map(|(s, &c)| s.iter().map(|v| v / c.max(1) as f64).collect())
            .collect();
        // Shared covariance of the class-centred embeddings, shrunk towards its diagonal scale.
        let mut cov = DMatrix::<f64>::zeros(dim, dim);
        for (row, &y) in embeddings.chunks(dim).zip(labels) {
            if y >= n_classes {
                continue;
            }
            let d = DVector::from_iterator(
                dim,
                row.iter().zip(&means[y]).map(|(v, m)| f64::from(*v) - m),
            );
            cov += &d * d.transpose();
        }
        cov /= n.max(1) as f64;
        let avg_var = cov.trace() / dim.max(1) as f64;
        let ridge = 1e-3 * avg_var.max(1e-9) + 1e-9;
        for i in 0..dim {
            cov[(i, i)] += ridge;
        }
        let whitening = match cov.clone().cholesky() {
            Some(ch) => ch
                .l()
                .try_inverse()
                .unwrap_or_else(|| DMatrix::identity(dim, dim)),
            None => DMatrix::identity(dim, dim),
        };
        let centroids = means
            .iter()
            .map(|m| {
                (&whitening * DVector::from_column_slice(m))
                    .iter()
                    .copied()
                    .collect()
            })
            .collect();
        let mut model = AnomalyModel {
            dim,
            whitening: whitening.transpose().as_slice().to_vec(),
            centroids,
            distance_quantiles: vec![],
            uncertainty_quantiles: vec![],
            distance_weight: 0.5,
            knn: None,
            by_length: None,
            class_gaussians: None,
        };
        let distances: Vec<f64> = embeddings.chunks(dim).map(|e| model.distance(e)).collect();
        model.distance_quantiles = quantiles(distances);
        model.uncertainty_quantiles =
            quantiles(uncertainties.iter().map(|u| f64::from(*u)).collect());
        model
    }

    /// Mahalanobis distance to the nearest class centroid.
    pub fn distance(&self, embedding: &[f32]) -> f64 {
        let dim = self.dim;
        let mut z = vec![0.0f64; dim];
        for (i, zi) in z.iter_mut().enumerate() {
            let row = &self.whitening[i * dim..(i + 1) * dim];
            *zi = row
                .iter()
                .zip(embedding)
                .map(|(w, e)| w * f64::from(*e))
                .sum();
        }
        self.centroids
            .iter()
            .map(|c| c.iter().zip(&z).map(|(a, b)| (a - b).powi(2)).sum::<f64>())
            .fold(f64::INFINITY, f64::min)
            .sqrt()
    }

    /// Scores with per-class Gaussians instead of the distance, neighbour and uncertainty terms.
    pub fn with_class_gaussians(mut self, gaussians: ClassGaussians) -> Self {
        self.class_gaussians = Some(gaussians);
        self
    }

    /// Adds the nearest-neighbour term with weight `weight`, taken from the uncertainty term.
    pub fn with_knn(mut self, knn: KnnDensity) -> Self {
        self.knn = Some(knn);
        self
    }

    /// Calibrates the neighbour-distance and uncertainty quantiles per length bucket, from
    /// training embeddings (`n × dim`), their uncertainties and token counts. Needs the k-NN term.
    pub fn with_length_calibration(
        mut self,
        embeddings: &[f32],
        uncertainties: &[f32],
        n_tokens: &[usize],
    ) -> Self {
        let Some(knn) = &self.knn else {
            return self;
        };
        let n_buckets = LENGTH_BUCKETS.len() + 1;
        let mut dist = vec![Vec::new(); n_buckets];
        let mut unc = vec![Vec::new(); n_buckets];
        for ((e, u), &n) in embeddings.chunks(knn.dim).zip(uncertainties).zip(n_tokens) {
            let b = bucket_of(n);
            // Rows of the reference itself find themselves at distance 0: skip that one.
            let q = unit(e);
            let own = knn.reference.chunks(knn.dim).any(|r| r == q.as_slice());
            dist[b].push(knn.kth_distance(&q, usize::from(own)));
            unc[b].push(f64::from(*u));
        }
        self.by_length = Some(LengthCalibration {
            knn_quantiles: dist.into_iter().map(quantiles).collect(),
            uncertainty_quantiles: unc.into_iter().map(quantiles).collect(),
        });
        self
    }

    /// Score in [0, 1]: the per-class Gaussians' score when fitted, else the weighted training
    /// quantiles of distance, neighbour distance and uncertainty, among training curves of similar
    /// length when so calibrated.
    pub fn score(&self, embedding: &[f32], uncertainty: f32, n_tokens: usize) -> f32 {
        if let Some(g) = &self.class_gaussians {
            return g.score(embedding, n_tokens);
        }
        let d = cdf(&self.distance_quantiles, self.distance(embedding));
        let bucket = self.by_length.as_ref().and_then(|c| {
            let b = bucket_of(n_tokens);
            // A bucket with too few training curves falls back to the overall quantiles.
            let k = c.knn_quantiles.get(b).filter(|q| q.len() > 2)?;
            let u = c.uncertainty_quantiles.get(b).filter(|q| q.len() > 2)?;
            Some((k, u))
        });
        let u = cdf(
            bucket.map_or(&self.uncertainty_quantiles, |(_, u)| u),
            f64::from(uncertainty),
        );
        let (k, wk) = self.knn.as_ref().map_or((0.0, 0.0), |m| {
            let q = bucket.map_or(&m.distance_quantiles, |(k, _)| k);
            (cdf(q, m.distance(embedding)), m.weight)
        });
        let wu = (1.0 - self.distance_weight - wk).max(0.0);
        (self.distance_weight * d + wk * k + wu * u).clamp(0.0, 1.0) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_is_continuous_over_ties() {
        let q = [0.0, 1.0, 1.0, 1.0, 2.0];
        assert_eq!(cdf(&q, -1.0), 0.0);
        assert_eq!(cdf(&q, 3.0), 1.0);
        let below = cdf(&q, 1.0 - 1e-9);
        let above = cdf(&q, 1.0 + 1e-9);
        assert!((below - above).abs() < 1e-6, "{below} vs {above}");
        assert!((cdf(&q, 1.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn far_points_score_higher() {
        // Two classes around (0,0) and (10,0) with unit spread.
        let mut emb = Vec::new();
        let mut labels = Vec::new();
        for i in 0..200 {
            let a = (i as f32 * 0.37).sin();
            let b = (i as f32 * 0.91).cos();
            let cls = i % 2;
            emb.extend_from_slice(&[a + 10.0 * cls as f32, b]);
            labels.push(cls);
        }
        let unc = vec![0.1f32; 200];
        let m = AnomalyModel::fit(&emb, &labels, &unc, 2, 2);
        let near = m.score(&[0.1, 0.1], 0.1, 10);
        let far = m.score(&[5.0, 30.0], 0.1, 10);
        assert!(far > near, "{far} vs {near}");
        assert!((0.0..=1.0).contains(&near) && (0.0..=1.0).contains(&far));
        assert!(m.distance(&[10.0, 0.0]) < 0.5);
    }

    #[test]
    fn neighbour_distance_grows_away_from_the_training_embeddings() {
        // Training embeddings on two directions of the plane; a query between them is far.
        let mut emb = Vec::new();
        for i in 0..100 {
            let jitter = (i as f32 * 0.37).sin() * 0.05;
            if i % 2 == 0 {
                emb.extend_from_slice(&[1.0, jitter]);
            } else {
                emb.extend_from_slice(&[jitter, 1.0]);
            }
        }
        let knn = KnnDensity::fit(&emb, 2, 5, 100, 1.0);
        assert_eq!(knn.reference.len(), 2 * 100);
        assert!(knn.distance(&[3.0, 0.0]) < 0.1);
        assert!(knn.distance(&[1.0, 1.0]) > 0.5);
        let unc = vec![0.1f32; 100];
        let labels: Vec<usize> = (0..100).map(|i| i % 2).collect();
        let mut m = AnomalyModel::fit(&emb, &labels, &unc, 2, 2).with_knn(knn);
        m.distance_weight = 0.0;
        let near = m.score(&[2.0, 0.01], 0.1, 10);
        let far = m.score(&[1.0, 1.0], 0.1, 10);
        assert!(
            far > 0.9 && near < 0.8 && near < far,
            "far {far}, near {near}"
        );
    }

    /// Uniform noise in [−1, 1] from a seeded generator.
    fn noise(rng: &mut rand_chacha::ChaCha8Rng) -> f32 {
        use rand::Rng;
        rng.random_range(-1.0f32..=1.0)
    }

    /// Two classes of 4-d embeddings (positive, like GELU outputs) with a linear head, the first
    /// `n_short` views of each class short (2 tokens) and three times as spread.
    fn two_classes(
        n: usize,
        n_short: usize,
        seed: u64,
    ) -> (Vec<f32>, Vec<f32>, Vec<usize>, Vec<usize>) {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let centres = [[1.0f32, 0.2, 0.5, 0.3], [0.2, 1.0, 0.3, 0.5]];
        let (mut emb, mut logits, mut labels, mut tokens) = (vec![], vec![], vec![], vec![]);
        for i in 0..n {
            let class = i % 2;
            let short = i / 2 < n_short;
            let spread = if short { 0.15 } else { 0.05 };
            let e: Vec<f32> = centres[class]
                .iter()
                .map(|c| c + spread * noise(&mut rng))
                .collect();
            logits.extend([e[0] - e[1] + 0.1, e[1] - e[0] - 0.1]);
            emb.extend(e);
            labels.push(class);
            tokens.push(if short { 2 } else { 60 });
        }
        (emb, logits, labels, tokens)
    }

    fn gaussians(
        emb: &[f32],
        logits: &[f32],
        labels: &[usize],
        tokens: &[usize],
    ) -> ClassGaussians {
        let groups: Vec<u64> = (0..labels.len() as u64).collect();
        ClassGaussians::fit(
            emb,
            4,
            GaussianFitInputs {
                logits,
                labels,
                groups: &groups,
                n_tokens: tokens,
                n_classes: 2,
                shrinkage: 0.1,
                folds: 5,
            },
        )
    }

    #[test]
    fn the_linear_head_is_recovered_from_the_logits() {
        let (emb, logits, _, _) = two_classes(200, 0, 1);
        let (w, b) = fit_linear_head(&emb, &logits, 4, 2, 200);
        let expected = [1.0, -1.0, 0.0, 0.0, -1.0, 1.0, 0.0, 0.0];
        for (got, want) in w.iter().zip(expected) {
            assert!((got - want).abs() < 1e-3, "{w:?}");
        }
        assert!(
            (b[0] - 0.1).abs() < 1e-3 && (b[1] + 0.1).abs() < 1e-3,
            "{b:?}"
        );
    }

    #[test]
    fn class_gaussians_flag_embeddings_unlike_their_predicted_class() {
        let (emb, logits, labels, tokens) = two_classes(400, 0, 2);
        let g = gaussians(&emb, &logits, &labels, &tokens);
        assert_eq!(g.classes.len(), 2);
        assert_eq!(g.predicted_class(&[1.0, 0.2, 0.5, 0.3]), 0);
        assert_eq!(g.predicted_class(&[0.2, 1.0, 0.3, 0.5]), 1);
        let typical = g.score(&[1.0, 0.2, 0.5, 0.3], 60);
        // Predicted class 0, but its last two coordinates are unlike that class's.
        let odd = g.score(&[1.0, 0.2, 0.1, 0.9], 60);
        assert!(typical < 0.5 && odd > 0.99, "typical {typical}, odd {odd}");
        let mut m = AnomalyModel::fit(&emb, &labels, &vec![0.1; 400], 4, 2);
        m = m.with_class_gaussians(g.clone());
        assert_eq!(m.score(&[1.0, 0.2, 0.1, 0.9], 0.0, 60), odd);
        for x in [
            [0.0f32; 4],
            [5.0, -3.0, 0.0, 9.0],
            [f32::MAX, 0.0, 0.0, 0.0],
        ] {
            let s = g.score(&x, 3);
            assert!((0.0..=1.0).contains(&s), "{s}");
        }
    }

    #[test]
    fn short_curves_are_compared_with_short_curves() {
        // Short training views are more spread: fresh short curves must not score high just for
        // that, while fresh long ones keep scoring uniformly.
        let (emb, logits, labels, tokens) = two_classes(2000, 300, 3);
        let g = gaussians(&emb, &logits, &labels, &tokens);
        let (fresh, _, _, fresh_tokens) = two_classes(2000, 300, 4);
        let mut high = [0usize; 2];
        let mut count = [0usize; 2];
        for (e, &t) in fresh.chunks(4).zip(&fresh_tokens) {
            let short = usize::from(t == 2);
            count[short] += 1;
            high[short] += usize::from(g.score(e, t) > 0.9);
        }
        for b in 0..2 {
            let fraction = high[b] as f64 / count[b] as f64;
            assert!((0.03..0.18).contains(&fraction), "bucket {b}: {fraction}");
        }
    }

    #[test]
    fn models_saved_before_the_class_gaussians_still_load() {
        let (emb, logits, labels, tokens) = two_classes(200, 0, 5);
        let unc = vec![0.2f32; 200];
        let old = AnomalyModel::fit(&emb, &labels, &unc, 4, 2)
            .with_knn(KnnDensity::fit(&emb, 4, 5, 100, 0.85))
            .with_length_calibration(&emb, &unc, &tokens);
        let mut json = serde_json::to_value(&old).unwrap();
        json.as_object_mut().unwrap().remove("class_gaussians");
        let loaded: AnomalyModel = serde_json::from_value(json).unwrap();
        assert_eq!(loaded, old);
        assert!(loaded.class_gaussians.is_none());
        let new = old.with_class_gaussians(gaussians(&emb, &logits, &labels, &tokens));
        // Through text (as `classifier.json`), up to the last digit of the floats.
        let text = serde_json::to_string(&new).unwrap();
        let reloaded: AnomalyModel = serde_json::from_str(&text).unwrap();
        assert!(reloaded.class_gaussians.is_some());
        for e in emb.chunks(4).take(20) {
            let (a, b) = (new.score(e, 0.2, 60), reloaded.score(e, 0.2, 60));
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }
}
