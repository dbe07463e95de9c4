//! Periodic variables: pulsators (RR Lyrae, Cepheids, δ Scuti, Miras and semi-regulars), eclipsing
//! binaries (EA, EW) and rotational variables. Periods and amplitudes: science.md. The reference
//! flux is the mean over the reference image's frames ([`Template`]): about the phase
//! average for short periods, so the difference flux oscillates around zero, but one phase of a
//! long-period variable or one state of an evolving spot pattern.

use std::f64::consts::TAU;

use super::supernova::rng_bool;
use super::{
    Context, Fluxes, LAMBDA_G, Ou, SimRng, Template, colour_factor, counts_magnitude, log_uniform,
    mag_to_njy, normal_clamped, uniform,
};
use crate::Class;

/// Light-curve shape over one cycle: h(φ) in magnitudes per unit amplitude (positive = fainter).
#[derive(Debug, Clone)]
pub(crate) enum Profile {
    /// Fast rise over `rise` of the cycle, linear decline (RRab, Cepheids): h ∈ [−½, ½].
    Sawtooth { rise: f64 },
    /// Sinusoid with a first harmonic of relative amplitude `a2` and phase `psi`.
    Sine { a2: f64, psi: f64 },
    /// Detached eclipses of total width `width` (fraction of the cycle), secondary depth ratio:
    /// h ∈ [0, 1], flat out of eclipse.
    Detached { width: f64, secondary: f64 },
    /// Contact binary: continuous variation with nearly equal minima, h ∈ [0, 1].
    Contact { secondary: f64 },
}

impl Profile {
    fn h(&self, phase: f64) -> f64 {
        match *self {
            Profile::Sawtooth { rise } => {
                if phase < rise {
                    0.5 - phase / rise
                } else {
                    -0.5 + (phase - rise) / (1.0 - rise)
                }
            }
            Profile::Sine { a2, psi } => {
                0.5 * ((TAU * phase).sin() + a2 * (2.0 * TAU * phase + psi).sin()) / (1.0 + a2)
            }
            Profile::Detached { width, secondary } => {
                let half = 0.5 * width;
                let ecl = |d: f64| {
                    if d.abs() < half {
                        (1.0 - (d / half).powi(2)).powf(0.7)
                    } else {
                        0.0
                    }
                };
                let d1 = if phase > 0.5 { phase - 1.0 } else { phase };
                ecl(d1) + secondary * ecl(phase - 0.5)
            }
            Profile::Contact { secondary } => {
                let base = 0.5 + 0.5 * (2.0 * TAU * phase).cos();
                if (TAU * phase).cos() < 0.0 {
                    base * secondary
                } else {
                    base
                }
            }
        }
    }
}

/// A periodic variable star.
#[derive(Debug, Clone)]
pub(crate) struct PeriodicModel {
    /// Flux at h = 0 at g (nJy) and the star's g − r.
    f0: f64,
    g_minus_r: f64,
    pub(crate) period: f64,
    epoch: f64,
    /// Amplitude at g (mag) and its wavelength scaling A(λ) = A_g·(λ/4800)^(−amp_index).
    amp_g: f64,
    amp_index: f64,
    profile: Profile,
    /// Second mode (δ Scuti): (period, relative amplitude).
    second_mode: Option<(f64, f64)>,
    /// Amplitude modulation (spot evolution): (period in days, fractional depth).
    modulation: Option<(f64, f64)>,
    /// Irregular component (semi-regulars), magnitudes.
    walk: Option<Ou>,
    /// The reference image; its factor ⟨10^(−0.4·δm)⟩ over the frames is the template flux / f0.
    template: Template,
}

