//! Active galactic nuclei: a damped random walk in magnitude (Kelly et al. 2009, ApJ 698, 895;
//! MacLeod et al. 2010, ApJ 721, 1014), updated exactly on irregular times; blazars add flares.
//! The reference is the mean over the reference image's frames, taken months to years before the
//! alerts: a walk with a timescale of hundreds of days has moved by about SF(Δt) since, so over a
//! month the difference flux sits above or below zero, as every SIMBAD AGN, QSO and blazar in the
//! Fink sample does (12 of 12 single-signed over 12–30 days).

use super::{
    Context, Fluxes, LAMBDA_G, Ou, SimRng, Template, colour_factor, counts_magnitude, log_uniform,
    mag_to_njy, uniform,
};
use crate::Class;

/// A blazar flare in magnitudes: exponential rise then exponential decay.
#[derive(Debug, Clone)]
struct Flare {
    t: f64,
    amp_mag: f64,
    rise: f64,
    decay: f64,
}

/// QSO, host-diluted AGN or blazar.
#[derive(Debug, Clone)]
pub(crate) struct DrwModel {
    z: f64,
    /// Mean nuclear flux at g (nJy) and its g − r colour.
    f0: f64,
    g_minus_r: f64,
    /// Host flux at g in the same aperture (adds to the total, not to the difference).
    host: f64,
    /// Random walk in magnitudes at rest-frame 4000 Å.
    walk: Ou,
    /// Variability amplitude ∝ λ_rest^(−chromatic) (MacLeod et al. 2010: SF ∝ λ^−0.479).
    chromatic: f64,
    flares: Vec<Flare>,
    /// Epoch and walk state of each reference frame, in time order.
    frames: Vec<(f64, f64)>,
    /// The reference's flux in units of the mean nuclear flux, cached per wavelength.
    template: Template,
}

impl DrwModel {
    pub fn sample(class: Class, ctx: &Context, rng: &mut SimRng) -> Self {
        let (bright, faint) = ctx.magnitude_range();
        // Per class: redshift range, rest-frame τ (d), SF∞ (mag), mean magnitude range.
        let (z, tau_rest, sf_inf, mag, g_minus_r, host_ratio) = match class {
            // QSO: SF∞ 0.1–0.3 mag, τ 100–1000 d rest (science.md).
            Class::Qso => (
                uniform(rng, 0.3, 3.0),
                log_uniform(rng, 100.0, 1000.0),
                uniform(rng, 0.1, 0.3),
                counts_magnitude(rng, bright + 3.0, faint, 0.4),
                uniform(rng, -0.1, 0.4),
                0.0,
            ),
            // Low-luminosity AGN: fainter nucleus in a bright host; the difference image sees only
            // the nucleus, so the difference flux is smaller than a QSO's of the same total.
            Class::Agn => (
                uniform(rng, 0.01, 0.4),
                log_uniform(rng, 50.0, 600.0),
                uniform(rng, 0.1, 0.35),
                counts_magnitude(rng, bright + 3.5, faint + 0.5, 0.4),
                uniform(rng, 0.3, 0.9),
                log_uniform(rng, 1.0, 10.0),
            ),
            // Blazar: SF∞ 0.3–1 mag, shorter τ, plus flares; bluer when brighter.
            _ => (
                uniform(rng, 0.05, 2.0),
                log_uniform(rng, 10.0, 200.0),
                uniform(rng, 0.3, 1.0),
                counts_magnitude(rng, bright + 2.5, faint + 0.5, 0.4),
                uniform(rng, 0.2, 0.8),
                0.0,
            ),
        };
        let tau_obs = tau_rest * (1.0 + z);
        let template = Template::sample(ctx, rng);
        let mut flares = Vec::new();
        if class == Class::Blazar {
            // Flares: ~1 per 30–200 d, 0.3–2 mag, rise 1–10 d, decay 3–30 d; from before the
            // reference frames, which catch some.
            let rate = 1.0 / log_uniform(rng, 30.0, 200.0);
            let first = template.span().map_or(ctx.t_start, |(first, _)| first);
            let mut t = first.min(ctx.t_start) - 60.0;
            loop {
                t += -(uniform(rng, 1e-9, 1.0)).ln() / rate;
                if t > ctx.t_end + 10.0 {
                    break;
                }
                flares.push(Flare {
                    t,
                    amp_mag: uniform(rng, 0.3, 2.0),
                    rise: uniform(rng, 1.0, 10.0),
                    decay: uniform(rng, 3.0, 30.0),
                });
            }
        }
        let f0 = mag_to_njy(mag);
        let sigma = sf_inf / std::f64::consts::SQRT_2;
        let mut walk = if class == Class::Blazar {
            // Blazars vary on timescales of days (their flares above).
            Ou::new(tau_obs, sigma)
        } else {
            // Quasars and AGN are smoother than a damped random walk below a few weeks (rest
            // lag 5–30 d, `Ou::smoothed`); real ones in 30-day ZTF views change by 0.002–0.006
            // mag/d in difference flux, simulated walks by 0.010. σ is raised by
            // √((τ + τ_s)/τ), the low-pass's loss, so SF∞ keeps its measured value.
            let lag = log_uniform(rng, 5.0, 30.0) * (1.0 + z);
            Ou::smoothed(tau_obs, sigma * ((tau_obs + lag) / tau_obs).sqrt(), lag)
        };
        // The walk steps forward in time: visit the frames in order, before any alert epoch.
        let mut epochs = template.epochs().to_vec();
        epochs.sort_by(f64::total_cmp);
        let frames = epochs.into_iter().map(|t| (t, walk.at(t, rng))).collect();
        DrwModel {
            z,
            f0,
            g_minus_r,
            host: f0 * host_ratio,
            walk,
            chromatic: if class == Class::Blazar { 0.7 } else { 0.479 },
            flares,
            frames,
            template,
        }
    }

