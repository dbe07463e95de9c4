//! From a light curve to the model's inputs: observation tokens (raw points with σ), the GP grid
//! (interpolated flux and σ) and a few global summary statistics.

use alert_model::Survey;
use serde::{Deserialize, Serialize};

use crate::gp::{self, GpConfig, GpFit};
use crate::lightcurve::LightCurve;
use crate::periodogram::Periodicity;

/// Features per observation token.
pub const D_TOKEN: usize = 8;
/// Global summary features.
pub const D_GLOBAL: usize = 28;
/// Global features of models trained before the periodogram was added.
pub const D_GLOBAL_LEGACY: usize = 25;

/// Preprocessing settings, saved with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureConfig {
    pub gp: GpConfig,
    /// Observation tokens per light curve; longer curves are subsampled evenly.
    pub max_tokens: usize,
    /// Lomb–Scargle period, power and significance among the global features (absent from
    /// models saved before it existed, hence the serde default).
    #[serde(default)]
    pub periodogram: bool,
    /// The difference flux's absolute brightness (its normalisation scale in AB mag) among the
    /// global features. Off for new models: a simulator's distances cannot reproduce the
    /// brightness selection of real catalogue-labelled sets (spectroscopic SN samples stop near
    /// 18.5–19 mag, Fremling et al. 2020), and a model that leans on it turns real SNe into
    /// variables. Models saved before the flag existed used it, hence the serde default.
    #[serde(default = "brightness_in_legacy_models")]
    pub brightness: bool,
}

fn brightness_in_legacy_models() -> bool {
    true
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            gp: GpConfig::default(),
            max_tokens: 64,
            periodogram: true,
            brightness: false,
        }
    }
}

impl FeatureConfig {
    /// Number of global features.
    pub fn d_global(&self) -> usize {
        if self.periodogram {
            D_GLOBAL
        } else {
            D_GLOBAL_LEGACY
        }
    }

    /// Length of the flattened GP grid (mean and σ per grid point).
    pub fn grid_len(&self) -> usize {
        2 * self.gp.grid_times.max(1) * self.gp.grid_wavelengths.len()
    }
}

/// The model inputs of one light curve, before batching.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// `n_tokens × D_TOKEN`, row-major.
    pub tokens: Vec<f32>,
    pub n_tokens: usize,
    /// GP grid: means then σs, each time-major.
    pub grid: Vec<f32>,
    /// Raw global features (standardised at batching).
    pub global: Vec<f32>,
}

fn clip(x: f64, lo: f64, hi: f64) -> f32 {
    if x.is_finite() {
        x.clamp(lo, hi) as f32
    } else {
        0.0
    }
}

/// Preprocesses one light curve.
pub fn extract(lc: &LightCurve, config: &FeatureConfig) -> Features {
    let fit = gp::fit(lc, &config.gp);
    extract_with_fit(lc, &fit, config)
}

/// [`extract`] with an existing GP fit.
pub fn extract_with_fit(lc: &LightCurve, fit: &GpFit, config: &FeatureConfig) -> Features {
    let scale = fit.scale;
    let pts = &lc.points;
    let n = pts.len();

    // Time of the brightest detection (or the brightest point), and of the last point.
    let t_peak = pts
        .iter()
        .filter(|p| p.detected)
        .chain(pts.iter())
        .max_by(|a, b| a.flux_njy.total_cmp(&b.flux_njy))
        .map_or(0.0, |p| p.mjd);
    let t_last = pts.last().map_or(0.0, |p| p.mjd);
    let t_first = pts.first().map_or(0.0, |p| p.mjd);

    // Tokens: an even subsample of the points, in time order.
    let k = n.min(config.max_tokens);
    let mut tokens = Vec::with_capacity(k * D_TOKEN);
    let mut prev_t = None;
    for j in 0..k {
        let i = if k <= 1 { 0 } else { j * (n - 1) / (k - 1) };
        let p = &pts[i];
        let lw = p
            .band
            .effective_wavelength(lc.survey)
            .map_or(0.0, |l| (l / gp::REFERENCE_WAVELENGTH).ln());
        let dt_prev = prev_t.map_or(0.0, |t: f64| p.mjd - t);
        prev_t = Some(p.mjd);
        tokens.extend_from_slice(&[
            clip((p.mjd - t_last) / 100.0, -10.0, 0.0),
            clip((p.mjd - t_peak) / 100.0, -10.0, 10.0),
            lw as f32 * 2.0,
            clip(p.flux_njy / scale, -5.0, 5.0),
            clip(p.flux_err_njy / scale, 0.0, 5.0),
            clip((p.flux_njy / p.flux_err_njy).asinh() / 3.0, -5.0, 5.0),
            f32::from(u8::from(p.detected)),
            clip(dt_prev.ln_1p() / 3.0, 0.0, 5.0),
        ]);
    }

    let mut grid = Vec::with_capacity(config.grid_len());
    grid.extend(fit.mean.iter().map(|v| clip(*v, -5.0, 5.0)));
    grid.extend(fit.std.iter().map(|v| clip(*v, 0.0, 5.0)));

    Features {
        tokens,
        n_tokens: k,
        grid,
        global: global_features(lc, fit, (t_peak, t_first, t_last), config),
    }
}

