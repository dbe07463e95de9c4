//! Synthetic outliers for outlier exposure (Hendrycks, Mazeika & Dietterich 2019, ICLR, "Deep
//! anomaly detection with outlier exposure"): training supernovae with a class-defining
//! regularity broken — time run backwards (a slow rise and a fast decline) or the colours mirrored
//! (blue bands relabelled as red ones and back, so a supernova that reddens turns bluer), or both.
//! Like the shifting transformations CSI treats as out-of-distribution (Tack et al. 2020,
//! NeurIPS), they keep the survey's cadence, depth and noise, so only shape and colour give them
//! away. The held-out anomaly classes (TDE, kilonova, microlensing, PISN) are never used.

use alert_model::{Band, Survey};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::LabelledCurve;
use crate::lightcurve::LightCurve;
use crate::taxonomy::{TopLevel, top_level_of};

/// A view is distorted only with this many detections: on a shorter one the distortion is
/// invisible, and pushing it towards "unknown" would fight the classes it still resembles.
pub const MIN_DETECTIONS: usize = 6;
/// … and over at least this many days.
pub const MIN_SPAN_DAYS: f64 = 20.0;

/// How a curve is distorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distortion {
    TimeReversed,
    ColoursMirrored,
    Both,
}

impl Distortion {
    pub const ALL: [Distortion; 3] = [
        Distortion::TimeReversed,
        Distortion::ColoursMirrored,
        Distortion::Both,
    ];
}

/// The band at the mirrored position of the survey's wavelength order: ZTF g ↔ r (i kept),
/// Rubin u ↔ y, g ↔ z, r ↔ i.
fn mirrored_band(band: Band, survey: Survey) -> Band {
    match (survey, band) {
        (Survey::Ztf, Band::G) => Band::R,
        (Survey::Ztf, Band::R) => Band::G,
        (Survey::Ztf, other) => other,
        (_, Band::U) => Band::Y,
        (_, Band::Y) => Band::U,
        (_, Band::G) => Band::Z,
        (_, Band::Z) => Band::G,
        (_, Band::R) => Band::I,
        (_, Band::I) => Band::R,
    }
}

/// `curve` with the distortion applied; fluxes, errors and detection flags stay with their points.
pub fn distort(curve: &LightCurve, distortion: Distortion) -> LightCurve {
    let (first, last) = match (curve.points.first(), curve.points.last()) {
        (Some(a), Some(b)) => (a.mjd, b.mjd),
        _ => return curve.clone(),
    };
    let reverse = matches!(distortion, Distortion::TimeReversed | Distortion::Both);
    let mirror = matches!(distortion, Distortion::ColoursMirrored | Distortion::Both);
    let points = curve
        .points
        .iter()
        .map(|p| {
            let mut q = *p;
            if reverse {
                q.mjd = first + last - p.mjd;
            }
            if mirror {
                q.band = mirrored_band(p.band, curve.survey);
            }
            q
        })
        .collect();
    LightCurve::new(curve.object_id.clone(), curve.survey, points)
}

/// One distorted copy (a random distortion) of each transient view long enough to show it.
pub fn outlier_views(views: &[LabelledCurve], seed: u64) -> Vec<LightCurve> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    views
        .iter()
        .filter(|v| top_level_of(v.label) == TopLevel::Transient)
        .filter(|v| {
            v.curve.points.iter().filter(|p| p.detected).count() >= MIN_DETECTIONS
                && v.curve.span_days() >= MIN_SPAN_DAYS
        })
        .map(|v| {
            let distortion = Distortion::ALL[rng.random_range(0..Distortion::ALL.len())];
            distort(&v.curve, distortion)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lightcurve::Point;

    fn rising(survey: Survey, bands: [Band; 2]) -> LightCurve {
        let points = (0..10)
            .map(|i| Point {
                mjd: 60000.0 + 3.0 * i as f64,
                band: bands[i % 2],
                flux_njy: 100.0 * (i + 1) as f64,
                flux_err_njy: 10.0,
                detected: true,
            })
            .collect();
        LightCurve::new("sn", survey, points)
    }

    #[test]
    fn reversal_keeps_the_window_and_turns_a_rise_into_a_decline() {
        let c = rising(Survey::Ztf, [Band::G, Band::R]);
        let r = distort(&c, Distortion::TimeReversed);
        assert_eq!(r.points.first().map(|p| p.mjd), Some(60000.0));
        assert_eq!(r.points.last().map(|p| p.mjd), Some(60027.0));
        let fluxes: Vec<f64> = r.points.iter().map(|p| p.flux_njy).collect();
        assert!(fluxes.windows(2).all(|w| w[1] < w[0]), "{fluxes:?}");
        assert_eq!(r.points.len(), c.points.len());
    }

    #[test]
    fn mirroring_swaps_blue_and_red_bands_per_survey() {
        let z = distort(
            &rising(Survey::Ztf, [Band::G, Band::R]),
            Distortion::ColoursMirrored,
        );
        assert_eq!(z.points[0].band, Band::R);
        assert_eq!(z.points[1].band, Band::G);
        let l = distort(
            &rising(Survey::Lsst, [Band::U, Band::I]),
            Distortion::ColoursMirrored,
        );
        assert_eq!(l.points[0].band, Band::Y);
        assert_eq!(l.points[1].band, Band::R);
        // Mirroring twice is the identity.
        let c = rising(Survey::Lsst, [Band::G, Band::R]);
        let twice = distort(&distort(&c, Distortion::Both), Distortion::Both);
        assert_eq!(twice, c);
    }

    #[test]
    fn only_long_enough_transient_views_are_distorted() {
        let sn = rising(Survey::Ztf, [Band::G, Band::R]);
        let short = sn.truncated(60006.0, 30.0);
        let views = vec![
            LabelledCurve {
                curve: sn.clone(),
                label: 0, // SNIa
            },
            LabelledCurve {
                curve: short,
                label: 0,
            },
            LabelledCurve {
                curve: sn,
                label: 12, // RRL
            },
        ];
        let out = outlier_views(&views, 3);
        assert_eq!(out.len(), 1);
        assert_eq!(out, outlier_views(&views, 3));
    }
}
