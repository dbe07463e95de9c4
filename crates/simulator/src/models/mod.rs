//! Physical light-curve models. Each model gives, at an observer-frame time and an effective
//! wavelength, the true difference flux against the reference (template) epoch and the total flux
//! at the position (for saturation and photon noise), both in nJy.

pub(crate) mod anomaly;
pub(crate) mod eruptive;
pub(crate) mod periodic;
pub(crate) mod stochastic;
pub(crate) mod supernova;

use alert_model::{AB_ZERO_POINT_NJY, Survey};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::Class;

/// The random generator every model draws from (one ChaCha stream per object).
pub(crate) type SimRng = ChaCha8Rng;

/// True fluxes at one epoch and wavelength.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Fluxes {
    /// Difference flux: source now minus source in the reference image (nJy).
    pub diff: f64,
    /// Total flux of the source at the position now (nJy), host/template included.
    pub total: f64,
}

/// What a model needs to know about where and when it is observed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context {
    pub survey: Survey,
    /// First and last MJD of the simulated window.
    pub t_start: f64,
    pub t_end: f64,
}

impl Context {
    /// Brightest and faintest apparent magnitudes worth simulating for a steady source on this
    /// survey: from just below saturation to about the single-visit depth.
    pub fn magnitude_range(&self) -> (f64, f64) {
        match self.survey {
            Survey::Ztf => (13.0, 20.5),
            Survey::Lsst => (17.0, 24.5),
        }
    }

    /// A peak apparent magnitude a survey's transient sample reaches (magnitude-limited:
    /// ZTF alerts reach ≈ 19.5–20.5 at peak; LSST ≈ 23–24.5).
    pub fn transient_limit(&self, rng: &mut SimRng) -> f64 {
        match self.survey {
            Survey::Ztf => uniform(rng, 18.8, 20.4),
            Survey::Lsst => uniform(rng, 22.5, 24.5),
        }
    }
}

/// One simulated source model.
#[derive(Debug, Clone)]
pub(crate) enum Model {
    Transient(supernova::TransientModel),
    Drw(stochastic::DrwModel),
    Yso(eruptive::YsoModel),
    Cv(eruptive::CvModel),
    Periodic(periodic::PeriodicModel),
    Microlensing(anomaly::MicrolensingModel),
}

impl Model {
    /// Fluxes at observer-frame MJD `t` and effective wavelength `lambda` (Å). Stateful models
    /// (random walks) must be called in non-decreasing time order.
    pub fn eval(&mut self, t: f64, lambda: f64, rng: &mut SimRng) -> Fluxes {
        match self {
            Model::Transient(m) => m.eval(t, lambda),
            Model::Drw(m) => m.eval(t, lambda, rng),
            Model::Yso(m) => m.eval(t, lambda, rng),
            Model::Cv(m) => m.eval(t, lambda),
            Model::Periodic(m) => m.eval(t, lambda, rng),
            Model::Microlensing(m) => m.eval(t, lambda),
        }
    }
}

/// Draws a model of `class` for the window in `ctx`; returns it with its redshift, where the class
/// is extragalactic.
pub(crate) fn sample(class: Class, ctx: &Context, rng: &mut SimRng) -> (Model, Option<f64>) {
    match class {
        Class::SnIa | Class::SnIbc | Class::SnII | Class::Slsn => {
            let m = supernova::sample(class, ctx, rng);
            let z = m.redshift();
            (Model::Transient(m), Some(z))
        }
        Class::Tde | Class::Kilonova | Class::Pisn => {
            let m = anomaly::sample_transient(class, ctx, rng);
            let z = m.redshift();
            (Model::Transient(m), Some(z))
        }
        Class::Microlensing => (
            Model::Microlensing(anomaly::MicrolensingModel::sample(ctx, rng)),
            None,
        ),
        Class::Qso | Class::Agn | Class::Blazar => {
            let m = stochastic::DrwModel::sample(class, ctx, rng);
            let z = m.redshift();
            (Model::Drw(m), Some(z))
        }
        Class::Yso => (Model::Yso(eruptive::YsoModel::sample(ctx, rng)), None),
        Class::CvNova => (Model::Cv(eruptive::CvModel::sample(ctx, rng)), None),
        Class::Lpv | Class::E | Class::Dsct | Class::Rrl | Class::Cep | Class::PeriodicOther => (
            Model::Periodic(periodic::PeriodicModel::sample(class, ctx, rng)),
            None,
        ),
    }
}

/// A reference (template) image: the epochs (MJD) of its co-added frames, and the mean of a
/// model's flux factor over them, cached per wavelength. ZTF references co-add 15–40 frames of a
/// field (Masci et al. 2019, PASP 131, 018003) taken over weeks to months before the alerts.
/// Variability much faster than that span averages out in the template; slower variability is
/// frozen at its state then, so the difference flux of a long-period star sits above or below
/// zero for months.
#[derive(Debug, Clone, Default)]
pub(crate) struct Template {
    epochs: Vec<f64>,
    by_wavelength: Vec<(f64, f64)>,
}

