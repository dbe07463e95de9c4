//! The classifier's input: a multi-band light curve in difference flux, independent of Burn.

use alert_model::{Alert, Band, Detection, Survey};

/// Detection threshold in |S/N| (ZTF and Rubin alert rule).
pub const DETECTION_SNR: f64 = 5.0;

/// Points in one band closer in time than this (days, under 9 s) come from one exposure: ZTF
/// exposures are 30 s with ~10 s readout, Rubin visits 30 s.
const SAME_EXPOSURE_DAYS: f64 = 1e-4;

/// One photometric measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Time (MJD).
    pub mjd: f64,
    pub band: Band,
    /// Difference flux (nJy, AB).
    pub flux_njy: f64,
    /// 1σ flux error (nJy).
    pub flux_err_njy: f64,
    /// A difference-image detection (|S/N| ≥ 5) rather than forced photometry.
    pub detected: bool,
}

impl Point {
    /// A difference-image detection of an alert packet.
    pub fn from_detection(d: &Detection) -> Point {
        Point {
            mjd: d.mjd.0,
            band: d.band,
            flux_njy: d.flux.0,
            flux_err_njy: d.flux_err.0,
            detected: true,
        }
    }

    /// Wavelength (Å) of the point's band on `survey`, if the survey has that band.
    pub fn wavelength(&self, survey: Survey) -> Option<f64> {
        self.band.effective_wavelength(survey)
    }
}

/// A light curve of one object on one survey.
#[derive(Debug, Clone, PartialEq)]
pub struct LightCurve {
    pub object_id: String,
    pub survey: Survey,
    pub points: Vec<Point>,
}

impl LightCurve {
    /// Points sorted by time, without unusable values and with one measurement per exposure and
    /// band: a detection rather than forced photometry of the same epoch (an alert packet or the
    /// store holds both), and of several detections (a ZTF difference image can hold two
    /// candidates of one object, e.g. a bright star split in two) the one with the smallest
    /// error. Training never sees an epoch twice, and a repeated epoch would count twice in the
    /// Gaussian process and the periodogram.
    pub fn new(object_id: impl Into<String>, survey: Survey, mut points: Vec<Point>) -> Self {
        points.retain(|p| {
            p.mjd.is_finite()
                && p.flux_njy.is_finite()
                && p.flux_err_njy.is_finite()
                && p.flux_err_njy > 0.0
                && p.band.effective_wavelength(survey).is_some()
        });
        points.sort_by(|a, b| a.mjd.total_cmp(&b.mjd));
        let more_informative =
            |a: &Point, b: &Point| (a.detected, b.flux_err_njy) > (b.detected, a.flux_err_njy);
        let mut kept: Vec<Point> = Vec::with_capacity(points.len());
        for p in points {
            match kept
                .iter_mut()
                .rev()
                .take_while(|k| p.mjd - k.mjd < SAME_EXPOSURE_DAYS)
                .find(|k| k.band == p.band)
            {
                Some(k) if more_informative(&p, k) => *k = p,
                Some(_) => {}
                None => kept.push(p),
            }
        }
        let points = kept;
        LightCurve {
            object_id: object_id.into(),
            survey,
            points,
        }
    }

    /// Time span (days) between first and last point.
    pub fn span_days(&self) -> f64 {
        match (self.points.first(), self.points.last()) {
            (Some(a), Some(b)) => b.mjd - a.mjd,
            _ => 0.0,
        }
    }

    /// The points within `days` before (and including) `end_mjd`: what an alert issued at
    /// `end_mjd` with that much history shows.
    pub fn truncated(&self, end_mjd: f64, days: f64) -> LightCurve {
        LightCurve {
            object_id: self.object_id.clone(),
            survey: self.survey,
            points: self
                .points
                .iter()
                .filter(|p| p.mjd <= end_mjd && p.mjd >= end_mjd - days)
                .copied()
                .collect(),
        }
    }

    /// Only the detections.
    pub fn detections_only(&self) -> LightCurve {
        LightCurve {
            object_id: self.object_id.clone(),
            survey: self.survey,
            points: self.points.iter().filter(|p| p.detected).copied().collect(),
        }
    }

