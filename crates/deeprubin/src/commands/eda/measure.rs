//! Per-object light-curve statistics from a Gaussian-process fit of each band.
//!
//! Each band is fitted on its own with the project's GP ([`classifier_core::gp`], Matérn-3/2, the
//! time length scale chosen by marginal likelihood) on a half-day grid. From the fitted mean
//! (difference flux, nJy):
//!
//! - **peak**: the maximum of the mean, kept only when its S/N ≥ 5 and observations of the band lie
//!   on both sides of it within [`MAX_GAP_DAYS`];
//! - **rise time**: peak time minus the time the mean last crossed half the peak flux before it
//!   (the half-maximum rise, t½,rise);
//! - **decline time**: the time after the peak at which the mean first falls to half the peak flux
//!   (t½,decline, i.e. 0.75 mag below peak);
//! - **Δm15, Δm50**: magnitudes faded 15 and 50 rest-frame days after the band's own peak
//!   (Phillips 1993 defines Δm15 in B; g is the nearest band);
//! - **g − r**: AB colour −2.5·log10(f_g/f_r) (the 31.4 zero point of m = 31.4 − 2.5·log10(f/nJy)
//!   cancels) at the r-band peak and on a grid of phases.
//!
//! A time counts as measured only where observations of the band bracket it with a gap of at
//! most [`MAX_GAP_DAYS`], so nothing rests on the GP's extrapolation. Times are rest-frame
//! (divided by 1 + z) when the redshift is known, observer-frame otherwise.

use alert_model::Band;
use classifier_core::gp::{self, GpConfig};
use classifier_core::lightcurve::LightCurve;

/// Largest gap (observer days) between the observations that bracket a measured time.
pub const MAX_GAP_DAYS: f64 = 12.0;
/// Fewest detections (|S/N| ≥ 5) a band needs to be fitted.
pub const MIN_DETECTIONS: usize = 4;
/// Observations kept before the first and after the last detection of a band (observer days).
const WINDOW_MARGIN_DAYS: f64 = 20.0;
/// Grid step of the GP mean (observer days).
const GRID_STEP_DAYS: f64 = 0.5;
/// S/N the GP mean needs at the peak, and in both bands for a colour.
const PEAK_SNR: f64 = 5.0;
const COLOUR_SNR: f64 = 3.0;

/// Rest-frame phases (days from the r peak) of the colour curves.
pub fn colour_phases() -> Vec<f64> {
    (-3..=20).map(|k| k as f64 * 5.0).collect()
}

/// Rest-frame phases of the normalised r-band curves.
pub fn curve_phases() -> Vec<f64> {
    (-30..=150).map(f64::from).collect()
}

/// A band's GP mean on a regular grid, and where the band was observed.
struct BandFit {
    t0: f64,
    step: f64,
    mean: Vec<f64>,
    std: Vec<f64>,
    observed: Vec<f64>,
}

impl BandFit {
    fn fit(lc: &LightCurve, band: Band) -> Option<BandFit> {
        let mut points: Vec<_> = lc
            .points
            .iter()
            .filter(|p| p.band == band)
            .copied()
            .collect();
        let detected: Vec<f64> = points
            .iter()
            .filter(|p| p.detected)
            .map(|p| p.mjd)
            .collect();
        let (Some(&first), Some(&last)) = (detected.first(), detected.last()) else {
            return None;
        };
        if detected.len() < MIN_DETECTIONS {
            return None;
        }
        // Only the transient and a margin of its baseline: months of blank sky would pull the
        // GP's amplitude (the rms of the normalised flux) down and smooth the peak away.
        points
            .retain(|p| p.mjd >= first - WINDOW_MARGIN_DAYS && p.mjd <= last + WINDOW_MARGIN_DAYS);
        let curve = LightCurve::new(lc.object_id.clone(), lc.survey, points);
        let wavelength = band.effective_wavelength(lc.survey)?;
        let span = curve.span_days();
        let grid_times = ((span / GRID_STEP_DAYS).ceil() as usize + 1).clamp(2, 4000);
        let config = GpConfig {
            time_scales: vec![3.0, 5.0, 8.0, 12.0, 18.0, 25.0],
            log_wavelength_scale: 1.0,
            max_points: 200,
            grid_times,
            grid_wavelengths: vec![wavelength],
        };
        let fit = gp::fit(&curve, &config);
        let (&t0, &t1) = (fit.times.first()?, fit.times.last()?);
        // NaN-safe: a grid without a positive span (or NaN times) has no shape to measure.
        if t1.partial_cmp(&t0) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        Some(BandFit {
            t0,
            step: (t1 - t0) / (fit.times.len() - 1) as f64,
            mean: fit.mean.iter().map(|m| m * fit.scale).collect(),
            std: fit.std.iter().map(|s| s * fit.scale).collect(),
            observed: curve.points.iter().map(|p| p.mjd).collect(),
        })
    }

