//! Supernova light curves: a Villar et al. (2019, ApJ 884, 83) style rise × plateau × decline shape
//! (Bazin et al. 2009, A&A 499, 653, is its γ → 0 limit), extended with a second, slow tail (⁵⁶Co
//! decay) and an SN Ia secondary maximum in r/i; colour evolves with time and is applied at the
//! rest-frame wavelength. Peak absolute magnitudes and time scales: science.md.

use super::{Context, Fluxes, LAMBDA_G, SimRng, colour_axis, mag_to_njy, normal_clamped, uniform};
use crate::Class;
use crate::cosmology::{distance_modulus_fast, redshift_for_distance_modulus_fast};

/// Rest-frame shape parameters (days).
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    /// Logistic rise time scale: flux ∝ 1/(1 + e^(−τ/τ_rise)); rise from 1 % to peak ≈ 5·τ_rise.
    pub tau_rise: f64,
    /// Plateau decline rate (1/d), the same in every band: colour changes come from [`Colour`].
    pub beta: f64,
    /// Plateau duration (d).
    pub gamma: f64,
    /// e-folding time of the first decline after the plateau, at g; × (λ/4800 Å)^fall_index.
    pub tau_fall: f64,
    pub fall_index: f64,
    /// Fraction of the post-plateau flux in the slow tail, and its e-folding time.
    pub tail_frac: f64,
    pub tau_tail: f64,
    /// Instead of exponentials after the plateau: flux ∝ (1 + x/t_pl)^(−power) (TDE: 5/3).
    pub power_law: Option<(f64, f64)>,
    /// SN Ia secondary maximum: (amplitude at i relative to peak, rest days after t0, width σ).
    pub bump: Option<(f64, f64, f64)>,
}

/// g − r colour evolution (mag): `early` before peak, `peak` at peak, then linearly to `late`
/// over `t_redden` rest-frame days.
#[derive(Debug, Clone)]
pub(crate) struct Colour {
    pub early: f64,
    pub peak: f64,
    pub late: f64,
    pub t_redden: f64,
}

/// An explosive transient at redshift z.
#[derive(Debug, Clone)]
pub(crate) struct TransientModel {
    /// Observer-frame MJD of the shape's origin (half-way up the rise).
    t0: f64,
    z: f64,
    /// Peak flux (nJy) in the observer band at rest-frame g.
    amp: f64,
    shape: Shape,
    colour: Colour,
    /// Rest-frame days of the g peak after t0 and the normalisation of the shape there.
    t_peak: f64,
    norm: f64,
}

impl TransientModel {
    /// A transient of peak absolute magnitude `abs_peak` (rest g) at redshift `z`, peaking at
    /// observer MJD `t_peak_obs`.
    pub fn new(shape: Shape, colour: Colour, abs_peak: f64, z: f64, t_peak_obs: f64) -> Self {
        // Peak of the shape at g, by a coarse then fine grid search.
        let mut model = TransientModel {
            t0: 0.0,
            z,
            amp: 1.0,
            shape,
            colour,
            t_peak: 0.0,
            norm: 1.0,
        };
        let (mut best_t, mut best_f) = (0.0, f64::MIN);
        let horizon = 6.0 * model.shape.tau_rise + model.shape.gamma + 60.0;
        let mut t = -3.0 * model.shape.tau_rise;
        let step = (horizon / 400.0).max(0.02);
        while t < horizon {
            let f = model.shape_at(t, LAMBDA_G);
            if f > best_f {
                (best_t, best_f) = (t, f);
            }
            t += step;
        }
        let mut t = best_t - step;
        while t < best_t + step {
            let f = model.shape_at(t, LAMBDA_G);
            if f > best_f {
                (best_t, best_f) = (t, f);
            }
            t += step / 50.0;
        }
        model.t_peak = best_t;
        model.norm = best_f.max(1e-12);
        // Apparent peak: m = M + μ(z) − 2.5·log10(1 + z): the (1+z) bandwidth term of the
        // K-correction for f_ν (Hogg et al. 2002, astro-ph/0210394, eq. 13); the colour term is
        // applied by evaluating the colour at the rest-frame wavelength.
        let m_peak = abs_peak + distance_modulus_fast(z) - 2.5 * (1.0 + z).log10();
        model.amp = mag_to_njy(m_peak);
        model.t0 = t_peak_obs - best_t * (1.0 + z);
        model
    }