impl PeriodicModel {
    pub fn sample(class: Class, ctx: &Context, rng: &mut SimRng) -> Self {
        let (bright, faint) = ctx.magnitude_range();
        let mut m = PeriodicModel {
            f0: 0.0,
            g_minus_r: uniform(rng, 0.2, 0.8),
            period: 1.0,
            epoch: uniform(rng, 0.0, 1000.0),
            amp_g: 0.5,
            amp_index: 1.0,
            profile: Profile::Sine { a2: 0.0, psi: 0.0 },
            second_mode: None,
            modulation: None,
            walk: None,
            template: Template::quiescent(),
        };
        let mag = match class {
            // RR Lyrae: ab 0.45–0.9 d (mode ≈ 0.55), 0.5–1.2 mag, rise in ~15 % of the cycle;
            // c 0.2–0.45 d, 0.3–0.5 mag, near-sinusoidal (Smith 1995, RR Lyrae Stars).
            Class::Rrl => {
                if rng_bool(rng, 0.7) {
                    m.period = normal_clamped(rng, 0.57, 0.08, 0.45, 0.9);
                    m.amp_g = uniform(rng, 0.5, 1.2);
                    m.profile = Profile::Sawtooth {
                        rise: uniform(rng, 0.12, 0.2),
                    };
                } else {
                    m.period = uniform(rng, 0.2, 0.45);
                    m.amp_g = uniform(rng, 0.3, 0.5);
                    m.profile = Profile::Sine {
                        a2: uniform(rng, 0.0, 0.15),
                        psi: uniform(rng, 0.0, TAU),
                    };
                }
                m.g_minus_r = uniform(rng, 0.1, 0.4);
                counts_magnitude(rng, bright + 1.0, faint, 0.3)
            }
            // Classical Cepheids: 1–100 d (mostly 2–30), 0.3–1.5 mag, smaller in the red,
            // sawtooth (Soszyński et al. 2008, AcA 58, 163).
            Class::Cep => {
                m.period = log_uniform(rng, 1.5, 40.0).min(100.0);
                m.amp_g = uniform(rng, 0.3, 1.5);
                m.amp_index = 1.5;
                m.profile = Profile::Sawtooth {
                    rise: uniform(rng, 0.2, 0.35),
                };
                m.g_minus_r = uniform(rng, 0.4, 1.2);
                counts_magnitude(rng, bright, faint - 1.0, 0.3)
            }
            // δ Scuti incl. HADS: 0.02–0.25 d, 0.01–0.9 mag, often multi-periodic (Breger 2000,
            // ASP Conf. 210, 3); surveys mostly see HADS.
            Class::Dsct => {
                m.period = log_uniform(rng, 0.02, 0.25);
                m.amp_g = log_uniform(rng, 0.05, 0.9);
                m.profile = Profile::Sine {
                    a2: uniform(rng, 0.0, 0.3),
                    psi: uniform(rng, 0.0, TAU),
                };
                if rng_bool(rng, 0.5) {
                    // First overtone / fundamental period ratio ≈ 0.77.
                    m.second_mode = Some((
                        m.period * uniform(rng, 0.756, 0.787),
                        uniform(rng, 0.1, 0.6),
                    ));
                }
                m.g_minus_r = uniform(rng, 0.0, 0.4);
                counts_magnitude(rng, bright, faint - 0.5, 0.3)
            }
            // Eclipsing: EA 0.5–10+ d, primary 0.1–2 mag, eclipses 5–15 % of the cycle;
            // EW 0.25–0.45 d, 0.1–0.8 mag, nearly equal minima (Prša et al. 2011, AJ 141, 83).
            Class::E => {
                m.amp_index = 0.1;
                if rng_bool(rng, 0.55) {
                    m.period = log_uniform(rng, 0.5, 20.0);
                    m.amp_g = uniform(rng, 0.1, 2.0);
                    m.profile = Profile::Detached {
                        width: uniform(rng, 0.05, 0.15),
                        secondary: uniform(rng, 0.0, 0.6),
                    };
                } else {
                    m.period = uniform(rng, 0.25, 0.45);
                    m.amp_g = uniform(rng, 0.1, 0.8);
                    m.profile = Profile::Contact {
                        secondary: uniform(rng, 0.8, 1.0),
                    };
                }
                counts_magnitude(rng, bright, faint, 0.3)
            }
            // Long-period variables: Mira 100–1000 d (mode ≈ 300), > 2.5 mag (up to ~8 in g);
            // semi-regular 20–2000 d, < 2.5 mag; very red (g − r > 1.5) (Mattei 1997, JAAVSO 25, 57).
            // The difference flux of the LPVs in the shared Fink sample stays as red as the star
            // (median g − r 2.1, 1.3–3.8): the amplitude grows only mildly towards g.
            Class::Lpv => {
                m.g_minus_r = uniform(rng, 1.8, 3.3);
                m.amp_index = 1.0;
                if rng_bool(rng, 0.4) {
                    m.period = normal_clamped(rng, 300.0, 100.0, 100.0, 1000.0);
                    m.amp_g = uniform(rng, 2.5, 8.0);
                    m.profile = Profile::Sine {
                        a2: uniform(rng, 0.05, 0.25),
                        psi: uniform(rng, 0.0, TAU),
                    };
                } else {
                    m.period = log_uniform(rng, 20.0, 2000.0);
                    m.amp_g = uniform(rng, 0.3, 2.5);
                    m.profile = Profile::Sine {
                        a2: uniform(rng, 0.0, 0.3),
                        psi: uniform(rng, 0.0, TAU),
                    };
                    let tau = uniform(rng, 0.2, 1.0) * m.period;
                    m.walk = Some(Ou::new(tau, uniform(rng, 0.1, 0.3) * m.amp_g));
                }
                // Bright in r, faint in g: the r magnitude is in the survey's range.
                counts_magnitude(rng, bright, faint - 1.0, 0.3) + m.g_minus_r
            }
            // Rotational variables (BY Dra, RS CVn, spotted): 0.5–30 d, 0.01–0.3 mag,
            // quasi-sinusoidal and evolving (Strassmeier 2009, A&ARv 17, 251).
            _ => {
                m.period = log_uniform(rng, 0.5, 30.0);
                m.amp_g = log_uniform(rng, 0.03, 0.3);
                m.amp_index = 0.5;
                m.profile = Profile::Sine {
                    a2: uniform(rng, 0.0, 0.3),
                    psi: uniform(rng, 0.0, TAU),
                };
                m.modulation = Some((log_uniform(rng, 30.0, 300.0), uniform(rng, 0.1, 0.5)));
                m.g_minus_r = uniform(rng, 0.5, 1.5);
                counts_magnitude(rng, bright, faint - 0.5, 0.3)
            }
        };
        m.f0 = mag_to_njy(mag);
        m.template = Template::sample(ctx, rng);
        m
    }