fn global_features(
    lc: &LightCurve,
    fit: &GpFit,
    (t_peak, t_first, t_last): (f64, f64, f64),
    config: &FeatureConfig,
) -> Vec<f32> {
    let scale = fit.scale;
    let pts = &lc.points;
    let n = pts.len().max(1) as f64;
    let y: Vec<f64> = pts.iter().map(|p| p.flux_njy / scale).collect();
    let s: Vec<f64> = pts.iter().map(|p| p.flux_err_njy / scale).collect();
    let span = t_last - t_first;
    let mean = y.iter().sum::<f64>() / n;
    let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let sd = var.sqrt().max(1e-6);
    let skew = y.iter().map(|v| ((v - mean) / sd).powi(3)).sum::<f64>() / n;
    let kurt = y.iter().map(|v| ((v - mean) / sd).powi(4)).sum::<f64>() / n - 3.0;
    let noise2 = s.iter().map(|v| v * v).sum::<f64>() / n;
    let mut sorted_err = s.clone();
    sorted_err.sort_by(f64::total_cmp);
    let median_err = sorted_err.get(sorted_err.len() / 2).copied().unwrap_or(1.0);
    let frac_det = pts.iter().filter(|p| p.detected).count() as f64 / n;
    let frac_pos = y.iter().filter(|v| **v > 0.0).count() as f64 / n;
    let frac_neg = pts
        .iter()
        .filter(|p| p.flux_njy / p.flux_err_njy < -3.0)
        .count() as f64
        / n;
    let min_y = y.iter().copied().fold(f64::INFINITY, f64::min);

    // Von Neumann ratio (von Neumann 1941) in the best-sampled band: ~2 for uncorrelated epochs,
    // small for variations slower than the cadence.
    let mut eta = 2.0;
    let mut best_band_n = 0;
    for band in alert_model::Band::ALL {
        let yb: Vec<f64> = pts
            .iter()
            .zip(&y)
            .filter(|(p, _)| p.band == band)
            .map(|(_, v)| *v)
            .collect();
        if yb.len() >= 3 && yb.len() > best_band_n {
            best_band_n = yb.len();
            let m = yb.iter().sum::<f64>() / yb.len() as f64;
            let v = yb.iter().map(|x| (x - m).powi(2)).sum::<f64>() / yb.len() as f64;
            let d =
                yb.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>() / (yb.len() - 1) as f64;
            eta = if v > 0.0 { d / v } else { 2.0 };
        }
    }

    // Structure function (rms same-band difference above noise) at three lag ranges, on the GP's
    // merged points (≤ max_points, so O(n²) stays cheap).
    let mut sf = [(0.0f64, 0usize); 3];
    for (i, a) in fit.points.iter().enumerate() {
        for b in &fit.points[i + 1..] {
            if a.log_wavelength != b.log_wavelength {
                continue;
            }
            let lag = (b.mjd - a.mjd).abs();
            let bin = if lag < 2.0 {
                0
            } else if lag < 20.0 {
                1
            } else if lag < 200.0 {
                2
            } else {
                continue;
            };
            let d2 = (b.flux - a.flux).powi(2) - a.flux_err.powi(2) - b.flux_err.powi(2);
            sf[bin].0 += d2;
            sf[bin].1 += 1;
        }
    }
    let sf_value = |(sum, count): (f64, usize)| {
        if count == 0 {
            -1.0
        } else {
            (sum / count as f64).max(0.0).sqrt()
        }
    };

    // Colour at the GP peak: blue minus red normalised flux at the time the middle band peaks.
    let nw = fit.wavelengths.len();
    let (colour, peak_phase) = if nw >= 2 && !fit.times.is_empty() {
        let mid = nw / 2;
        let t_idx = (0..fit.times.len())
            .max_by(|&a, &b| fit.mean[a * nw + mid].total_cmp(&fit.mean[b * nw + mid]))
            .unwrap_or(0);
        let phase = if span > 0.0 {
            (fit.times[t_idx] - t_first) / span
        } else {
            1.0
        };
        (fit.mean[t_idx * nw] - fit.mean[t_idx * nw + nw - 1], phase)
    } else {
        (0.0, 1.0)
    };
    let first_det = pts.iter().find(|p| p.detected).map_or(t_peak, |p| p.mjd);
    let last_det = pts
        .iter()
        .rev()
        .find(|p| p.detected)
        .map_or(t_peak, |p| p.mjd);
    let peak_snr = pts
        .iter()
        .map(|p| (p.flux_njy / p.flux_err_njy).abs())
        .fold(0.0, f64::max);

    let mut global = vec![
        clip((span + 1.0).log10(), 0.0, 4.0),
        clip((pts.len() as f64 + 1.0).log10(), 0.0, 4.0),
        clip(frac_det, 0.0, 1.0),
        // Kept as a constant slot when off, so every model has the same input width.
        if config.brightness {
            clip((31.4 - 2.5 * scale.log10() - 20.0) / 3.0, -5.0, 5.0)
        } else {
            0.0
        },
        clip(fit.time_scale.ln(), -2.0, 7.0),
        clip(fit.log_likelihood, -20.0, 10.0),
        clip(mean, -5.0, 5.0),
        clip(sd, 0.0, 5.0),
        clip(skew, -10.0, 10.0),
        clip(kurt, -5.0, 20.0),
        clip(frac_pos, 0.0, 1.0),
        clip(frac_neg, 0.0, 1.0),
        clip(min_y, -5.0, 5.0),
        clip(eta, 0.0, 4.0),
        clip((var - noise2) / (var + noise2 + 1e-9), -1.0, 1.0),
        clip(median_err, 0.0, 5.0),
        f32::from(u8::from(lc.survey == Survey::Lsst)),
        clip(colour, -5.0, 5.0),
        clip(peak_phase, 0.0, 1.0),
        clip((t_peak - first_det).max(0.0).ln_1p(), 0.0, 8.0),
        clip((last_det - t_peak).max(0.0).ln_1p(), 0.0, 8.0),
        clip(peak_snr.ln_1p(), 0.0, 12.0),
        clip(sf_value(sf[0]), -1.0, 5.0),
        clip(sf_value(sf[1]), -1.0, 5.0),
        clip(sf_value(sf[2]), -1.0, 5.0),
    ];
    if config.periodogram {
        // No periodicity reads as a zero-power, one-day "period" (the standardiser centres it).
        let p = crate::periodogram::best_period(lc).unwrap_or(Periodicity {
            period_days: 1.0,
            power: 0.0,
            significance: 0.0,
        });
        global.extend([
            clip(p.period_days.log10(), -2.0, 3.0),
            clip(p.power, 0.0, 1.0),
            clip(p.significance, 0.0, 50.0),
        ]);
    }
    global
}

