//! Young stellar objects (dips, bursts, irregular variability) and cataclysmic variables
//! (dwarf-nova outbursts, classical novae). A YSO's reference is its quiet state; a cataclysmic
//! variable's is the mean over the reference image's frames, which catch a dwarf nova in outburst
//! as often as its duty cycle, so in quiescence its difference flux can be negative.

use super::supernova::rng_bool;
use super::{
    Context, Fluxes, LAMBDA_G, Ou, SimRng, Template, colour_factor, counts_magnitude, log_uniform,
    mag_to_njy, uniform,
};

/// A dip (positive magnitudes: fainter) or burst (negative) with a Gaussian or
/// rise/decay profile.
#[derive(Debug, Clone)]
struct Event {
    t: f64,
    /// Magnitude change at g (positive = fainter).
    dm: f64,
    rise: f64,
    decay: f64,
}

impl Event {
    fn profile(&self, t: f64) -> f64 {
        let dt = t - self.t;
        if dt < 0.0 {
            let x = dt / self.rise;
            (-0.5 * x * x).exp()
        } else {
            let x = dt / self.decay;
            (-0.5 * x * x).exp()
        }
    }
}

/// A YSO: AA Tau-like dipper, EXor-like burster or irregular variable; very red (g − r > 1).
#[derive(Debug, Clone)]
pub(crate) struct YsoModel {
    f0: f64,
    g_minus_r: f64,
    events: Vec<Event>,
    /// Irregular low-level variability (mag).
    walk: Ou,
}

impl YsoModel {
    pub fn sample(ctx: &Context, rng: &mut SimRng) -> Self {
        let (bright, faint) = ctx.magnitude_range();
        let kind = uniform(rng, 0.0, 1.0);
        let mut events = Vec::new();
        let (t0, t1) = (ctx.t_start - 30.0, ctx.t_end + 30.0);
        let walk = if kind < 0.55 {
            // Dippers: 0.5–1 mag dips lasting 1–5 d, quasi-periodic 5–10 d (Bouvier et al. 1999,
            // A&A 349, 619; Cody et al. 2014, AJ 147, 82).
            let period = uniform(rng, 5.0, 10.0);
            let mut t = t0 + uniform(rng, 0.0, period);
            while t < t1 {
                if rng_bool(rng, 0.75) {
                    let fwhm = uniform(rng, 1.0, 5.0);
                    events.push(Event {
                        t: t + uniform(rng, -0.1, 0.1) * period,
                        dm: uniform(rng, 0.5, 1.0),
                        rise: fwhm / 2.355,
                        decay: fwhm / 2.355,
                    });
                }
                t += period;
            }
            Ou::new(uniform(rng, 1.0, 10.0), uniform(rng, 0.03, 0.1))
        } else if kind < 0.8 {
            // Bursters (EXor-like): 1–2.5 mag, rise 2–5 d, decay 10–40 d, every 30–200 d.
            let mut t = t0;
            loop {
                t += log_uniform(rng, 30.0, 200.0);
                if t > t1 {
                    break;
                }
                events.push(Event {
                    t,
                    dm: -uniform(rng, 1.0, 2.5),
                    rise: uniform(rng, 2.0, 5.0),
                    decay: uniform(rng, 10.0, 40.0),
                });
            }
            Ou::new(uniform(rng, 1.0, 10.0), uniform(rng, 0.05, 0.15))
        } else {
            // Irregular (accretion-driven) variables: 0.2–0.5 mag on days.
            Ou::new(uniform(rng, 1.0, 10.0), uniform(rng, 0.2, 0.5))
        };
        YsoModel {
            f0: mag_to_njy(counts_magnitude(rng, bright + 1.5, faint + 0.5, 0.3)),
            g_minus_r: uniform(rng, 1.0, 2.0),
            events,
            walk,
        }
    }

    pub fn eval(&mut self, t: f64, lambda: f64, rng: &mut SimRng) -> Fluxes {
        // Circumstellar dust: A_λ ∝ λ^(−1) (Cardelli et al. 1989, ApJ 345, 245, optical slope).
        let ext = LAMBDA_G / lambda;
        let mut dm = self.walk.at(t, rng) * ext;
        for e in &self.events {
            if (t - e.t).abs() < 6.0 * e.rise.max(e.decay) {
                dm += e.dm * ext * e.profile(t);
            }
        }
        let quiet = self.f0 * colour_factor(self.g_minus_r, lambda);
        let now = quiet * 10f64.powf(-0.4 * dm);
        Fluxes {
            diff: now - quiet,
            total: now,
        }
    }
}

/// A cataclysmic variable: quiescent white-dwarf binary with dwarf-nova outbursts, or a
/// classical nova eruption.
#[derive(Debug, Clone)]
pub(crate) struct CvModel {
    f0: f64,
    g_minus_r: f64,
    outbursts: Vec<Outburst>,
    /// The reference image; its mean outburst excess over the frames (relative to
    /// quiescence) raises the template above the quiescent flux.
    template: Template,
}

/// Outburst in flux units relative to quiescence: factor (10^(0.4·amp) − 1)·shape(t).
#[derive(Debug, Clone)]
struct Outburst {
    t: f64,
    amp_mag: f64,
    rise: f64,
    plateau: f64,
    /// Decline in mag/d after the plateau.
    decline: f64,
}

