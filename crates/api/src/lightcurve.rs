//! A light curve as rows of points: the one shape the JSON, CSV and plots all read.

use alert_model::{Band, FluxNjy, Mjd, ObjectId, Survey};
use serde::Serialize;
use store::LightCurve;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PointKind {
    Detection,
    Forced,
    UpperLimit,
}

impl PointKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PointKind::Detection => "detection",
            PointKind::Forced => "forced",
            PointKind::UpperLimit => "upper_limit",
        }
    }
}

/// One measurement. Fluxes are difference fluxes in nJy; `mag` is the AB magnitude of a
/// positive flux (`null` when flux ≤ 0) and `mag_err` its first-order error. Upper limits carry
/// the 5σ limiting magnitude in `mag` and its flux in `flux`, with no errors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    #[serde(skip)]
    pub kind: PointKind,
    pub mjd: Mjd,
    pub band: Band,
    pub flux: f64,
    pub flux_err: Option<f64>,
    pub mag: Option<f64>,
    pub mag_err: Option<f64>,
    /// Survey id of the measurement (ZTF `candid`, Rubin `diaSourceId`), where it has one.
    pub source_id: Option<i64>,
}

impl Point {
    fn measured(
        kind: PointKind,
        mjd: Mjd,
        band: Band,
        flux: FluxNjy,
        flux_err: FluxNjy,
        source_id: Option<i64>,
    ) -> Self {
        let positive = flux.0 > 0.0;
        Self {
            kind,
            mjd,
            band,
            flux: flux.0,
            flux_err: Some(flux_err.0),
            mag: flux.ab_mag().filter(|_| positive),
            mag_err: flux.mag_error(flux_err).filter(|_| positive),
            source_id,
        }
    }
}

/// The light curve split by kind, each list in MJD order.
#[derive(Debug, Clone, Serialize)]
pub struct LightCurveView {
    pub survey: Survey,
    pub object_id: ObjectId,
    pub detections: Vec<Point>,
    pub forced_photometry: Vec<Point>,
    pub upper_limits: Vec<Point>,
}

impl From<LightCurve> for LightCurveView {
    fn from(lc: LightCurve) -> Self {
        let detections = lc
            .detections
            .iter()
            .map(|d| {
                Point::measured(
                    PointKind::Detection,
                    d.mjd,
                    d.band,
                    d.flux,
                    d.flux_err,
                    Some(d.source_id.0),
                )
            })
            .collect();
        let forced_photometry = lc
            .forced_photometry
            .iter()
            .map(|f| {
                Point::measured(
                    PointKind::Forced,
                    f.mjd,
                    f.band,
                    f.flux,
                    f.flux_err,
                    f.source_id.map(|s| s.0),
                )
            })
            .collect();
        let upper_limits = lc
            .upper_limits
            .iter()
            .map(|u| Point {
                kind: PointKind::UpperLimit,
                mjd: u.mjd,
                band: u.band,
                flux: u.flux_limit().0,
                flux_err: None,
                mag: Some(u.limiting_mag),
                mag_err: None,
                source_id: None,
            })
            .collect();
        Self {
            survey: lc.survey,
            object_id: lc.object_id,
            detections,
            forced_photometry,
            upper_limits,
        }
    }
}

impl LightCurveView {
    pub fn points(&self) -> impl Iterator<Item = &Point> {
        self.detections
            .iter()
            .chain(&self.forced_photometry)
            .chain(&self.upper_limits)
    }
}

/// CSV columns, in order; empty fields are nulls.
pub const CSV_COLUMNS: [&str; 8] = [
    "kind",
    "mjd",
    "band",
    "flux_njy",
    "flux_err_njy",
    "mag_ab",
    "mag_err",
    "source_id",
];

/// One header line, then one row per point: detections, forced photometry, upper limits.
pub fn to_csv(view: &LightCurveView) -> String {
    fn opt(v: Option<f64>) -> String {
        v.map(|x| x.to_string()).unwrap_or_default()
    }
    let mut out = CSV_COLUMNS.join(",");
    out.push('\n');
    for p in view.points() {
        let row = [
            p.kind.as_str().to_owned(),
            p.mjd.0.to_string(),
            p.band.as_str().to_owned(),
            p.flux.to_string(),
            opt(p.flux_err),
            opt(p.mag),
            opt(p.mag_err),
            p.source_id.map(|s| s.to_string()).unwrap_or_default(),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnitude_only_for_positive_flux() {
        let p = Point::measured(
            PointKind::Detection,
            Mjd(60000.0),
            Band::G,
            FluxNjy(3631.0),
            FluxNjy(36.31),
            None,
        );
        let mag = p.mag.unwrap();
        assert!((mag - 22.5).abs() < 1e-3, "{mag}");
        assert!((p.mag_err.unwrap() - 0.01086).abs() < 1e-4);
        let n = Point::measured(
            PointKind::Forced,
            Mjd(60000.0),
            Band::G,
            FluxNjy(-10.0),
            FluxNjy(5.0),
            None,
        );
        assert_eq!((n.mag, n.mag_err), (None, None));
    }
}
