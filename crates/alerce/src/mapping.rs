//! ALeRCE records onto the alert model (architecture.md, "Units and conventions").
//!
//! `magpsf` with the sign of `isdiffpos` becomes a signed difference flux in nJy
//! ([`AbMagnitude::to_difference_flux`]); `fid` 1, 2, 3 = g, r, i; non-detections become upper
//! limits at `diffmaglim`. A record that cannot be mapped is skipped and reported, never guessed.

use std::collections::HashSet;

use alert_model::{
    AbMagnitude, Alert, Band, Cutouts, Detection, DetectionQuality, Mjd, ObjectId, SourceId,
    Survey, UpperLimit,
};
use serde::Serialize;

use crate::model::{ApiDetection, ApiLightCurve, ApiNonDetection};

/// `schema_version` of alerts built from the ALeRCE API.
pub const SCHEMA_VERSION: &str = "alerce-api-v1";

/// Plausible MJD range (the alert model's own validation uses 0–100000).
const MJD_RANGE: std::ops::Range<f64> = 0.0..100_000.0;
/// Plausible AB magnitude range for a ZTF difference-image measurement or limit.
const MAG_RANGE: std::ops::Range<f64> = 0.0..40.0;

/// A light curve in the alert model's units, detections and limits each in MJD order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MappedLightCurve {
    pub detections: Vec<Detection>,
    pub upper_limits: Vec<UpperLimit>,
    pub skipped: Vec<Skipped>,
}

/// A record left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// `detection` or `non_detection`.
    pub kind: &'static str,
    /// Position in the API's list.
    pub index: usize,
    pub reason: String,
}

/// Maps a light curve. `fallback_position` (the object's mean RA/Dec) stands in for a detection
/// without coordinates. Duplicate candids and duplicate (MJD, band) limits are kept once.
pub fn map_light_curve(
    lc: &ApiLightCurve,
    fallback_position: Option<(f64, f64)>,
) -> MappedLightCurve {
    let mut out = MappedLightCurve::default();
    let mut seen = HashSet::new();
    for (index, d) in lc.detections.iter().enumerate() {
        match detection(d, fallback_position) {
            Ok(det) if seen.insert(det.source_id) => out.detections.push(det),
            Ok(det) => out.skipped.push(Skipped {
                kind: "detection",
                index,
                reason: format!("duplicate candid {}", det.source_id),
            }),
            Err(reason) => out.skipped.push(Skipped {
                kind: "detection",
                index,
                reason,
            }),
        }
    }
    let mut seen = HashSet::new();
    for (index, n) in lc.non_detections.iter().enumerate() {
        match upper_limit(n) {
            Ok(ul) if seen.insert((ul.mjd.0.to_bits(), ul.band)) => out.upper_limits.push(ul),
            Ok(_) => {} // the same limit listed twice: nothing lost
            Err(reason) => out.skipped.push(Skipped {
                kind: "non_detection",
                index,
                reason,
            }),
        }
    }
    out.detections.sort_by(|a, b| {
        a.mjd
            .0
            .total_cmp(&b.mjd.0)
            .then(a.source_id.cmp(&b.source_id))
    });
    out.upper_limits
        .sort_by(|a, b| a.mjd.0.total_cmp(&b.mjd.0).then(a.band.cmp(&b.band)));
    out
}

/// The alert for the store: the latest detection as the candidate, the others (MJD order) as its
/// history, with the upper limits. `None` without detections (an alert needs a candidate).
pub fn to_alert(object_id: &ObjectId, lc: &MappedLightCurve) -> Option<Alert> {
    let (candidate, previous) = lc.detections.split_last()?;
    Some(Alert {
        survey: Survey::Ztf,
        object_id: object_id.clone(),
        schema_version: SCHEMA_VERSION.to_owned(),
        candidate: candidate.clone(),
        previous_detections: previous.to_vec(),
        forced_photometry: Vec::new(),
        upper_limits: lc.upper_limits.clone(),
        cutouts: Cutouts::default(),
        solar_system: None,
    })
}

fn finite_in(name: &str, value: Option<f64>, range: std::ops::Range<f64>) -> Result<f64, String> {
    match value {
        None => Err(format!("{name} is missing")),
        Some(v) if v.is_finite() && range.contains(&v) => Ok(v),
        Some(v) => Err(format!("{name} = {v} is outside {range:?}")),
    }
}

fn band(fid: Option<i64>) -> Result<Band, String> {
    let fid = fid.ok_or("fid is missing")?;
    Band::from_ztf_fid(fid).ok_or_else(|| format!("fid {fid} is not a ZTF band (1 g, 2 r, 3 i)"))
}