    pub fn redshift(&self) -> f64 {
        self.z
    }

    /// Observer-frame MJD of the g-band peak.
    #[cfg(test)]
    pub fn peak_mjd(&self) -> f64 {
        self.t0 + self.t_peak * (1.0 + self.z)
    }

    /// Shape at rest-frame time τ (days after t0) and rest wavelength λ, not normalised.
    fn shape_at(&self, tau: f64, lambda: f64) -> f64 {
        let s = &self.shape;
        let rise = 1.0 / (1.0 + (-tau / s.tau_rise).exp());
        let ratio = lambda / LAMBDA_G;
        let decline = if tau <= 0.0 {
            1.0
        } else if tau < s.gamma {
            (-s.beta * tau).exp()
        } else {
            let p = (-s.beta * s.gamma).exp();
            let x = tau - s.gamma;
            match s.power_law {
                Some((t_pl, power)) => p * (1.0 + x / t_pl).powf(-power),
                None => {
                    let tau_fall = s.tau_fall * ratio.powf(s.fall_index);
                    p * ((1.0 - s.tail_frac) * (-x / tau_fall).exp()
                        + s.tail_frac * (-x / s.tau_tail).exp())
                }
            }
        };
        let mut f = rise * decline;
        if let Some((amp, t2, width)) = s.bump {
            // Secondary maximum in r and i only (Kasen 2006, ApJ 649, 939): weight 0 at ≤ 5500 Å,
            // 1 at i (7900 Å).
            let w = ((lambda - 5500.0) / 2400.0).clamp(0.0, 1.2);
            if w > 0.0 {
                let d = (tau - t2) / width;
                f += amp * w * (-0.5 * d * d).exp();
            }
        }
        f
    }

    fn colour_at(&self, tau: f64) -> f64 {
        let c = &self.colour;
        let since_peak = tau - self.t_peak;
        if since_peak < 0.0 {
            let w = (-since_peak / 10.0).min(1.0);
            c.peak + (c.early - c.peak) * w
        } else {
            c.peak + (c.late - c.peak) * (since_peak / c.t_redden).min(1.0)
        }
    }

    pub fn eval(&self, t: f64, lambda_obs: f64) -> Fluxes {
        let zp1 = 1.0 + self.z;
        let tau = (t - self.t0) / zp1;
        let lambda = lambda_obs / zp1;
        let shape = self.shape_at(tau, lambda) / self.norm;
        let colour = 10f64.powf(0.4 * self.colour_at(tau) * colour_axis(lambda));
        let diff = self.amp * shape * colour;
        Fluxes { diff, total: diff }
    }
}

/// Nearest redshift drawn (≈ 9 Mpc): keeps the distance modulus finite.
const MIN_REDSHIFT: f64 = 0.002;

/// A redshift uniform in (Euclidean) volume below `z_max`: p(z) ∝ z², so z = z_max·u^(1/3).
fn volume_weighted(z_max: f64, rng: &mut SimRng) -> f64 {
    (z_max * uniform(rng, 0.0, 1.0).cbrt()).max(MIN_REDSHIFT)
}

/// A redshift for a transient of peak absolute magnitude `abs_peak`, volume-weighted up to the
/// distance where its peak reaches the survey's limit.
pub(crate) fn sample_redshift(
    ctx: &Context,
    abs_peak: f64,
    z_max_cap: f64,
    rng: &mut SimRng,
) -> f64 {
    let limit = ctx.transient_limit(rng);
    let z_max = redshift_for_distance_modulus_fast(limit - abs_peak).min(z_max_cap);
    volume_weighted(z_max, rng)
}

