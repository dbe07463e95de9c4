//! Anomaly classes, never shown in training: tidal disruption events, kilonovae, microlensing and
//! pair-instability / slow luminous supernovae (parameters: science.md).

use super::supernova::{
    Colour, Shape, TransientModel, rng_bool, sample_peak_time, sample_redshift,
};
use super::{
    Context, Fluxes, SimRng, colour_factor, counts_magnitude, log_uniform, mag_to_njy, uniform,
};
use crate::Class;

/// TDE, kilonova or PISN, as a [`TransientModel`].
pub(crate) fn sample_transient(class: Class, ctx: &Context, rng: &mut SimRng) -> TransientModel {
    let (shape, colour, abs_peak, z_cap, pre): (Shape, Colour, f64, f64, f64) = match class {
        // TDE: M −19…−20, rise 20–30 d, then ∝ t^(−5/3) (Rees 1988, Nature 333, 523), constantly
        // blue (g − r ≈ −0.3…−0.5; van Velzen et al. 2021, ApJ 908, 4).
        Class::Tde => {
            let c = uniform(rng, -0.5, -0.3);
            (
                Shape {
                    tau_rise: uniform(rng, 20.0, 30.0) / 5.0,
                    beta: 0.0,
                    gamma: uniform(rng, 0.0, 5.0),
                    tau_fall: 1.0,
                    fall_index: 0.0,
                    tail_frac: 0.0,
                    tau_tail: 1.0,
                    power_law: Some((uniform(rng, 20.0, 60.0), 5.0 / 3.0)),
                    bump: None,
                },
                Colour {
                    early: c,
                    peak: c,
                    late: c + uniform(rng, 0.0, 0.1),
                    t_redden: 100.0,
                },
                uniform(rng, -20.0, -19.0),
                1.0,
                40.0,
            )
        }
        // Kilonova: M −15…−16, rise ≈ 1 d, 0.5–1 mag/d with rapid reddening (Kasen et al. 2017,
        // Nature 551, 80; AT2017gfo).
        Class::Kilonova => (
            Shape {
                tau_rise: uniform(rng, 0.15, 0.3),
                beta: 0.0,
                gamma: 0.0,
                tau_fall: 1.0857 / uniform(rng, 0.5, 1.0),
                fall_index: 1.5,
                tail_frac: 0.0,
                tau_tail: 1.0,
                power_law: None,
                bump: None,
            },
            Colour {
                early: uniform(rng, -0.3, 0.0),
                peak: uniform(rng, -0.1, 0.3),
                late: uniform(rng, 1.2, 2.0),
                t_redden: uniform(rng, 4.0, 7.0),
            },
            uniform(rng, -16.0, -15.0),
            0.3,
            5.0,
        ),
        // PISN / slow luminous SN: M −20…−22, rise 100–200 d, very slow decline (Gal-Yam et al.
        // 2009, Nature 462, 624; Kasen et al. 2011, ApJ 734, 102).
        _ => (
            Shape {
                tau_rise: uniform(rng, 100.0, 200.0) / 5.0,
                beta: 0.0,
                gamma: uniform(rng, 0.0, 30.0),
                tau_fall: 1.0857 / uniform(rng, 0.005, 0.015),
                fall_index: 0.3,
                tail_frac: 0.0,
                tau_tail: 1.0,
                power_law: None,
                bump: None,
            },
            Colour {
                early: uniform(rng, -0.2, 0.1),
                peak: uniform(rng, 0.0, 0.3),
                late: uniform(rng, 0.5, 1.0),
                t_redden: 200.0,
            },
            uniform(rng, -22.0, -20.0),
            2.0,
            150.0,
        ),
    };
    let z_cap = match ctx.survey {
        alert_model::Survey::Ztf => z_cap.min(0.3),
        alert_model::Survey::Lsst => z_cap,
    };
    let z = sample_redshift(ctx, abs_peak, z_cap, rng);
    let t_peak = sample_peak_time(ctx, pre * (1.0 + z), rng);
    TransientModel::new(shape, colour, abs_peak, z, t_peak)
}

/// Point-source point-lens microlensing: A(u) = (u² + 2)/(u·√(u² + 4)),
/// u² = u0² + ((t − t0)/tE)² (Paczyński 1986, ApJ 304, 1); achromatic; a fraction `blend` of the
/// baseline flux belongs to the lensed source.
#[derive(Debug, Clone)]
pub(crate) struct MicrolensingModel {
    t0: f64,
    t_e: f64,
    u0: f64,
    /// Baseline (unlensed) flux at g, nJy, and its colour.
    f0: f64,
    g_minus_r: f64,
    blend: f64,
}

impl MicrolensingModel {
    pub fn sample(ctx: &Context, rng: &mut SimRng) -> Self {
        let (bright, faint) = ctx.magnitude_range();
        let t_e = log_uniform(rng, 10.0, 100.0);
        MicrolensingModel {
            t0: uniform(rng, ctx.t_start - 0.5 * t_e, ctx.t_end + 0.5 * t_e),
            t_e,
            u0: log_uniform(rng, 0.01, 1.0),
            f0: mag_to_njy(counts_magnitude(rng, bright + 2.0, faint + 0.5, 0.3)),
            g_minus_r: uniform(rng, 0.3, 1.5),
            blend: if rng_bool(rng, 0.5) {
                1.0
            } else {
                uniform(rng, 0.2, 1.0)
            },
        }
    }

    /// Magnification at MJD `t`.
    pub fn magnification(&self, t: f64) -> f64 {
        let d = (t - self.t0) / self.t_e;
        let u2 = self.u0 * self.u0 + d * d;
        let u = u2.sqrt();
        (u2 + 2.0) / (u * (u2 + 4.0).sqrt())
    }

    pub fn eval(&self, t: f64, lambda: f64) -> Fluxes {
        let base = self.f0 * colour_factor(self.g_minus_r, lambda);
        let diff = base * self.blend * (self.magnification(t) - 1.0);
        Fluxes {
            diff,
            total: base + diff,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paczynski_magnification() {
        let m = MicrolensingModel {
            t0: 0.0,
            t_e: 20.0,
            u0: 1.0,
            f0: 1000.0,
            g_minus_r: 0.5,
            blend: 1.0,
        };
        // A(1) = 3/√5 ≈ 1.342.
        assert!((m.magnification(0.0) - 1.3416).abs() < 1e-3);
        assert!((m.magnification(15.0) - m.magnification(-15.0)).abs() < 1e-12);
        assert!(m.eval(1000.0, 4800.0).diff < 1.0);
    }
}
