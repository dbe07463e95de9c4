//! Active galactic nuclei: a damped random walk in magnitude (Kelly et al. 2009, ApJ 698, 895;
//! MacLeod et al. 2010, ApJ 721, 1014), updated exactly on irregular times; blazars add flares.
//! The reference (template) flux is the mean state, so the difference flux has both signs.

use super::{
    Context, Fluxes, LAMBDA_G, Ou, SimRng, colour_factor, counts_magnitude, log_uniform,
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
        let mut flares = Vec::new();
        if class == Class::Blazar {
            // Flares: ~1 per 30–200 d, 0.3–2 mag, rise 1–10 d, decay 3–30 d.
            let rate = 1.0 / log_uniform(rng, 30.0, 200.0);
            let mut t = ctx.t_start - 60.0;
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
        DrwModel {
            z,
            f0,
            g_minus_r,
            host: f0 * host_ratio,
            walk: Ou::new(tau_obs, sf_inf / std::f64::consts::SQRT_2),
            chromatic: if class == Class::Blazar { 0.7 } else { 0.479 },
            flares,
        }
    }

    pub fn redshift(&self) -> f64 {
        self.z
    }

    pub fn eval(&mut self, t: f64, lambda: f64, rng: &mut SimRng) -> Fluxes {
        let x = self.walk.at(t, rng);
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
        let mean = self.f0 * colour_factor(self.g_minus_r, lambda);
        let now = mean * 10f64.powf(-0.4 * dm);
        let host = self.host * colour_factor(1.0, lambda);
        Fluxes {
            diff: now - mean,
            total: now + host,
        }
    }
}