    /// Deterministic part of the magnitude offset at `t` for an amplitude `amp` (mag).
    fn dm_periodic(&self, t: f64, amp: f64) -> f64 {
        let phase = ((t - self.epoch) / self.period).rem_euclid(1.0);
        let mut a = amp;
        if let Some((p_mod, depth)) = self.modulation {
            a *= 1.0 + depth * (TAU * (t - self.epoch) / p_mod).sin();
        }
        let mut dm = a * self.profile.h(phase);
        if let Some((p2, rel)) = self.second_mode {
            dm += 0.5 * a * rel * (TAU * (t - self.epoch) / p2).sin();
        }
        dm
    }

    fn amplitude(&self, lambda: f64) -> f64 {
        self.amp_g * (lambda / LAMBDA_G).powf(-self.amp_index)
    }

    /// ⟨10^(−0.4·δm)⟩ over the reference frames (the template flux / f0). The irregular
    /// component of semi-regulars is left out: it has zero mean.
    fn reference_factor(&mut self, lambda: f64) -> f64 {
        if let Some(r) = self.template.cached(lambda) {
            return r;
        }
        let amp = self.amplitude(lambda);
        let r = self
            .template
            .mean(|t| 10f64.powf(-0.4 * self.dm_periodic(t, amp)));
        self.template.store(lambda, r)
    }