    pub fn redshift(&self) -> f64 {
        self.z
    }

    /// Magnitude change at `lambda` (positive = fainter) for walk state `x` at `t`.
    fn dm(&self, x: f64, t: f64, lambda: f64) -> f64 {
        let lambda_rest = lambda / (1.0 + self.z);
        let scale = (lambda_rest / 4000.0).powf(-self.chromatic);
        let mut dm = x * scale;
        for f in &self.flares {
            let dt = t - f.t;
            let s = if dt < 0.0 {
                (dt / f.rise).exp()
            } else {
                (-dt / f.decay).exp()
            };
            // Flares are bluer: amplitude ∝ (λ/4800)^(−1) ("bluer when brighter").
            dm -= f.amp_mag * s * (lambda / LAMBDA_G).powi(-1);
        }
        dm
    }

    /// The reference's nuclear flux in units of the mean at `lambda`: the mean over the frames.
    fn reference_factor(&mut self, lambda: f64) -> f64 {
        if let Some(r) = self.template.cached(lambda) {
            return r;
        }
        let r = self
            .frames
            .iter()
            .map(|&(t, x)| 10f64.powf(-0.4 * self.dm(x, t, lambda)))
            .sum::<f64>()
            / self.frames.len().max(1) as f64;
        self.template.store(lambda, r)
    }

    pub fn eval(&mut self, t: f64, lambda: f64, rng: &mut SimRng) -> Fluxes {
        let x = self.walk.at(t, rng);
        let dm = self.dm(x, t, lambda);
        let mean = self.f0 * colour_factor(self.g_minus_r, lambda);
        let now = mean * 10f64.powf(-0.4 * dm);
        let reference = mean * self.reference_factor(lambda);
        let host = self.host * colour_factor(1.0, lambda);
        Fluxes {
            diff: now - reference,
            total: now + host,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn nuclei_differenced_against_an_older_template_sit_off_zero_for_a_month() {
        let ctx = Context {
            survey: alert_model::Survey::Ztf,
            t_start: 60_000.0,
            t_end: 60_030.0,
        };
        let mut rng = SimRng::seed_from_u64(3);
        let (mut brighter, mut fainter, mut single_signed) = (0, 0, 0);
        for class in [Class::Qso, Class::Agn] {
            for _ in 0..100 {
                let mut m = DrwModel::sample(class, &ctx, &mut rng);
                assert!((15..=40).contains(&m.frames.len()));
                let mean = m.f0 * colour_factor(m.g_minus_r, 6400.0);
                let window: Vec<f64> = (0..30)
                    .map(|day| m.eval(ctx.t_start + f64::from(day), 6400.0, &mut rng).diff / mean)
                    .collect();
                let mut sorted = window.clone();
                sorted.sort_by(f64::total_cmp);
                brighter += usize::from(sorted[15] > 0.05);
                fainter += usize::from(sorted[15] < -0.05);
                single_signed +=
                    usize::from(window.iter().all(|&d| d > 0.0) || window.iter().all(|&d| d < 0.0));
            }
        }
        // SF∞ 0.1–0.35 mag and τ of months to years: most nuclei have moved by several per cent
        // since the reference, and a month is too short to cross back.
        assert!(
            brighter >= 50 && fainter >= 50,
            "month-long offsets: {brighter} brighter, {fainter} fainter of 200"
        );
        assert!(
            single_signed >= 120,
            "{single_signed} of 200 single-signed months"
        );
    }
}
