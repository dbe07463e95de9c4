//! Survey cadences and depths: when a field is observed, in which band, and how deep.
//!
//! ZTF: Bellm et al. 2019 (PASP 131, 018002); Rubin WFD: Ivezić et al. 2019 (ApJ 873, 111).
//! Depths and cadence numbers: science.md.

use alert_model::{Band, Survey};
use rand::Rng;

use crate::models::{SimRng, normal, uniform};

/// One visit of the object's field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Epoch {
    pub mjd: f64,
    pub band: Band,
    /// Single-visit 5σ limiting magnitude (AB) of the difference image.
    pub m5: f64,
}

/// Synodic month (days) and an MJD of new moon (2000-01-06 18:14 UTC; Meeus 1998, ch. 49).
const SYNODIC_MONTH: f64 = 29.530_589;
const NEW_MOON_MJD: f64 = 51_549.76;

/// Lunar illumination 0 (new) … 1 (full) at an MJD.
pub fn moon_illumination(mjd: f64) -> f64 {
    let phase = ((mjd - NEW_MOON_MJD) / SYNODIC_MONTH).rem_euclid(1.0);
    0.5 * (1.0 - (std::f64::consts::TAU * phase).cos())
}

/// Median dark-time single-visit 5σ depth of a band (AB mag). ZTF: science.md quotes ≈ 20.5–20.8
/// (g, r) and 20.2 (i) in good conditions, but the `diffmaglim` of real alert packets has median
/// 19.8 (p10 18.7, p90 20.5; crates/simulator/README.md), so the dark-time values are set 0.4 mag
/// shallower to match what the alert stream shows. Rubin: Ivezić et al. 2019, table 2.
pub fn dark_depth(survey: Survey, band: Band) -> f64 {
    match (survey, band) {
        (Survey::Ztf, Band::G) => 20.4,
        (Survey::Ztf, Band::R) => 20.3,
        (Survey::Ztf, _) => 19.9,
        (Survey::Lsst, Band::U) => 23.9,
        (Survey::Lsst, Band::G) => 25.0,
        (Survey::Lsst, Band::R) => 24.7,
        (Survey::Lsst, Band::I) => 24.0,
        (Survey::Lsst, Band::Z) => 23.3,
        (Survey::Lsst, Band::Y) => 22.1,
    }
}

/// Magnitude lost to the full moon per band (bright sky hurts blue bands most).
fn moon_penalty(survey: Survey, band: Band) -> f64 {
    match (survey, band) {
        (Survey::Ztf, Band::G) => 1.0,
        (Survey::Ztf, Band::R) => 0.6,
        (Survey::Ztf, _) => 0.4,
        (Survey::Lsst, Band::U) => 1.0,
        (Survey::Lsst, Band::G) => 0.8,
        (Survey::Lsst, Band::R) => 0.5,
        (Survey::Lsst, Band::I) => 0.3,
        (Survey::Lsst, Band::Z) => 0.2,
        (Survey::Lsst, Band::Y) => 0.1,
    }
}

/// Brightest unsaturated magnitude: ZTF ≈ 12.5–13, Rubin ≈ 16–17 (science.md).
pub fn saturation_mag(survey: Survey, rng: &mut SimRng) -> f64 {
    match survey {
        Survey::Ztf => uniform(rng, 12.5, 13.0),
        Survey::Lsst => uniform(rng, 16.0, 17.0),
    }
}

/// Cadence knobs of one survey (defaults: [`CadenceConfig::for_survey`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CadenceConfig {
    /// Range of days per year the field is observable.
    pub season_days: (f64, f64),
    /// Probabilities that a field's scheduled revisit interval is 1, 2, 3 or 4 nights.
    pub revisit_weights: [f64; 4],
    /// Fraction of scheduled nights lost to weather.
    pub weather_loss: f64,
    /// Scatter of the nightly depth (seeing, transparency), mag.
    pub depth_scatter: f64,
    /// UTC fraction of the day around which the night's visits happen (local midnight).
    pub midnight_utc: f64,
}

impl CadenceConfig {
    /// ZTF public survey: g and r every ~2 nights, i rarely; 30 % of nights lost; 6–8 month
    /// seasons; Palomar midnight ≈ 07:50 UTC. Rubin WFD: revisits every 3–4 nights, two visits
    /// per night; ~6 month seasons; Cerro Pachón midnight ≈ 04:40 UTC.
    pub fn for_survey(survey: Survey) -> Self {
        match survey {
            Survey::Ztf => CadenceConfig {
                season_days: (180.0, 240.0),
                revisit_weights: [0.05, 0.65, 0.3, 0.0],
                weather_loss: 0.3,
                depth_scatter: 0.35,
                midnight_utc: 0.33,
            },
            Survey::Lsst => CadenceConfig {
                season_days: (160.0, 200.0),
                revisit_weights: [0.0, 0.1, 0.45, 0.45],
                weather_loss: 0.25,
                depth_scatter: 0.2,
                midnight_utc: 0.19,
            },
        }
    }
}

fn pick(rng: &mut SimRng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.len() - 1
}