impl Template {
    /// Frames 60–1000 days before the window, spread over 10–120 days.
    pub fn sample(ctx: &Context, rng: &mut SimRng) -> Self {
        let frames = 15 + (26.0 * rng.random::<f64>()) as usize;
        let span = log_uniform(rng, 10.0, 120.0);
        let start = ctx.t_start - uniform(rng, 60.0, 1000.0) - span;
        Template {
            epochs: (0..frames)
                .map(|_| start + uniform(rng, 0.0, span))
                .collect(),
            by_wavelength: Vec::with_capacity(6),
        }
    }

    /// No frames of the variable state: the template is the quiescent source (mean 0 excess).
    pub fn quiescent() -> Self {
        Template::default()
    }

    /// First and last frame; `None` without frames.
    pub fn span(&self) -> Option<(f64, f64)> {
        let first = self.epochs.iter().copied().reduce(f64::min)?;
        let last = self.epochs.iter().copied().reduce(f64::max)?;
        Some((first, last))
    }

    /// Epochs (MJD) of the frames, in the order they were drawn.
    pub fn epochs(&self) -> &[f64] {
        &self.epochs
    }

    /// The cached mean at `lambda`, if computed.
    pub fn cached(&self, lambda: f64) -> Option<f64> {
        self.by_wavelength
            .iter()
            .find(|(l, _)| *l == lambda)
            .map(|&(_, r)| r)
    }

    /// Mean of `at(t)` over the frames (0 without frames).
    pub fn mean(&self, at: impl Fn(f64) -> f64) -> f64 {
        let sum: f64 = self.epochs.iter().map(|&t| at(t)).sum();
        sum / self.epochs.len().max(1) as f64
    }

    /// Caches `mean` for `lambda` and returns it.
    pub fn store(&mut self, lambda: f64, mean: f64) -> f64 {
        self.by_wavelength.push((lambda, mean));
        mean
    }
}

/// Flux in nJy of an AB magnitude.
#[inline]
pub(crate) fn mag_to_njy(mag: f64) -> f64 {
    10f64.powf(-0.4 * (mag - AB_ZERO_POINT_NJY))
}

/// Reference wavelength of every model's "g" quantities (Å; ZTF g, Bellm et al. 2019).
pub(crate) const LAMBDA_G: f64 = 4800.0;
/// ZTF r effective wavelength (Å), the other end of a g − r colour.
const LAMBDA_R: f64 = 6400.0;

/// Position of `lambda` on a colour axis where g is 0 and r is 1 (logarithmic in wavelength,
/// clamped to −1.5 … 2 so that extrapolation to u or y stays tame).
#[inline]
pub(crate) fn colour_axis(lambda: f64) -> f64 {
    ((lambda / LAMBDA_G).ln() / (LAMBDA_R / LAMBDA_G).ln()).clamp(-1.5, 2.0)
}

/// Flux ratio F(λ)/F(g) of a source with colour `g_minus_r` (mag): a power law in wavelength
/// through g and r.
#[inline]
pub(crate) fn colour_factor(g_minus_r: f64, lambda: f64) -> f64 {
    10f64.powf(0.4 * g_minus_r * colour_axis(lambda))
}

