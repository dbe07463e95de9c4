//! Gaussian-process interpolation over time × log wavelength.
//!
//! After Boone 2019 (Avocado, AJ 158, 257): a 2-D Matérn-3/2 kernel over (time, wavelength) with each
//! measurement's variance on the diagonal, fitted per object, then evaluated on a fixed grid so that
//! every light curve, whatever its cadence and bands, becomes the same small image with an
//! uncertainty per pixel. Here the amplitude comes from robust statistics and the time length scale
//! is the best of a few candidates by marginal likelihood (Rasmussen & Williams 2006, eq. 2.30),
//! which keeps a fit under a millisecond.

use nalgebra::{Cholesky, DMatrix, DVector, Dyn};
use serde::{Deserialize, Serialize};

use crate::lightcurve::LightCurve;

/// √3, Matérn-3/2 (Rasmussen & Williams 2006, eq. 4.17).
const SQRT3: f64 = 1.732_050_807_568_877_2;
/// Reference wavelength (Å) of the log-wavelength axis.
pub const REFERENCE_WAVELENGTH: f64 = 6000.0;

/// How to fit and sample the GP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpConfig {
    /// Candidate time length scales (days); the one with the highest marginal likelihood wins.
    pub time_scales: Vec<f64>,
    /// Length scale in ln(λ): 1.0 correlates g and i strongly (Avocado fixes 6000 Å in λ).
    pub log_wavelength_scale: f64,
    /// Points beyond this many (after merging same-night same-band points) are subsampled evenly.
    pub max_points: usize,
    /// Number of grid times, spread evenly over the observed span.
    pub grid_times: usize,
    /// Grid wavelengths (Å).
    pub grid_wavelengths: Vec<f64>,
}

impl Default for GpConfig {
    fn default() -> Self {
        GpConfig {
            time_scales: vec![2.0, 8.0, 30.0, 100.0, 300.0],
            log_wavelength_scale: 1.0,
            max_points: 64,
            grid_times: 16,
            grid_wavelengths: vec![4800.0, 6300.0, 7900.0],
        }
    }
}

/// A normalised observation the GP saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpPoint {
    pub mjd: f64,
    /// ln(λ / 6000 Å).
    pub log_wavelength: f64,
    /// Flux divided by [`GpFit::scale`].
    pub flux: f64,
    pub flux_err: f64,
    pub detected: bool,
}

/// The fitted GP evaluated on the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GpFit {
    /// Normalisation: fluxes were divided by this (nJy); multiply to invert.
    pub scale: f64,
    /// Kernel amplitude (normalised flux units) and the chosen time length scale (days).
    pub amplitude: f64,
    pub time_scale: f64,
    /// Log marginal likelihood per point of the chosen fit.
    pub log_likelihood: f64,
    /// Grid times (MJD), evenly from the first to the last point.
    pub times: Vec<f64>,
    pub wavelengths: Vec<f64>,
    /// Posterior mean and σ on the grid, time-major: `[t * n_wavelengths + w]`, normalised.
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    /// The points after merging and subsampling, normalised.
    pub points: Vec<GpPoint>,
}

/// Matérn-3/2 covariance at scaled distance r.
#[inline]
fn matern32(amp2: f64, r: f64) -> f64 {
    let s = SQRT3 * r;
    amp2 * (1.0 + s) * (-s).exp()
}

#[inline]
fn scaled_distance(dt: f64, dl: f64, lt: f64, ll: f64) -> f64 {
    ((dt / lt).powi(2) + (dl / ll).powi(2)).sqrt()
}

