//! Young stellar objects (dips, bursts, irregular variability) and cataclysmic variables
//! (dwarf-nova outbursts, classical novae). The reference of both is the mean over the reference
//! image's frames: they catch a dwarf nova in outburst as often as its duty cycle, so in
//! quiescence its difference flux can be negative, and a YSO in another state of its slow
//! variability, so its difference flux sits above or below zero for months.

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

/// Which kind of YSO variability a source shows; dippers keep their quasi-period.
#[derive(Debug, Clone, Copy)]
enum YsoKind {
    Dipper { period: f64 },
    Burster,
    Irregular,
}

impl YsoKind {
    /// The dips or bursts of a source of this kind between `t0` and `t1` (MJD).
    fn events(self, t0: f64, t1: f64, rng: &mut SimRng) -> Vec<Event> {
        let mut events = Vec::new();
        match self {
            // Dippers: 0.5–1 mag dips lasting 1–5 d, quasi-periodic 5–10 d (Bouvier et al. 1999,
            // A&A 349, 619; Cody et al. 2014, AJ 147, 82).
            YsoKind::Dipper { period } => {
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
            }
            // Bursters (EXor-like): 1–2.5 mag, rise 2–5 d, decay 10–40 d, every 30–200 d.
            YsoKind::Burster => {
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
            }
            YsoKind::Irregular => {}
        }
        events
    }
}

/// A YSO: AA Tau-like dipper, EXor-like burster or irregular variable; red (mostly g − r > 1).
#[derive(Debug, Clone)]
pub(crate) struct YsoModel {
    f0: f64,
    g_minus_r: f64,
    /// Dips and bursts in the window and while the reference frames were taken.
    events: Vec<Event>,
    /// Irregular low-level variability (mag), days.
    walk: Ou,
    /// Slow variability (mag), months to years: YSO amplitudes keep growing with timescale up
    /// to years (Findeisen et al. 2013, AJ 145, 21, PTF), so the reference image, taken months
    /// before, catches another state than the alerts see.
    slow: Ou,
    /// Magnitude change at g at each reference frame, and the template's flux factor per
    /// wavelength (mean of 10^(−0.4·Δm·ext) over the frames).
    frame_dm: Vec<f64>,
    template: Template,
}

impl YsoModel {
    pub fn sample(ctx: &Context, rng: &mut SimRng) -> Self {
        let (bright, faint) = ctx.magnitude_range();
        let draw = uniform(rng, 0.0, 1.0);
        let (kind, walk) = if draw < 0.55 {
            (
                YsoKind::Dipper {
                    period: uniform(rng, 5.0, 10.0),
                },
                Ou::new(uniform(rng, 1.0, 10.0), uniform(rng, 0.03, 0.1)),
            )
        } else if draw < 0.8 {
            (
                YsoKind::Burster,
                Ou::new(uniform(rng, 1.0, 10.0), uniform(rng, 0.05, 0.15)),
            )
        } else {
            // Irregular (accretion-driven) variables: 0.2–0.5 mag on days.
            (
                YsoKind::Irregular,
                Ou::new(uniform(rng, 1.0, 10.0), uniform(rng, 0.2, 0.5)),
            )
        };
        let f0 = mag_to_njy(counts_magnitude(rng, bright + 1.5, faint + 0.5, 0.3));
        // T Tauri stars (K–M, reddened): g − r 1–2; a quarter are Herbig Ae/Be stars (A–B, as 2
        // of the 9 SIMBAD YSOs in the Fink sample), g − r 0.3–1 (Vioque et al. 2018, A&A 620, A128).
        let g_minus_r = if rng_bool(rng, 0.25) {
            uniform(rng, 0.3, 1.0)
        } else {
            uniform(rng, 1.0, 2.0)
        };
        let slow = Ou::new(log_uniform(rng, 100.0, 1000.0), log_uniform(rng, 0.05, 0.3));
        let template = Template::sample(ctx, rng);
        let mut events = Vec::new();
        if let Some((first, last)) = template.span() {
            events.extend(kind.events(first - 30.0, last + 30.0, rng));
        }
        events.extend(kind.events(ctx.t_start - 30.0, ctx.t_end + 30.0, rng));
        let mut model = YsoModel {
            f0,
            g_minus_r,
            events,
            walk,
            slow,
            frame_dm: Vec::new(),
            template,
        };
        // The walks step forward in time: visit the frames in order, before any alert epoch.
        let mut frames = model.template.epochs().to_vec();
        frames.sort_by(f64::total_cmp);
        model.frame_dm = frames.iter().map(|&t| model.dm_at_g(t, rng)).collect();
        model
    }

    /// Magnitude change at g (positive = fainter) at `t`.
    fn dm_at_g(&mut self, t: f64, rng: &mut SimRng) -> f64 {
        let mut dm = self.walk.at(t, rng) + self.slow.at(t, rng);
        for e in &self.events {
            if (t - e.t).abs() < 6.0 * e.rise.max(e.decay) {
                dm += e.dm * e.profile(t);
            }
        }
        dm
    }

    /// The template's flux relative to the quiet state at `lambda`.
    fn reference_factor(&mut self, lambda: f64, ext: f64) -> f64 {
        if let Some(r) = self.template.cached(lambda) {
            return r;
        }
        let n = self.frame_dm.len().max(1) as f64;
        let r = self
            .frame_dm
            .iter()
            .map(|dm| 10f64.powf(-0.4 * dm * ext))
            .sum::<f64>()
            / n;
        self.template.store(lambda, r)
    }

    pub fn eval(&mut self, t: f64, lambda: f64, rng: &mut SimRng) -> Fluxes {
        // Circumstellar dust: A_λ ∝ λ^(−1) (Cardelli et al. 1989, ApJ 345, 245, optical slope).
        let ext = LAMBDA_G / lambda;
        let dm = self.dm_at_g(t, rng) * ext;
        let quiet = self.f0 * colour_factor(self.g_minus_r, lambda);
        let now = quiet * 10f64.powf(-0.4 * dm);
        let reference = quiet * self.reference_factor(lambda, ext);
        Fluxes {
            diff: now - reference,
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
    fn yso_templates_catch_another_state_so_month_long_offsets_take_both_signs() {
        let ctx = Context {
            survey: alert_model::Survey::Ztf,
            t_start: 60_000.0,
            t_end: 60_030.0,
        };
        let mut rng = SimRng::seed_from_u64(11);
        let (mut brighter, mut fainter) = (0, 0);
        for _ in 0..200 {
            let mut m = YsoModel::sample(&ctx, &mut rng);
            assert!((15..=40).contains(&m.frame_dm.len()));
            let quiet = m.f0 * colour_factor(m.g_minus_r, 6400.0);
            let mut window: Vec<f64> = (0..30)
                .map(|day| m.eval(ctx.t_start + f64::from(day), 6400.0, &mut rng).diff / quiet)
                .collect();
            window.sort_by(f64::total_cmp);
            // The median over a month ignores single dips and bursts: it is the slow offset.
            let median = window[15];
            brighter += usize::from(median > 0.05);
            fainter += usize::from(median < -0.05);
        }
        // Before population version 5 the reference was the quiet state: no month-long offsets
        // but the rare burst.
        assert!(
            brighter >= 30 && fainter >= 30,
            "month-long offsets: {brighter} brighter, {fainter} fainter of 200"
        );
    }

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