/// Visits of one field between `t_start` and `t_end` (MJD), in time order, appended to `out`.
pub fn schedule(
    survey: Survey,
    cadence: &CadenceConfig,
    t_start: f64,
    t_end: f64,
    rng: &mut SimRng,
    out: &mut Vec<Epoch>,
) {
    const YEAR: f64 = 365.25;
    let season_len = uniform(rng, cadence.season_days.0, cadence.season_days.1);
    let season_start = t_start - uniform(rng, 0.0, YEAR);
    let revisit = 1 + pick(rng, &cadence.revisit_weights) as i64;
    let offset = rng.random_range(0..revisit);
    let mut night = t_start.floor() as i64;
    let last = t_end.floor() as i64;
    while night <= last {
        let day = night as f64;
        let in_season = (day - season_start).rem_euclid(YEAR) < season_len;
        if in_season
            && night.rem_euclid(revisit) == offset
            && rng.random::<f64>() >= cadence.weather_loss
        {
            let moon = moon_illumination(day);
            let seeing = normal(rng, 0.0, cadence.depth_scatter);
            let start = day + cadence.midnight_utc + uniform(rng, -0.15, 0.12);
            let depth = |band: Band, rng: &mut SimRng| {
                let m5 = dark_depth(survey, band) - moon_penalty(survey, band) * moon * moon
                    + seeing
                    + normal(rng, 0.0, 0.1);
                match survey {
                    Survey::Ztf => m5.clamp(18.0, 21.5),
                    Survey::Lsst => m5.clamp(20.0, 26.0),
                }
            };
            let before = out.len();
            match survey {
                Survey::Ztf => {
                    // g and r ≥ 30 min apart, in either order; i on ~2 % of nights (i is a
                    // partnership filter: the public packets we compared hold none).
                    let mut t = start;
                    let first_g = rng.random_bool(0.5);
                    for band in if first_g {
                        [Band::G, Band::R]
                    } else {
                        [Band::R, Band::G]
                    } {
                        let p = if band == Band::G { 0.75 } else { 0.7 };
                        if rng.random::<f64>() < p {
                            out.push(Epoch {
                                mjd: t,
                                band,
                                m5: depth(band, rng),
                            });
                        }
                        t += uniform(rng, 0.02, 0.08);
                    }
                    if rng.random::<f64>() < 0.02 {
                        out.push(Epoch {
                            mjd: t,
                            band: Band::I,
                            m5: depth(Band::I, rng),
                        });
                    }
                }
                Survey::Lsst => {
                    // Two visits ~30 min apart in different bands (WFD pairs).
                    const PAIRS: [(Band, Band, f64); 5] = [
                        (Band::U, Band::G, 0.07),
                        (Band::G, Band::R, 0.2),
                        (Band::R, Band::I, 0.27),
                        (Band::I, Band::Z, 0.26),
                        (Band::Z, Band::Y, 0.2),
                    ];
                    let weights: [f64; 5] = PAIRS.map(|p| p.2);
                    let (a, b, _) = PAIRS[pick(rng, &weights)];
                    let (a, b) = if rng.random_bool(0.5) { (a, b) } else { (b, a) };
                    let gap = uniform(rng, 0.015, 0.03);
                    out.push(Epoch {
                        mjd: start,
                        band: a,
                        m5: depth(a, rng),
                    });
                    out.push(Epoch {
                        mjd: start + gap,
                        band: b,
                        m5: depth(b, rng),
                    });
                }
            }
            // Visits of one night are already in time order.
            debug_assert!(out[before..].windows(2).all(|w| w[0].mjd <= w[1].mjd));
        }
        night += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ztf_cadence_has_seasons_and_sensible_density() {
        let mut rng = SimRng::seed_from_u64(5);
        let cfg = CadenceConfig::for_survey(Survey::Ztf);
        let mut total = 0;
        for _ in 0..50 {
            let mut out = Vec::new();
            schedule(Survey::Ztf, &cfg, 60_000.0, 60_365.0, &mut rng, &mut out);
            assert!(out.windows(2).all(|w| w[0].mjd <= w[1].mjd));
            // A seasonal gap of ≥ 100 days exists within a year (possibly split by its ends).
            let inner = out
                .windows(2)
                .map(|w| w[1].mjd - w[0].mjd)
                .fold(0.0, f64::max);
            let edges = (out[0].mjd - 60_000.0) + (60_365.0 - out[out.len() - 1].mjd);
            let max_gap = inner.max(edges);
            assert!(max_gap > 100.0, "gap {max_gap}");
            total += out.len();
        }
        let per_year = total as f64 / 50.0;
        assert!((60.0..250.0).contains(&per_year), "{per_year}");
    }

    #[test]
    fn lsst_pairs_are_in_different_bands() {
        let mut rng = SimRng::seed_from_u64(6);
        let cfg = CadenceConfig::for_survey(Survey::Lsst);
        let mut out = Vec::new();
        schedule(Survey::Lsst, &cfg, 60_000.0, 60_365.0, &mut rng, &mut out);
        for pair in out.chunks(2) {
            assert_ne!(pair[0].band, pair[1].band);
            assert!(pair[1].mjd - pair[0].mjd < 0.05);
        }
    }

    #[test]
    fn moon_cycle() {
        assert!(moon_illumination(NEW_MOON_MJD) < 1e-9);
        assert!((moon_illumination(NEW_MOON_MJD + SYNODIC_MONTH / 2.0) - 1.0).abs() < 1e-9);
    }
}