#[inline]
pub(crate) fn uniform(rng: &mut SimRng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// A magnitude in `[bright, faint]` from number counts N(< m) ∝ 10^(slope·m): Galactic stars
/// have slope ≈ 0.3 at these magnitudes (Bahcall & Soneira 1980, ApJS 44, 73), so most sources
/// sit near the faint end, as in a real alert stream.
pub(crate) fn counts_magnitude(rng: &mut SimRng, bright: f64, faint: f64, slope: f64) -> f64 {
    let lo = 10f64.powf(slope * (bright - faint));
    let x = uniform(rng, lo, 1.0);
    faint + x.log10() / slope
}

#[inline]
pub(crate) fn log_uniform(rng: &mut SimRng, lo: f64, hi: f64) -> f64 {
    (lo.ln() + (hi.ln() - lo.ln()) * rng.random::<f64>()).exp()
}

#[inline]
pub(crate) fn normal(rng: &mut SimRng, mean: f64, sigma: f64) -> f64 {
    mean + sigma * rng.sample::<f64, _>(StandardNormal)
}

/// A normal draw clamped to `[lo, hi]`.
#[inline]
pub(crate) fn normal_clamped(rng: &mut SimRng, mean: f64, sigma: f64, lo: f64, hi: f64) -> f64 {
    normal(rng, mean, sigma).clamp(lo, hi)
}

/// Exact Ornstein–Uhlenbeck (damped random walk) process on irregular times: with
/// a = e^(−Δt/τ), x(t+Δt) = a·x(t) + N(0, σ²(1 − a²)) (Kelly et al. 2009, ApJ 698, 895, eq. A5;
/// stationary variance σ² = SF∞²/2, MacLeod et al. 2010, ApJ 721, 1014).
///
/// Optionally low-passed: y follows x with a lag τ_s (dy/dt = (x − y)/τ_s), which keeps the
/// walk's variance on timescales ≫ τ_s but makes it smooth below, its power spectrum falling as
/// f⁻⁴ rather than f⁻² above 1/(2πτ_s). Kepler light curves of AGN show such steep spectra on
/// timescales of days to weeks (Mushotzky et al. 2011, ApJ 743, L12; Kasliwal et al. 2015,
/// MNRAS 451, 4328), where a plain damped random walk varies too much.
#[derive(Debug, Clone)]
pub(crate) struct Ou {
    pub tau: f64,
    /// Stationary standard deviation (σ = SF∞/√2).
    pub sigma: f64,
    /// Lag of the low-pass (days); `None`: the plain walk.
    smoothing: Option<f64>,
    /// Time, walk and low-passed walk at the last call.
    state: Option<(f64, f64, f64)>,
}

impl Ou {
    pub fn new(tau: f64, sigma: f64) -> Self {
        Ou {
            tau,
            sigma,
            smoothing: None,
            state: None,
        }
    }

    /// A walk low-passed with lag `tau_smooth` (days).
    pub fn smoothed(tau: f64, sigma: f64, tau_smooth: f64) -> Self {
        Ou {
            smoothing: Some(tau_smooth),
            ..Ou::new(tau, sigma)
        }
    }

    /// The walk advanced exactly by `dt` from `x`.
    fn step(&self, x: f64, dt: f64, rng: &mut SimRng) -> f64 {
        let a = (-dt / self.tau).exp();
        a * x + normal(rng, 0.0, self.sigma * (1.0 - a * a).sqrt())
    }

    /// The process at `t` (non-decreasing calls; the same `t` returns the same value).
    pub fn at(&mut self, t: f64, rng: &mut SimRng) -> f64 {
        let (x, y) = match self.state {
            None => {
                let x = normal(rng, 0.0, self.sigma);
                (x, x)
            }
            Some((t_prev, x_prev, y_prev)) => {
                let dt = (t - t_prev).max(0.0);
                if dt == 0.0 {
                    return y_prev;
                }
                match self.smoothing {
                    None => {
                        let x = self.step(x_prev, dt, rng);
                        (x, x)
                    }
                    Some(lag) => {
                        // The low-pass forgets all but its last ~10 lags: jump the walk over
                        // the rest, then follow it in steps of a quarter lag.
                        let (mut x, mut y, mut left) = (x_prev, y_prev, dt);
                        if left > 10.0 * lag {
                            x = self.step(x, left - 10.0 * lag, rng);
                            y = x;
                            left = 10.0 * lag;
                        }
                        let n = (left / (0.25 * lag)).ceil().max(1.0);
                        let h = left / n;
                        let keep = (-h / lag).exp();
                        for _ in 0..n as usize {
                            x = self.step(x, h, rng);
                            y = x + (y - x) * keep;
                        }
                        (x, y)
                    }
                }
            }
        };
        self.state = Some((t, x, y));
        y
    }
}

#[cfg(test)]
mod walk_tests {
    use super::*;
    use rand::SeedableRng;

    /// RMS of the process and of its changes over `lag` days, sampled daily for 40,000 days.
    fn rms(mut walk: Ou, lag: usize) -> (f64, f64) {
        let mut rng = SimRng::seed_from_u64(4);
        let xs: Vec<f64> = (0..40_000)
            .map(|d| walk.at(f64::from(d), &mut rng))
            .collect();
        let level = (xs.iter().map(|x| x * x).sum::<f64>() / xs.len() as f64).sqrt();
        let diffs = xs.windows(lag + 1).map(|w| (w[lag] - w[0]).powi(2));
        let change = (diffs.sum::<f64>() / (xs.len() - lag) as f64).sqrt();
        (level, change)
    }

    #[test]
    fn a_smoothed_walk_keeps_its_amplitude_but_varies_less_within_days() {
        let (tau, sigma, lag) = (300.0, 0.2, 20.0);
        let (plain_level, plain_change) = rms(Ou::new(tau, sigma), 3);
        let compensated = sigma * ((tau + lag) / tau).sqrt();
        let (smooth_level, smooth_change) = rms(Ou::smoothed(tau, compensated, lag), 3);
        for level in [plain_level, smooth_level] {
            assert!(
                (level / sigma - 1.0).abs() < 0.15,
                "level {level} against σ {sigma}"
            );
        }
        // A DRW changes by σ·√(2·3/300) ≈ 0.028 over 3 days; the low-pass leaves a small part.
        assert!(
            smooth_change < 0.4 * plain_change,
            "3-day change {smooth_change} smoothed against {plain_change}"
        );
    }
}