fn detection(d: &ApiDetection, fallback_position: Option<(f64, f64)>) -> Result<Detection, String> {
    let candid = d.candid.ok_or("candid is missing")?;
    if candid <= 0 {
        return Err(format!("candid {candid} is not positive"));
    }
    let mjd = finite_in("mjd", d.mjd, MJD_RANGE)?;
    let band = band(d.fid)?;
    let mag = finite_in("magpsf", d.magpsf, MAG_RANGE)?;
    let err = finite_in("sigmapsf", d.sigmapsf, 0.0..10.0)?;
    let positive = d.isdiffpos.ok_or("isdiffpos is missing")?;
    let (ra, dec) = match (d.ra, d.dec) {
        (Some(ra), Some(dec)) => (ra, dec),
        _ => fallback_position.ok_or("ra/dec are missing")?,
    };
    if !(ra.is_finite() && dec.is_finite() && (0.0..=360.0).contains(&ra) && dec.abs() <= 90.0) {
        return Err(format!("position ({ra}, {dec}) is not on the sky"));
    }
    let magnitude = AbMagnitude { mag, err };
    let (flux, flux_err) = magnitude.to_difference_flux(positive);
    let finite = |v: Option<f64>| v.filter(|x| x.is_finite());
    Ok(Detection {
        source_id: SourceId(candid),
        mjd: Mjd(mjd),
        band,
        ra,
        dec,
        flux,
        flux_err,
        mag: Some(magnitude),
        quality: DetectionQuality {
            real_bogus: finite(d.rb),
            deep_real_bogus: finite(d.drb),
            n_bad_pixels: d.nbad,
            fwhm: finite(d.fwhm),
            zero_point: finite(d.magzpsci),
            ..DetectionQuality::default()
        },
    })
}

fn upper_limit(n: &ApiNonDetection) -> Result<UpperLimit, String> {
    Ok(UpperLimit {
        mjd: Mjd(finite_in("mjd", n.mjd, MJD_RANGE)?),
        band: band(n.fid)?,
        limiting_mag: finite_in("diffmaglim", n.diffmaglim, MAG_RANGE)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(candid: i64, mjd: f64, fid: i64, pos: bool) -> ApiDetection {
        ApiDetection {
            candid: Some(candid),
            mjd: Some(mjd),
            fid: Some(fid),
            magpsf: Some(19.0),
            sigmapsf: Some(0.1),
            isdiffpos: Some(pos),
            ra: Some(10.0),
            dec: Some(20.0),
            ..ApiDetection::default()
        }
    }

    #[test]
    fn signs_units_and_order() {
        let lc = ApiLightCurve {
            detections: vec![
                det(3, 59003.0, 2, false),
                det(1, 59001.0, 1, true),
                det(1, 59001.0, 1, true),
            ],
            non_detections: vec![ApiNonDetection {
                mjd: Some(58990.0),
                fid: Some(3),
                diffmaglim: Some(20.5),
            }],
        };
        let m = map_light_curve(&lc, None);
        assert_eq!(m.detections.len(), 2);
        assert_eq!(m.skipped.len(), 1, "{:?}", m.skipped);
        assert_eq!(m.detections[0].band, Band::G);
        assert!((m.detections[0].flux.0 - 91_201.08).abs() < 0.1);
        assert!(m.detections[1].flux.0 < 0.0);
        assert_eq!(m.upper_limits[0].band, Band::I);
        let alert = to_alert(&ObjectId::parse(Survey::Ztf, "ZTF18adoojej").unwrap(), &m).unwrap();
        assert_eq!(alert.candidate.source_id, SourceId(3));
        assert_eq!(alert.previous_detections.len(), 1);
        assert_eq!(alert.schema_version, SCHEMA_VERSION);
    }

    #[test]
    fn bad_records_are_reported() {
        let mut no_mag = det(5, 59000.0, 1, true);
        no_mag.magpsf = None;
        let mut no_pos = det(6, 59000.0, 1, true);
        no_pos.ra = None;
        let lc = ApiLightCurve {
            detections: vec![no_mag, det(7, 59000.0, 4, true), no_pos.clone()],
            non_detections: vec![ApiNonDetection::default()],
        };
        let m = map_light_curve(&lc, None);
        assert!(m.detections.is_empty());
        let reasons: Vec<_> = m.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "magpsf is missing",
                "fid 4 is not a ZTF band (1 g, 2 r, 3 i)",
                "ra/dec are missing",
                "mjd is missing"
            ]
        );
        let lc = ApiLightCurve {
            detections: vec![no_pos],
            non_detections: vec![],
        };
        assert_eq!(map_light_curve(&lc, Some((1.0, 2.0))).detections[0].ra, 1.0);
        assert!(
            to_alert(
                &ObjectId::parse(Survey::Ztf, "ZTF18adoojej").unwrap(),
                &MappedLightCurve::default()
            )
            .is_none()
        );
    }
}