    fn time(&self, i: usize) -> f64 {
        self.t0 + self.step * i as f64
    }

    /// Observations of the band on both sides of `t`, at most [`MAX_GAP_DAYS`] apart.
    fn covered(&self, t: f64) -> bool {
        let after = self.observed.partition_point(|&x| x < t);
        let next = self.observed.get(after);
        let prev = if after > 0 {
            self.observed.get(after - 1)
        } else {
            None
        };
        match (prev, next) {
            (Some(&a), Some(&b)) => b - a <= MAX_GAP_DAYS,
            // Exactly on the last observation.
            (Some(&a), None) => a == t,
            _ => false,
        }
    }

    /// Mean and σ at `t`, linearly interpolated; `None` outside the grid.
    fn at(&self, t: f64) -> Option<(f64, f64)> {
        let x = (t - self.t0) / self.step;
        if x.is_nan() || x < 0.0 || x > (self.mean.len() - 1) as f64 {
            return None;
        }
        let i = (x.floor() as usize).min(self.mean.len() - 2);
        let w = x - i as f64;
        let lerp = |v: &[f64]| v[i] * (1.0 - w) + v[i + 1] * w;
        Some((lerp(&self.mean), lerp(&self.std)))
    }

    /// Flux at `t` if the band is covered there and the mean has S/N ≥ `snr`.
    fn flux(&self, t: f64, snr: f64) -> Option<f64> {
        let (m, s) = self.at(t)?;
        (self.covered(t) && m > 0.0 && m >= snr * s).then_some(m)
    }

    /// Index of the maximum of the mean, if it is a constrained peak.
    fn peak(&self) -> Option<usize> {
        let (i, &m) = self
            .mean
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))?;
        (m > 0.0 && m >= PEAK_SNR * self.std[i] && self.covered(self.time(i))).then_some(i)
    }

    /// Where the mean crosses half of `peak` walking from the peak index by `dir` (±1),
    /// interpolated; `None` if it never does on the grid or the crossing is not covered.
    fn half_crossing(&self, peak: usize, dir: isize) -> Option<f64> {
        let half = 0.5 * self.mean[peak];
        let mut i = peak as isize;
        loop {
            let j = i + dir;
            if j < 0 || j as usize >= self.mean.len() {
                return None;
            }
            let (a, b) = (self.mean[i as usize], self.mean[j as usize]);
            if b <= half {
                let w = (a - half) / (a - b);
                let t = self.time(i as usize) + dir as f64 * w * self.step;
                return self.covered(t).then_some(t);
            }
            i = j;
        }
    }

    /// Magnitudes faded `days` (observer) after the peak.
    fn faded(&self, peak: usize, days: f64) -> Option<f64> {
        let f = self.flux(self.time(peak) + days, COLOUR_SNR)?;
        Some(2.5 * (self.mean[peak] / f).log10())
    }
}

/// What one object gave; every statistic is optional.
#[derive(Debug, Clone, Default)]
pub struct Measurement {
    pub object_id: String,
    pub class: String,
    pub redshift: Option<f64>,
    pub detections: usize,
    /// MJD of the r-band peak.
    pub peak_mjd_r: Option<f64>,
    /// Peak r flux (nJy) and AB magnitude.
    pub peak_mag_r: Option<f64>,
    pub rise_days: Option<f64>,
    pub decline_days: Option<f64>,
    pub rise_days_g: Option<f64>,
    pub decline_days_g: Option<f64>,
    pub dm15_g: Option<f64>,
    pub dm15_r: Option<f64>,
    pub dm50_r: Option<f64>,
    pub gr_peak: Option<f64>,
    /// g − r at [`colour_phases`].
    pub colour: Vec<Option<f64>>,
    /// r flux / peak flux at [`curve_phases`].
    pub curve: Vec<Option<f64>>,
}

