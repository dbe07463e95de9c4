//! The classifier's input: a multi-band light curve in difference flux, independent of Burn.

use alert_model::{Band, Survey};

/// Detection threshold in |S/N| (ZTF and Rubin alert rule).
pub const DETECTION_SNR: f64 = 5.0;

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
    pub fn new(object_id: impl Into<String>, survey: Survey, mut points: Vec<Point>) -> Self {
        points.retain(|p| {
            p.mjd.is_finite()
                && p.flux_njy.is_finite()
                && p.flux_err_njy.is_finite()
                && p.flux_err_njy > 0.0
                && p.band.effective_wavelength(survey).is_some()
        });
        points.sort_by(|a, b| a.mjd.total_cmp(&b.mjd));
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