/// Supernova redshifts: a mixture of the volume-limited sample above and nearby, bright events that
/// spectroscopic follow-up favours (ZTF Bright Transient Survey, m_peak < 18.5–19: Fremling et al.
/// 2020, ApJ 895, 32; Perley et al. 2020, ApJ 904, 35), so labelled SNe can be bright.
fn sample_sn_redshift(ctx: &Context, abs_peak: f64, z_cap: f64, rng: &mut SimRng) -> f64 {
    let at_peak_mag = |m: f64| {
        redshift_for_distance_modulus_fast(m - abs_peak)
            .min(z_cap)
            .max(MIN_REDSHIFT)
    };
    let u: f64 = uniform(rng, 0.0, 1.0);
    match ctx.survey {
        alert_model::Survey::Ztf if u < 0.3 => {
            volume_weighted(at_peak_mag(uniform(rng, 18.0, 19.0)), rng)
        }
        alert_model::Survey::Ztf if u < 0.5 => at_peak_mag(uniform(rng, 12.5, 17.0)),
        alert_model::Survey::Lsst if u < 0.2 => at_peak_mag(uniform(rng, 17.0, 21.0)),
        _ => sample_redshift(ctx, abs_peak, z_cap, rng),
    }
}

/// Observer-frame peak time for a window: anywhere from shortly before the window to its end.
pub(crate) fn sample_peak_time(ctx: &Context, pre_days: f64, rng: &mut SimRng) -> f64 {
    uniform(rng, ctx.t_start - pre_days, ctx.t_end)
}

/// A supernova of class SNIa, SNIbc, SNII or SLSN.
pub(crate) fn sample(class: Class, ctx: &Context, rng: &mut SimRng) -> TransientModel {
    let (shape, colour, abs_peak, z_cap) = match class {
        Class::SnIa => sn_ia(rng),
        Class::SnIbc => sn_ibc(rng),
        Class::SnII => sn_ii(rng),
        _ => slsn(rng),
    };
    let z_cap = match ctx.survey {
        alert_model::Survey::Ztf => z_cap.min(0.4),
        alert_model::Survey::Lsst => z_cap,
    };
    let z = sample_sn_redshift(ctx, abs_peak, z_cap, rng);
    let pre = 30.0 * (1.0 + z);
    let t_peak = sample_peak_time(ctx, pre, rng);
    TransientModel::new(shape, colour, abs_peak, z, t_peak)
}

/// SN Ia: M = −19.3 ± 0.3 (Richardson et al. 2014, AJ 147, 118); rise 16–20 d; Δm15(B) 0.8–1.7;
/// secondary maximum in r/i at +20–30 d; tail 0.01–0.02 mag/d; g − r ≈ −0.1…0 at peak reddening
/// to ≈ +1 by +30 d.
fn sn_ia(rng: &mut SimRng) -> (Shape, Colour, f64, f64) {
    let rise = uniform(rng, 16.0, 20.0);
    let dm15 = uniform(rng, 0.8, 1.7);
    let shape = Shape {
        tau_rise: rise / 5.5,
        beta: 0.0,
        gamma: uniform(rng, 0.0, 3.0),
        // Δm15 ≈ 1.0857·15/τ_fall for an exponential decline.
        tau_fall: 16.3 / dm15,
        fall_index: 1.0,
        tail_frac: uniform(rng, 0.08, 0.15),
        tau_tail: 1.0857 / uniform(rng, 0.01, 0.02),
        power_law: None,
        bump: Some((
            uniform(rng, 0.15, 0.35),
            rise / 5.5 * 4.0 + uniform(rng, 20.0, 30.0),
            6.0,
        )),
    };
    let colour = Colour {
        early: uniform(rng, -0.05, 0.1),
        peak: uniform(rng, -0.1, 0.0),
        late: normal_clamped(rng, 1.0, 0.15, 0.6, 1.4),
        t_redden: 30.0,
    };
    let m = normal_clamped(rng, -19.3, 0.3, -20.2, -18.4);
    (shape, colour, m, 1.2)
}