/// Measures one light curve (see the module documentation).
pub fn measure(lc: &LightCurve, class: &str, redshift: Option<f64>) -> Measurement {
    let zp1 = 1.0 + redshift.unwrap_or(0.0).max(0.0);
    let mut m = Measurement {
        object_id: lc.object_id.clone(),
        class: class.to_string(),
        redshift,
        detections: lc.points.iter().filter(|p| p.detected).count(),
        colour: vec![None; colour_phases().len()],
        curve: vec![None; curve_phases().len()],
        ..Measurement::default()
    };
    let r = BandFit::fit(lc, Band::R);
    let g = BandFit::fit(lc, Band::G);
    if let Some(g) = &g
        && let Some(pk) = g.peak()
    {
        m.rise_days_g = g.half_crossing(pk, -1).map(|t| (g.time(pk) - t) / zp1);
        m.decline_days_g = g.half_crossing(pk, 1).map(|t| (t - g.time(pk)) / zp1);
        m.dm15_g = g.faded(pk, 15.0 * zp1);
    }
    let Some(r) = &r else { return m };
    let Some(pk) = r.peak() else { return m };
    let t_peak = r.time(pk);
    let f_peak = r.mean[pk];
    m.peak_mjd_r = Some(t_peak);
    m.peak_mag_r = Some(31.4 - 2.5 * f_peak.log10());
    m.rise_days = r.half_crossing(pk, -1).map(|t| (t_peak - t) / zp1);
    m.decline_days = r.half_crossing(pk, 1).map(|t| (t - t_peak) / zp1);
    m.dm15_r = r.faded(pk, 15.0 * zp1);
    m.dm50_r = r.faded(pk, 50.0 * zp1);
    for (slot, phase) in m.curve.iter_mut().zip(curve_phases()) {
        let t = t_peak + phase * zp1;
        *slot = r
            .at(t)
            .filter(|_| r.covered(t))
            .map(|(mean, _)| mean / f_peak);
    }
    if let Some(g) = &g {
        let colour = |t: f64| {
            let fr = r.flux(t, COLOUR_SNR)?;
            let fg = g.flux(t, COLOUR_SNR)?;
            Some(-2.5 * (fg / fr).log10())
        };
        m.gr_peak = colour(t_peak);
        for (slot, phase) in m.colour.iter_mut().zip(colour_phases()) {
            *slot = colour(t_peak + phase * zp1);
        }
    }
    m
}

/// Quantile `q` ∈ [0, 1] of sorted values, linearly interpolated.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let x = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let i = x.floor() as usize;
    let j = (i + 1).min(n - 1);
    Some(sorted[i] + (sorted[j] - sorted[i]) * (x - i as f64))
}

/// The finite values, sorted.
pub fn sorted(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use alert_model::Survey;
    use classifier_core::lightcurve::Point;

    /// A noiseless-ish triangle: linear rise over 10 d, linear decline over 40 d, daily in r.
    fn triangle() -> LightCurve {
        let points = (0..120)
            .map(|k| {
                let t = 60_000.0 + k as f64;
                let x = t - 60_030.0;
                let f = if x < -10.0 {
                    0.0
                } else if x < 0.0 {
                    1000.0 * (1.0 + x / 10.0)
                } else {
                    (1000.0 * (1.0 - x / 40.0)).max(0.0)
                };
                Point {
                    mjd: t,
                    band: Band::R,
                    flux_njy: f,
                    flux_err_njy: 10.0,
                    detected: f > 50.0,
                }
            })
            .collect();
        LightCurve::new("t", Survey::Ztf, points)
    }

    #[test]
    fn half_max_times_of_a_triangle() {
        let m = measure(&triangle(), "x", None);
        let peak = m.peak_mjd_r.unwrap();
        assert!((peak - 60_030.0).abs() < 1.5, "{peak}");
        let rise = m.rise_days.unwrap();
        let decline = m.decline_days.unwrap();
        assert!((rise - 5.0).abs() < 1.5, "{rise}");
        assert!((decline - 20.0).abs() < 1.5, "{decline}");
        // No g band: no colour.
        assert!(m.gr_peak.is_none());
    }

    #[test]
    fn redshift_shortens_to_rest_frame() {
        let m = measure(&triangle(), "x", Some(1.0));
        assert!((m.decline_days.unwrap() - 10.0).abs() < 1.0);
    }

    #[test]
    fn quantiles_interpolate() {
        let v = sorted([3.0, 1.0, 2.0, f64::NAN, 4.0].into_iter());
        assert_eq!(quantile(&v, 0.5), Some(2.5));
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