    /// The light curve an alert packet carries, as [`crate::data::alert_view`] simulates it: its
    /// detections (each source id once) and, on Rubin, the forced photometry (of an epoch with a
    /// detection in that band, [`LightCurve::new`] keeps the detection). ZTF forced photometry
    /// (`fp_hists`, schema 4) is left out, as the ZTF alert views the classifier is trained on
    /// hold detections only.
    pub fn from_alert(alert: &Alert) -> LightCurve {
        let mut seen = std::collections::HashSet::new();
        let mut points: Vec<Point> = alert
            .detections()
            .filter(|d| seen.insert(d.source_id))
            .map(Point::from_detection)
            .collect();
        if alert.survey == Survey::Lsst {
            points.extend(alert.forced_photometry.iter().map(|f| Point {
                mjd: f.mjd.0,
                band: f.band,
                flux_njy: f.flux.0,
                flux_err_njy: f.flux_err.0,
                detected: (f.flux.0 / f.flux_err.0).abs() >= DETECTION_SNR,
            }));
        }
        LightCurve::new(alert.object_id.as_str(), alert.survey, points)
    }

    /// A simulated object's observations (detections and forced photometry).
    pub fn from_simulated(object: &simulator::SimulatedObject) -> LightCurve {
        let points = object
            .observations
            .iter()
            .map(|o| Point {
                mjd: o.mjd,
                band: o.band,
                flux_njy: o.flux_njy,
                flux_err_njy: o.flux_err_njy,
                detected: o.detected,
            })
            .collect();
        LightCurve::new(object.object_id.clone(), object.survey, points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(mjd: f64, band: Band, flux_njy: f64, flux_err_njy: f64) -> Point {
        Point {
            mjd,
            band,
            flux_njy,
            flux_err_njy,
            detected: true,
        }
    }

    #[test]
    fn one_exposure_gives_one_point_per_band_the_most_precise() {
        // ZTF17aabuqkq, pid 1756259602815: two candidates in one g difference image.
        let t = 59_510.259_607;
        let curve = LightCurve::new(
            "dup",
            Survey::Ztf,
            vec![
                point(t, Band::G, -476_474.0, 43_004.0),
                point(t + 2e-6, Band::G, -495_404.0, 18_455.0),
                point(t, Band::R, -1_000.0, 50.0),
                point(t + 0.03, Band::G, 10.0, 1.0),
                point(t + 2.0, Band::G, 20.0, 1.0),
            ],
        );
        let kept: Vec<(Band, f64)> = curve.points.iter().map(|p| (p.band, p.flux_njy)).collect();
        assert_eq!(
            kept,
            [
                (Band::G, -495_404.0),
                (Band::R, -1_000.0),
                (Band::G, 10.0),
                (Band::G, 20.0)
            ]
        );
        // Forced photometry of a detected epoch gives way to the detection, even when its
        // error is smaller.
        let forced = Point {
            detected: false,
            ..point(t, Band::R, -990.0, 40.0)
        };
        let curve = LightCurve::new(
            "forced",
            Survey::Lsst,
            vec![forced, point(t, Band::R, -1_000.0, 50.0)],
        );
        assert_eq!(curve.points, [point(t, Band::R, -1_000.0, 50.0)]);
    }

    /// The curve read off an alert packet is the alert view training simulates for that epoch.
    #[test]
    fn an_alerts_light_curve_is_the_simulated_alert_view() {
        let mut config = crate::data::simulation(3, 2);
        config.classes = vec![simulator::Class::Rrl, simulator::Class::SnIa];
        let mut compared = 0;
        for object in simulator::simulate(&config) {
            let full = LightCurve::from_simulated(&object);
            for alert in simulator::alerts_for(&object).unwrap().iter().step_by(5) {
                let from_packet = LightCurve::from_alert(alert);
                let simulated = crate::data::alert_view(&full, alert.candidate.mjd.0);
                assert_eq!(from_packet.points.len(), simulated.points.len());
                for (a, b) in from_packet.points.iter().zip(&simulated.points) {
                    assert_eq!((a.mjd, a.band, a.detected), (b.mjd, b.band, b.detected));
                    assert!((a.flux_njy - b.flux_njy).abs() <= 1e-9 * b.flux_njy.abs().max(1.0));
                }
                compared += 1;
            }
        }
        assert!(compared >= 8, "{compared} alerts compared");
    }
}