/// SN Ibc: M = −17.5 ± 0.5 (Ic-BL ≈ −18.5); rise 10–15 d; 0.05–0.1 mag/d over the first month;
/// redder than SN Ia at peak.
fn sn_ibc(rng: &mut SimRng) -> (Shape, Colour, f64, f64) {
    let rise = uniform(rng, 10.0, 15.0);
    let shape = Shape {
        tau_rise: rise / 5.5,
        beta: 0.0,
        gamma: uniform(rng, 0.0, 3.0),
        tau_fall: 1.0857 / uniform(rng, 0.05, 0.1),
        fall_index: 0.8,
        tail_frac: uniform(rng, 0.1, 0.25),
        tau_tail: 1.0857 / uniform(rng, 0.015, 0.025),
        power_law: None,
        bump: None,
    };
    let colour = Colour {
        early: uniform(rng, 0.1, 0.4),
        peak: uniform(rng, 0.2, 0.5),
        late: uniform(rng, 0.9, 1.4),
        t_redden: 30.0,
    };
    let m = if rng_bool(rng, 0.15) {
        normal_clamped(rng, -18.5, 0.4, -19.5, -17.5)
    } else {
        normal_clamped(rng, -17.5, 0.5, -18.7, -16.0)
    };
    (shape, colour, m, 0.6)
}

/// SN II: M = −16.7 ± 1 (−14…−18); rise 5–10 d; IIP plateau 80–120 d in r, IIL 0.03–0.05 mag/d;
/// then a 1–2 mag drop and the ⁵⁶Co tail at 0.0098 mag/d; g fades faster than r as the colour reddens.
fn sn_ii(rng: &mut SimRng) -> (Shape, Colour, f64, f64) {
    let rise = uniform(rng, 5.0, 10.0);
    let plateau = rng_bool(rng, 0.7);
    let (beta_r, gamma) = if plateau {
        (uniform(rng, 0.0, 0.01) / 1.0857, uniform(rng, 80.0, 120.0))
    } else {
        (uniform(rng, 0.03, 0.05) / 1.0857, uniform(rng, 60.0, 90.0))
    };
    // The plateau declines alike in all bands: its reddening comes from the colour evolution
    // alone, which keeps g − r below ≈ 1.5 through the plateau (de Jaeger et al. 2018,
    // MNRAS 476, 4592). A band-dependent decline on top of it reddened simulated SNe II twice,
    // to g − r > 1.8, where real ones are LPVs. Known flaw: the colour is anchored at g, so the
    // reddening lifts r through the plateau (docs/eda.md); g should fade at β_r plus the
    // reddening rate (built and measured, not shipped: docs/experiments/).
    let drop_mag = uniform(rng, 1.0, 2.0);
    let shape = Shape {
        tau_rise: rise / 5.0,
        beta: beta_r,
        gamma,
        tau_fall: uniform(rng, 5.0, 12.0),
        fall_index: 0.5,
        tail_frac: 10f64.powf(-0.4 * drop_mag),
        tau_tail: 1.0857 / 0.0098,
        power_law: None,
        bump: None,
    };
    let colour = Colour {
        early: uniform(rng, -0.4, -0.1),
        peak: uniform(rng, -0.3, 0.0),
        late: uniform(rng, 0.8, 1.5),
        t_redden: uniform(rng, 50.0, 80.0),
    };
    let m = normal_clamped(rng, -16.7, 1.0, -18.0, -14.0);
    (shape, colour, m, 0.5)
}

/// SLSN-I: M −21…−22; rise 25–60 d; 0.02–0.04 mag/d; hot and blue at peak (g − r ≈ −0.3).
fn slsn(rng: &mut SimRng) -> (Shape, Colour, f64, f64) {
    let rise = uniform(rng, 25.0, 60.0);
    let shape = Shape {
        tau_rise: rise / 5.0,
        beta: 0.0,
        gamma: uniform(rng, 0.0, 10.0),
        tau_fall: 1.0857 / uniform(rng, 0.02, 0.04),
        fall_index: 0.6,
        tail_frac: 0.0,
        tau_tail: 100.0,
        power_law: None,
        bump: None,
    };
    let colour = Colour {
        early: uniform(rng, -0.5, -0.2),
        peak: normal_clamped(rng, -0.3, 0.1, -0.5, -0.1),
        late: uniform(rng, 0.2, 0.7),
        t_redden: 100.0,
    };
    let m = uniform(rng, -22.0, -21.0);
    (shape, colour, m, 2.0)
}