impl CvModel {
    pub fn sample(ctx: &Context, rng: &mut SimRng) -> Self {
        let (bright, faint) = ctx.magnitude_range();
        let mut outbursts = Vec::new();
        if rng_bool(rng, 0.85) {
            // Dwarf novae: 2–6 mag, rise ~1 d, last 2–20 d, recur every 10–500 d (Warner 1995,
            // Cataclysmic Variable Stars).
            let recurrence = log_uniform(rng, 10.0, 500.0);
            let amp = uniform(rng, 2.0, 6.0);
            let outburst = |t: f64, rng: &mut SimRng| Outburst {
                t,
                amp_mag: amp * uniform(rng, 0.8, 1.1),
                rise: uniform(rng, 0.5, 1.5),
                plateau: uniform(rng, 1.0, 15.0),
                decline: uniform(rng, 0.3, 1.0),
            };
            // Outbursts while the reference frames were taken (≥ 60 d before the window, longer
            // than any outburst lasts), then through the window.
            let template = Template::sample(ctx, rng);
            if let Some((first, last)) = template.span() {
                let mut t = first - uniform(rng, 0.0, recurrence);
                while t < last {
                    outbursts.push(outburst(t, rng));
                    t += recurrence * uniform(rng, 0.7, 1.3);
                }
            }
            let mut t = ctx.t_start - uniform(rng, 0.0, recurrence.min(ctx.t_end - ctx.t_start));
            while t < ctx.t_end + 5.0 {
                outbursts.push(outburst(t, rng));
                t += recurrence * uniform(rng, 0.7, 1.3);
            }
            let quiet = counts_magnitude(rng, bright + 4.0, faint + 2.5, 0.3);
            CvModel {
                f0: mag_to_njy(quiet),
                g_minus_r: uniform(rng, 0.0, 0.6),
                outbursts,
                template,
            }
        } else {
            // Classical novae: 8–15 mag, t2 5–100 d (Warner 1995; Strope et al. 2010, AJ 140, 34).
            let peak = uniform(rng, bright, faint - 1.5);
            let amp = uniform(rng, 8.0, 15.0);
            let t2 = log_uniform(rng, 5.0, 100.0);
            outbursts.push(Outburst {
                t: uniform(rng, ctx.t_start - 0.5 * t2, ctx.t_end),
                amp_mag: amp,
                rise: uniform(rng, 1.0, 3.0),
                plateau: uniform(rng, 0.0, 2.0),
                decline: 2.0 / t2,
            });
            CvModel {
                f0: mag_to_njy(peak + amp),
                g_minus_r: uniform(rng, 0.0, 0.5),
                outbursts,
                // The progenitor in quiescence.
                template: Template::quiescent(),
            }
        }
    }

    pub fn eval(&mut self, t: f64, lambda: f64) -> Fluxes {
        let quiet = self.f0 * colour_factor(self.g_minus_r, lambda);
        let now = quiet * (1.0 + self.excess(t, lambda));
        let reference = quiet * (1.0 + self.reference_excess(lambda));
        Fluxes {
            diff: now - reference,
            total: now,
        }
    }

    /// Mean outburst excess over the reference frames (0 without frames: quiescence).
    fn reference_excess(&mut self, lambda: f64) -> f64 {
        if let Some(r) = self.template.cached(lambda) {
            return r;
        }
        let r = self.template.mean(|t| self.excess(t, lambda));
        self.template.store(lambda, r)
    }

    /// Flux above quiescence, in units of the quiescent flux.
    fn excess(&self, t: f64, lambda: f64) -> f64 {
        let mut extra = 0.0;
        for o in &self.outbursts {
            let dt = t - o.t;
            if dt < -10.0 * o.rise {
                continue;
            }
            // Outbursts are bluer than quiescence: amplitude ∝ (λ/4800)^(−0.5).
            let amp = o.amp_mag * (lambda / LAMBDA_G).powf(-0.5);
            let dm = if dt < 0.0 {
                -amp + (-dt / o.rise) * 2.5
            } else if dt < o.plateau {
                -amp + 0.1 * dt
            } else {
                -amp + 0.1 * o.plateau + o.decline * (dt - o.plateau)
            };
            if dm < 0.0 {
                extra += 10f64.powf(-0.4 * dm) - 1.0;
            }
        }
        extra
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn dwarf_novae_whose_template_caught_an_outburst_are_negative_in_quiescence() {
        let ctx = Context {
            survey: alert_model::Survey::Ztf,
            t_start: 60_000.0,
            t_end: 60_365.0,
        };
        let mut rng = SimRng::seed_from_u64(5);
        let (mut dwarf_novae, mut negative) = (0, 0);
        for _ in 0..200 {
            let mut m = CvModel::sample(&ctx, &mut rng);
            let is_nova = m.template.span().is_none();
            // An epoch in quiescence, if the window has one.
            let Some(t) = (0..3650)
                .map(|k| ctx.t_start + 0.1 * k as f64)
                .find(|&t| m.excess(t, 6400.0) == 0.0)
            else {
                continue;
            };
            let f = m.eval(t, 6400.0);
            assert!(f.diff <= 0.0, "quiescence above the template: {f:?}");
            if is_nova {
                assert_eq!(f.diff, 0.0, "a nova's template is the quiescent progenitor");
            } else {
                dwarf_novae += 1;
                negative += usize::from(f.diff < 0.0);
            }
        }
        // Outbursts fill a few to a few tens of per cent of the time (Warner 1995).
        assert!(
            negative * 10 >= dwarf_novae && negative * 10 <= dwarf_novae * 9,
            "{negative} of {dwarf_novae} dwarf novae negative in quiescence"
        );
    }
}
