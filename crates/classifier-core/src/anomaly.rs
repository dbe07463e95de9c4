//! Anomaly score from the embedding: the Mahalanobis distance to the nearest class centroid with a
//! shared covariance (Lee et al. 2018, NeurIPS) and the distance to the k-th nearest training
//! embedding on the unit sphere (Sun et al. 2022, ICML, "deep nearest neighbours"), each mapped to
//! [0, 1] by its quantile among training objects, combined with the predictive uncertainty's quantile.

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
}

/// Upper bounds (inclusive) of the token-count buckets; the last bucket is open.
pub const LENGTH_BUCKETS: [usize; 5] = [2, 4, 8, 16, 32];

fn bucket_of(n_tokens: usize) -> usize {
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

fn quantiles(mut v: Vec<f64>) -> Vec<f64> {
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
fn cdf(q: &[f64], x: f64) -> f64 {
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

    /// Score in [0, 1]: the weighted training quantiles of distance, neighbour distance and
    /// uncertainty, among training curves of similar length when so calibrated.
    pub fn score(&self, embedding: &[f32], uncertainty: f32, n_tokens: usize) -> f32 {
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
}