    pub fn eval(&mut self, t: f64, lambda: f64, rng: &mut SimRng) -> Fluxes {
        let amp = self.amplitude(lambda);
        let mut dm = self.dm_periodic(t, amp);
        if let Some(walk) = self.walk.as_mut() {
            dm += walk.at(t, rng) * amp / self.amp_g;
        }
        let base = self.f0 * colour_factor(self.g_minus_r, lambda);
        let reference = base * self.reference_factor(lambda);
        let now = base * 10f64.powf(-0.4 * dm);
        Fluxes {
            diff: now - reference,
            total: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn ctx() -> Context {
        Context {
            survey: alert_model::Survey::Ztf,
            t_start: 60_000.0,
            t_end: 60_365.0,
        }
    }

    #[test]
    fn strictly_periodic_classes_repeat_and_pulsators_take_both_signs() {
        let mut rng = SimRng::seed_from_u64(7);
        for class in [Class::Rrl, Class::Cep, Class::E] {
            for _ in 0..20 {
                let mut m = PeriodicModel::sample(class, &ctx(), &mut rng);
                let p = m.period;
                let (mut highest, mut lowest) = (f64::MIN, f64::MAX);
                for k in 0..200 {
                    let t = 60_000.0 + k as f64 * 0.37 * p;
                    let a = m.eval(t, 6400.0, &mut rng).diff;
                    let b = m.eval(t + 3.0 * p, 6400.0, &mut rng).diff;
                    assert!((a - b).abs() <= 1e-6 * m.f0, "{class}: {a} vs {b}");
                    highest = highest.max(a);
                    lowest = lowest.min(a);
                }
                assert!(lowest < 0.0, "{class}: never below the reference");
                if class == Class::E {
                    // A template whose frames all missed the eclipses equals the flux out of
                    // eclipse: difference zero there, never above.
                    assert!(highest >= -1e-9 * m.f0, "{class}: {highest}");
                } else {
                    assert!(highest > 0.0, "{class}: never above the reference");
                }
            }
        }
    }

    /// ⟨10^(−0.4·δm)⟩ over 512 phases of the main cycle at r.
    fn phase_average(m: &PeriodicModel) -> f64 {
        let amp = m.amplitude(6400.0);
        (0..512)
            .map(|i| 10f64.powf(-0.4 * m.dm_periodic(m.epoch + m.period * i as f64 / 512.0, amp)))
            .sum::<f64>()
            / 512.0
    }

    #[test]
    fn templates_average_short_cycles_and_freeze_long_ones() {
        let mut rng = SimRng::seed_from_u64(3);
        // RR Lyrae: ≥ 15 frames over ≥ 10 d sample many cycles, so the template is within a few
        // per cent of the phase average.
        for _ in 0..30 {
            let mut m = PeriodicModel::sample(Class::Rrl, &ctx(), &mut rng);
            let offset = m.reference_factor(6400.0) / phase_average(&m) - 1.0;
            assert!(offset.abs() < 0.08, "RRL template off by {offset}");
        }
        // Long-period variables: the frames cover a small part of a cycle, so many templates
        // are far from the phase average (a Mira's flux varies by a factor ≥ 10).
        let far = (0..30)
            .filter(|_| {
                let mut m = PeriodicModel::sample(Class::Lpv, &ctx(), &mut rng);
                (m.reference_factor(6400.0) / phase_average(&m) - 1.0).abs() > 0.2
            })
            .count();
        assert!(
            far >= 5,
            "only {far} of 30 LPV templates far from the phase average"
        );
    }

    #[test]
    fn lpv_difference_flux_is_as_red_as_real_ones() {
        // Real LPVs in the shared Fink sample: median g − r of the difference flux 1.3–3.8
        // (median 2.1). Per object, the median over epochs where g and r differ from the
        // reference with the same sign.
        let mut rng = SimRng::seed_from_u64(5);
        let mut medians: Vec<f64> = (0..60)
            .filter_map(|_| {
                let mut m = PeriodicModel::sample(Class::Lpv, &ctx(), &mut rng);
                let mut colours: Vec<f64> = (0..120)
                    .filter_map(|k| {
                        let t = 60_000.0 + 3.0 * k as f64;
                        let g = m.eval(t, 4800.0, &mut rng).diff;
                        let r = m.eval(t, 6400.0, &mut rng).diff;
                        (g * r > 0.0).then(|| -2.5 * (g / r).log10())
                    })
                    .collect();
                colours.sort_by(f64::total_cmp);
                colours.get(colours.len() / 2).copied()
            })
            .collect();
        medians.sort_by(f64::total_cmp);
        let median = medians[medians.len() / 2];
        assert!((1.6..=2.8).contains(&median), "median g − r {median}");
        let blue = medians.iter().filter(|c| **c < 1.0).count();
        assert!(
            blue * 10 <= medians.len(),
            "{blue} of {} bluer than 1",
            medians.len()
        );
    }

    #[test]
    fn phase_folding_recovers_the_period() {
        // Phase dispersion minimisation (Stellingwerf 1978, ApJ 224, 953) on noiseless samples.
        let mut rng = SimRng::seed_from_u64(11);
        let mut m = PeriodicModel::sample(Class::Rrl, &ctx(), &mut rng);
        let times: Vec<f64> = (0..300)
            .map(|_| uniform(&mut rng, 60_000.0, 60_200.0))
            .collect();
        let fluxes: Vec<f64> = times
            .iter()
            .map(|t| m.eval(*t, 6400.0, &mut rng).diff)
            .collect();
        let dispersion = |p: f64| {
            let mut bins = [(0.0, 0.0, 0usize); 10];
            for (t, f) in times.iter().zip(&fluxes) {
                let b = (((t / p).rem_euclid(1.0)) * 10.0) as usize % 10;
                bins[b].0 += f;
                bins[b].1 += f * f;
                bins[b].2 += 1;
            }
            bins.iter()
                .filter(|b| b.2 > 1)
                .map(|b| b.1 - b.0 * b.0 / b.2 as f64)
                .sum::<f64>()
        };
        let mut best = (0.0, f64::MAX);
        let mut p = 0.2;
        while p < 1.0 {
            let d = dispersion(p);
            if d < best.1 {
                best = (p, d);
            }
            p += 0.0002;
        }
        assert!(
            (best.0 - m.period).abs() < 0.01,
            "{} vs {}",
            best.0,
            m.period
        );
    }
}