/// Per-feature mean and standard deviation of the global features, fitted on training data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Standardizer {
    pub fn identity(d: usize) -> Self {
        Standardizer {
            mean: vec![0.0; d],
            std: vec![1.0; d],
        }
    }

    pub fn fit<'a>(rows: impl Iterator<Item = &'a [f32]>, d: usize) -> Self {
        let mut sum = vec![0.0f64; d];
        let mut sum2 = vec![0.0f64; d];
        let mut n = 0usize;
        for row in rows {
            for (i, v) in row.iter().take(d).enumerate() {
                sum[i] += f64::from(*v);
                sum2[i] += f64::from(*v).powi(2);
            }
            n += 1;
        }
        let n = n.max(1) as f64;
        let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
        let std = sum2
            .iter()
            .zip(&sum)
            .map(|(s2, s)| ((s2 / n - (s / n).powi(2)).max(0.0).sqrt().max(1e-3)) as f32)
            .collect();
        Standardizer { mean, std }
    }

    pub fn apply(&self, row: &[f32], out: &mut Vec<f32>) {
        for (i, v) in row.iter().enumerate() {
            let m = self.mean.get(i).copied().unwrap_or(0.0);
            let s = self.std.get(i).copied().unwrap_or(1.0);
            out.push(((v - m) / s).clamp(-8.0, 8.0));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::lightcurve::Point;
    use alert_model::Band;

    #[test]
    fn shapes_are_fixed_whatever_the_curve() {
        let config = FeatureConfig::default();
        for n in [0usize, 1, 5, 300] {
            let points = (0..n)
                .map(|i| Point {
                    mjd: 60000.0 + i as f64,
                    band: if i % 2 == 0 { Band::G } else { Band::R },
                    flux_njy: (i as f64 * 0.3).sin() * 1000.0,
                    flux_err_njy: 50.0,
                    detected: true,
                })
                .collect();
            let f = extract(&LightCurve::new("x", Survey::Ztf, points), &config);
            assert_eq!(f.n_tokens, n.min(config.max_tokens));
            assert_eq!(f.tokens.len(), f.n_tokens * D_TOKEN);
            assert_eq!(f.grid.len(), config.grid_len());
            assert_eq!(f.global.len(), config.d_global());
            assert!(
                f.global
                    .iter()
                    .chain(&f.tokens)
                    .chain(&f.grid)
                    .all(|v| v.is_finite())
            );
        }
    }

    /// A steady two-band rise on a regular 1.5-day cadence, fluxes and errors times `flux_factor`.
    pub(crate) fn rising_curve(flux_factor: f64) -> LightCurve {
        let points = (0..20)
            .map(|i| Point {
                mjd: 60000.0 + 1.5 * i as f64,
                band: if i % 2 == 0 { Band::G } else { Band::R },
                flux_njy: flux_factor * (2000.0 + 400.0 * i as f64),
                flux_err_njy: flux_factor * (150.0 + 10.0 * i as f64),
                detected: true,
            })
            .collect();
        LightCurve::new("x", Survey::Ztf, points)
    }

    #[test]
    fn without_the_brightness_feature_a_dimmer_copy_at_the_same_snr_looks_the_same() {
        let bright = rising_curve(1.0);
        let dim = rising_curve(10f64.powf(-0.4 * 2.0));
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-3);

        let config = FeatureConfig::default();
        assert!(!config.brightness);
        let (f_bright, f_dim) = (extract(&bright, &config), extract(&dim, &config));
        assert!(close(&f_bright.global, &f_dim.global));
        assert!(close(&f_bright.tokens, &f_dim.tokens));
        assert!(close(&f_bright.grid, &f_dim.grid));

        let legacy = FeatureConfig {
            brightness: true,
            ..FeatureConfig::default()
        };
        let (g_bright, g_dim) = (extract(&bright, &legacy), extract(&dim, &legacy));
        // 2 mag dimmer reads as +2/3 on the brightness feature.
        assert!((g_dim.global[3] - g_bright.global[3] - 2.0 / 3.0).abs() < 1e-3);
    }

    #[test]
    fn models_saved_before_the_flag_keep_the_brightness_feature() {
        let json = r#"{"gp": GP, "max_tokens": 64, "periodogram": true}"#.replace(
            "GP",
            &serde_json::to_string(&GpConfig::default()).unwrap_or_default(),
        );
        let config: FeatureConfig = serde_json::from_str(&json).expect("legacy feature config");
        assert!(config.brightness);
    }
}