/// Normalisation scale of a light curve (nJy): the largest |flux| among points with |S/N| ≥ 3, at
/// least the median flux error (so noise is not blown up), at least 1 nJy.
pub fn flux_scale(lc: &LightCurve) -> f64 {
    let mut errs: Vec<f64> = lc.points.iter().map(|p| p.flux_err_njy).collect();
    let median_err = median(&mut errs).unwrap_or(1.0);
    let peak = lc
        .points
        .iter()
        .filter(|p| (p.flux_njy / p.flux_err_njy).abs() >= 3.0)
        .map(|p| p.flux_njy.abs())
        .fold(0.0, f64::max);
    peak.max(median_err).max(1.0)
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

/// Merges points of the same band within the same night (inverse-variance weighted) and
/// subsamples evenly down to `max_points`, normalised by `scale`.
fn prepare_points(lc: &LightCurve, scale: f64, max_points: usize) -> Vec<GpPoint> {
    let mut merged: Vec<(GpPoint, f64)> = Vec::with_capacity(lc.points.len());
    for p in &lc.points {
        let Some(lambda) = p.band.effective_wavelength(lc.survey) else {
            continue;
        };
        let lw = (lambda / REFERENCE_WAVELENGTH).ln();
        let w = 1.0 / (p.flux_err_njy * p.flux_err_njy);
        let same_night = merged
            .iter_mut()
            .rev()
            .take_while(|(q, _)| p.mjd - q.mjd < 0.5)
            .find(|(q, _)| q.log_wavelength == lw);
        if let Some((q, wsum)) = same_night {
            let nw = *wsum + w;
            q.flux = (q.flux * *wsum + p.flux_njy * w) / nw;
            q.detected |= p.detected;
            *wsum = nw;
        } else {
            merged.push((
                GpPoint {
                    mjd: p.mjd,
                    log_wavelength: lw,
                    flux: p.flux_njy,
                    flux_err: 0.0,
                    detected: p.detected,
                },
                w,
            ));
        }
    }
    let mut out: Vec<GpPoint> = merged
        .into_iter()
        .map(|(mut q, wsum)| {
            q.flux /= scale;
            q.flux_err = (1.0 / wsum).sqrt() / scale;
            q
        })
        .collect();
    if out.len() > max_points && max_points > 0 {
        let n = out.len();
        out = (0..max_points)
            .map(|k| out[k * (n - 1) / (max_points - 1).max(1)])
            .collect();
    }
    out
}

/// The best time scale so far: its log marginal likelihood, the kernel's Cholesky factor and
/// K⁻¹y.
struct Candidate {
    log_likelihood: f64,
    time_scale: f64,
    cholesky: Cholesky<f64, Dyn>,
    alpha: DVector<f64>,
}

/// Fits the GP to `lc` and evaluates it on the grid of `config`. A curve without points gives a
/// zero mean with the prior σ.
pub fn fit(lc: &LightCurve, config: &GpConfig) -> GpFit {
    let scale = flux_scale(lc);
    let points = prepare_points(lc, scale, config.max_points);
    let n = points.len();
    let nw = config.grid_wavelengths.len();
    let (t0, t1) = match (points.first(), points.last()) {
        (Some(a), Some(b)) => (a.mjd, b.mjd),
        _ => (0.0, 0.0),
    };
    let nt = config.grid_times.max(1);
    let times: Vec<f64> = (0..nt)
        .map(|k| {
            if nt == 1 {
                t1
            } else {
                t0 + (t1 - t0) * k as f64 / (nt - 1) as f64
            }
        })
        .collect();
    let grid_lw: Vec<f64> = config
        .grid_wavelengths
        .iter()
        .map(|l| (l / REFERENCE_WAVELENGTH).ln())
        .collect();

    // Amplitude from robust statistics: the rms of the normalised flux, floored.
    let amp2 = if n == 0 {
        1.0
    } else {
        (points.iter().map(|p| p.flux * p.flux).sum::<f64>() / n as f64).max(0.01)
    };
    let ll = config.log_wavelength_scale;
    let y = DVector::from_iterator(n, points.iter().map(|p| p.flux));

    // The kernel is symmetric and the pairs' separations do not depend on the candidate scale:
    // each pair below the diagonal gets its (Δt, Δln λ) once and its covariance once per scale,
    // mirrored above (x − y = −(y − x) exactly, so the matrix is the one a full evaluation gives).
    let lower_pairs = || (0..n).flat_map(|i| (0..=i).map(move |j| (i, j)));
    let separations: Vec<(f64, f64)> = lower_pairs()
        .map(|(i, j)| {
            let (a, b) = (&points[i], &points[j]);
            (a.mjd - b.mjd, a.log_wavelength - b.log_wavelength)
        })
        .collect();
    let mut best: Option<Candidate> = None;
    if n > 0 {
        for &lt in &config.time_scales {
            let mut k = DMatrix::zeros(n, n);
            for ((i, j), &(dt, dl)) in lower_pairs().zip(&separations) {
                let mut v = matern32(amp2, scaled_distance(dt, dl, lt, ll));
                if i == j {
                    v += points[i].flux_err * points[i].flux_err + 1e-9;
                }
                k[(i, j)] = v;
                k[(j, i)] = v;
            }
            let Some(chol) = k.cholesky() else { continue };
            let alpha = chol.solve(&y);
            let log_det: f64 = chol
                .l_dirty()
                .diagonal()
                .iter()
                .map(|d| d.ln())
                .sum::<f64>();
            let ll_value =
                -0.5 * y.dot(&alpha) - log_det - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
            if best.as_ref().is_none_or(|b| ll_value > b.log_likelihood) {
                best = Some(Candidate {
                    log_likelihood: ll_value,
                    time_scale: lt,
                    cholesky: chol,
                    alpha,
                });
            }
        }
    }

    let m = nt * nw;
    let mut mean = vec![0.0; m];
    let mut std = vec![amp2.sqrt(); m];
    let (log_likelihood, time_scale) = match &best {
        Some(Candidate {
            log_likelihood,
            time_scale,
            cholesky,
            alpha,
        }) => {
            let kstar = DMatrix::from_fn(n, m, |i, g| {
                let (t, w) = (times[g / nw], grid_lw[g % nw]);
                let p = &points[i];
                matern32(
                    amp2,
                    scaled_distance(p.mjd - t, p.log_wavelength - w, *time_scale, ll),
                )
            });
            let mu = kstar.tr_mul(alpha);
            let v = cholesky
                .l_dirty()
                .lower_triangle()
                .solve_lower_triangular(&kstar)
                .unwrap_or_else(|| DMatrix::zeros(n, m));
            for g in 0..m {
                mean[g] = mu[g];
                let var = amp2 - v.column(g).norm_squared();
                std[g] = var.max(1e-10).sqrt();
            }
            (log_likelihood / n as f64, *time_scale)
        }
        None => (0.0, config.time_scales.first().copied().unwrap_or(30.0)),
    };
    GpFit {
        scale,
        amplitude: amp2.sqrt(),
        time_scale,
        log_likelihood,
        times,
        wavelengths: config.grid_wavelengths.clone(),
        mean,
        std,
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lightcurve::Point;
    use alert_model::{Band, Survey};

    /// A smooth two-band signal: f(t, λ) = 1000·exp(−((t−30)/15)²)·(λ/6000)^−1 nJy.
    fn truth(t: f64, lambda: f64) -> f64 {
        1000.0 * (-((t - 30.0) / 15.0).powi(2)).exp() * (lambda / 6000.0).powf(-1.0)
    }

    #[test]
    fn recovers_a_smooth_function_within_sigma() {
        let mut points = Vec::new();
        let sigma = 20.0;
        // Deterministic pseudo-noise in [-1, 1]σ.
        let mut u = 0.123_f64;
        for k in 0..40 {
            for band in [Band::G, Band::R] {
                let t = k as f64 * 1.5;
                let lambda = band.effective_wavelength(Survey::Ztf).unwrap();
                u = (u * 9301.0 + 49297.0) % 233280.0 / 233280.0;
                points.push(Point {
                    mjd: 60000.0 + t,
                    band,
                    flux_njy: truth(t, lambda) + sigma * (2.0 * u - 1.0),
                    flux_err_njy: sigma,
                    detected: true,
                });
            }
        }
        let lc = LightCurve::new("smooth", Survey::Ztf, points);
        let config = GpConfig {
            max_points: 80,
            ..GpConfig::default()
        };
        let gp = fit(&lc, &config);
        let nw = gp.wavelengths.len();
        let mut within = 0;
        let mut total = 0;
        for (ti, t) in gp.times.iter().enumerate() {
            for (wi, lambda) in gp.wavelengths.iter().enumerate() {
                // Only g and r were observed: check them (interpolation, not extrapolation).
                if *lambda > 7000.0 {
                    continue;
                }
                let expected = truth(t - 60000.0, *lambda);
                let got = gp.mean[ti * nw + wi] * gp.scale;
                let s = gp.std[ti * nw + wi] * gp.scale;
                assert!(s < 60.0, "σ {s} too large at t={t}");
                total += 1;
                if (got - expected).abs() <= 2.0 * s.max(sigma * 0.5) {
                    within += 1;
                }
            }
        }
        assert!(
            within as f64 >= 0.9 * total as f64,
            "{within}/{total} within 2σ"
        );
        // The fitted time scale is the smooth one, not the shortest candidate.
        assert!(gp.time_scale >= 8.0, "time scale {}", gp.time_scale);
    }

    #[test]
    fn empty_and_single_point_curves_do_not_panic() {
        let lc = LightCurve::new("empty", Survey::Ztf, vec![]);
        let gp = fit(&lc, &GpConfig::default());
        assert!(gp.mean.iter().all(|m| *m == 0.0));
        let lc = LightCurve::new(
            "one",
            Survey::Lsst,
            vec![Point {
                mjd: 1.0,
                band: Band::Y,
                flux_njy: 5.0,
                flux_err_njy: 1.0,
                detected: true,
            }],
        );
        let gp = fit(&lc, &GpConfig::default());
        assert!(gp.mean.iter().all(|m| m.is_finite()));
        assert!(gp.std.iter().all(|s| s.is_finite() && *s > 0.0));
    }
}