pub(crate) fn rng_bool(rng: &mut SimRng, p: f64) -> bool {
    uniform(rng, 0.0, 1.0) < p
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn ia_at(z: f64) -> TransientModel {
        let mut rng = SimRng::seed_from_u64(1);
        let (shape, colour, _, _) = sn_ia(&mut rng);
        TransientModel::new(shape, colour, -19.3, z, 60_000.0)
    }

    #[test]
    fn sn_ia_peak_matches_distance_modulus() {
        // At z = 0.1, μ ≈ 38.32; the observed peak at rest-frame g is M + μ − 2.5 log10(1.1).
        let m = ia_at(0.1);
        let lambda_obs = LAMBDA_G * 1.1;
        let peak = m.eval(m.peak_mjd(), lambda_obs).diff;
        let mag = -2.5 * peak.log10() + 31.4;
        let expected = -19.3 + 38.32 - 2.5 * 1.1f64.log10();
        // Colour at peak is ≤ 0.1 mag from the g reference.
        assert!((mag - expected).abs() < 0.1, "{mag} vs {expected}");
    }

    #[test]
    fn transients_start_near_zero_and_peak() {
        let m = ia_at(0.05);
        let tp = m.peak_mjd();
        let peak = m.eval(tp, 6400.0).diff;
        let before = m.eval(tp - 60.0, 6400.0).diff;
        assert!(before < 0.01 * peak);
        assert!(m.eval(tp + 60.0, 6400.0).diff < 0.5 * peak);
        assert!(m.eval(tp - 10.0, 6400.0).diff < peak);
    }

    #[test]
    fn sn_ia_reddens_after_peak() {
        let m = ia_at(0.02);
        let gr = |t: f64| {
            let g = m.eval(t, 4800.0).diff;
            let r = m.eval(t, 6400.0).diff;
            -2.5 * (g / r).log10()
        };
        let tp = m.peak_mjd();
        assert!(gr(tp) < 0.3, "{}", gr(tp));
        assert!(gr(tp + 30.0) > 0.5, "{}", gr(tp + 30.0));
    }

    #[test]
    fn sn_ii_stay_bluer_than_lpvs_through_the_plateau() {
        // g − r of SNe II stays below ≈ 1.5 through the plateau (de Jaeger et al. 2018,
        // MNRAS 476, 4592); a redder, slowly varying source is an LPV.
        let mut rng = SimRng::seed_from_u64(9);
        for _ in 0..100 {
            let (shape, colour, m, _) = sn_ii(&mut rng);
            let plateau_end = shape.gamma;
            let sn = TransientModel::new(shape, colour, m, 0.01, 60_000.0);
            let tp = sn.peak_mjd();
            let mut t = tp;
            while t < tp + plateau_end - 10.0 {
                let gr = -2.5 * (sn.eval(t, 4800.0).diff / sn.eval(t, 6400.0).diff).log10();
                assert!(gr < 1.6, "g − r {gr} at {} d after peak", t - tp);
                t += 5.0;
            }
        }
    }

    #[test]
    fn sn_ii_plateau_is_flatter_in_r_than_g() {
        let mut rng = SimRng::seed_from_u64(3);
        loop {
            let (shape, colour, m, _) = sn_ii(&mut rng);
            if shape.gamma < 80.0 {
                continue;
            }
            let sn = TransientModel::new(shape, colour, m, 0.01, 60_000.0);
            let tp = sn.peak_mjd();
            let fade = |l: f64| sn.eval(tp + 50.0, l).diff / sn.eval(tp, l).diff;
            assert!(fade(6400.0) > fade(4800.0));
            break;
        }
    }
}
