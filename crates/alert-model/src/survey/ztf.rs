//! ZTF alert packets (ZTF Avro schemas 1.x–4.02, `ztf.alert`; Spark rewrites read by field name).
//!
//! Field meanings: ZTF Science Data System, "ZTF Avro Alert Schema" (candidate.avsc,
//! prv_candidate.avsc, fp_hist.avsc); Masci et al. 2019 (PASP 131, 018003).

use super::{Fields, MJD_RANGE, Validation};
use crate::avro::{Datum, Record};
use crate::{
    AB_ZERO_POINT_NJY, AbMagnitude, Alert, Band, Cutout, Cutouts, DecodeError, Detection,
    DetectionQuality, FluxNjy, ForcedPhotometry, Mjd, ObjectId, SolarSystemMatch, SourceId, Survey,
    UpperLimit,
};

/// A ZTF packet carries `objectId` and `candidate`, whatever its record is named.
pub(crate) fn is_ztf(record: &Record) -> bool {
    record.position("objectId").is_some() && record.position("candidate").is_some()
}

/// ZTF's "no value" sentinel in forced photometry (fp_hist.avsc: `forcediffimflux` −99999).
const FP_NULL: f64 = -99_999.0;

pub(crate) fn alert_from_ztf(
    datum: &Datum<'_>,
    validation: Validation,
) -> Result<Alert, DecodeError> {
    let top = Fields::new(datum, "alert", validation);
    let object_id = top.str(&["objectId"])?;
    let object_id = ObjectId::parse(Survey::Ztf, object_id)
        .map_err(|e| DecodeError::out_of_range("alert.objectId", e))?;
    // Schemas before 2.0 (2018) have no `schemavsn`.
    let schema_version = top.opt_str(&["schemavsn"]).unwrap_or("pre-2.0").to_owned();

    let candidate_datum = top
        .get(&["candidate"])
        .ok_or_else(|| DecodeError::missing("alert.candidate"))?;
    let candidate_fields = top.child(candidate_datum, "candidate");
    let candidate = detection(&candidate_fields, None)?;
    let solar_system = solar_system_match(&candidate_fields);
    let fallback_position = (candidate.ra, candidate.dec);

    let mut previous_detections = Vec::new();
    let mut upper_limits = Vec::new();
    if let Some(prv) = top.get(&["prv_candidates"]) {
        for (i, item) in prv.items().iter().enumerate() {
            let path = format!("prv_candidates[{i}]");
            let f = top.child(item, &path);
            // A null candid marks a non-detection: only its limiting magnitude is meaningful.
            if f.get(&["candid"]).is_none() {
                if let Some(limit) = upper_limit(&f)? {
                    upper_limits.push(limit);
                }
            } else {
                previous_detections.push(detection(&f, Some(fallback_position))?);
            }
        }
    }

    let mut forced_photometry = Vec::new();
    if let Some(fp) = top.get(&["fp_hists"]) {
        for (i, item) in fp.items().iter().enumerate() {
            let path = format!("fp_hists[{i}]");
            if let Some(point) = forced_point(&top.child(item, &path))? {
                forced_photometry.push(point);
            }
        }
    }

    Ok(Alert {
        survey: Survey::Ztf,
        object_id,
        schema_version,
        candidate,
        previous_detections,
        forced_photometry,
        upper_limits,
        cutouts: Cutouts {
            science: cutout(top.get(&["cutoutScience"])),
            template: cutout(top.get(&["cutoutTemplate"])),
            difference: cutout(top.get(&["cutoutDifference"])),
        },
        solar_system,
    })
}

/// ZTF's nearest known solar-system object (`ssnamenr`, `ssdistnr`, `ssmagnr`): none when the
/// name is null or "null" or the distance is ZTF's −999 sentinel.
fn solar_system_match(f: &Fields<'_, '_>) -> Option<SolarSystemMatch> {
    let name = f.opt_str(&["ssnamenr"])?.trim();
    let distance = f.opt_f64(&["ssdistnr"]).filter(|d| *d >= 0.0)?;
    if name.is_empty() || name.eq_ignore_ascii_case("null") {
        return None;
    }
    Some(SolarSystemMatch {
        name: name.to_owned(),
        distance_arcsec: Some(distance),
        magnitude_v: f.opt_f64(&["ssmagnr"]).filter(|m| *m > 0.0),
    })
}

fn band(f: &Fields<'_, '_>) -> Result<Band, DecodeError> {
    let fid = f.i64(&["fid"])?;
    Band::from_ztf_fid(fid).ok_or_else(|| DecodeError::out_of_range(format!("{}.fid", f.path), fid))
}

fn mjd(f: &Fields<'_, '_>) -> Result<Mjd, DecodeError> {
    let mjd = Mjd::from_jd(f.f64(&["jd"])?);
    f.in_range("jd", mjd.0, MJD_RANGE.0, MJD_RANGE.1)?;
    Ok(mjd)
}

/// `isdiffpos`: 't' or '1' when the science image is brighter than the template, 'f' or '0' when
/// fainter (candidate.avsc).
fn is_positive(f: &Fields<'_, '_>) -> Result<bool, DecodeError> {
    match f.str(&["isdiffpos"])? {
        "t" | "1" | "T" | "true" => Ok(true),
        "f" | "0" | "F" | "false" => Ok(false),
        other => Err(DecodeError::out_of_range(
            format!("{}.isdiffpos", f.path),
            format!("{other:?}"),
        )),
    }
}

fn detection(
    f: &Fields<'_, '_>,
    fallback_position: Option<(f64, f64)>,
) -> Result<Detection, DecodeError> {
    let source_id = SourceId(f.i64(&["candid"])?);
    let mag = AbMagnitude {
        mag: f.in_range("magpsf", f.f64(&["magpsf"])?, -5.0, 40.0)?,
        err: f.in_range("sigmapsf", f.f64(&["sigmapsf"])?, 0.0, 10.0)?,
    };
    let (flux, flux_err) = mag.to_difference_flux(is_positive(f)?);
    let (ra, dec) = match (f.opt_f64(&["ra"]), f.opt_f64(&["dec"]), fallback_position) {
        (Some(ra), Some(dec), _) => (ra, dec),
        (_, _, Some(pos)) => pos,
        _ => (f.f64(&["ra"])?, f.f64(&["dec"])?),
    };
    Ok(Detection {
        source_id,
        mjd: mjd(f)?,
        band: band(f)?,
        ra: f.in_range("ra", ra, 0.0, 360.0)?,
        dec: f.in_range("dec", dec, -90.0, 90.0)?,
        flux,
        flux_err,
        mag: Some(mag),
        quality: DetectionQuality {
            real_bogus: f.opt_f64(&["rb"]),
            deep_real_bogus: f.opt_f64(&["drb"]),
            n_bad_pixels: f.opt_i64(&["nbad"]),
            fwhm: f.opt_f64(&["fwhm"]),
            zero_point: f.opt_f64(&["magzpsci"]),
            program_id: f.opt_i64(&["programid"]),
            ..DetectionQuality::default()
        },
    })
}

/// A non-detection; `None` when the packet gives no limiting magnitude (nothing was measured).
fn upper_limit(f: &Fields<'_, '_>) -> Result<Option<UpperLimit>, DecodeError> {
    let Some(limiting_mag) = f.opt_f64(&["diffmaglim"]) else {
        return Ok(None);
    };
    Ok(Some(UpperLimit {
        mjd: mjd(f)?,
        band: band(f)?,
        limiting_mag: f.in_range("diffmaglim", limiting_mag, -5.0, 40.0)?,
    }))
}

/// Forced difference-image PSF photometry (schema 4.x `fp_hists`). `forcediffimflux` is in DN of
/// the science image, so flux_nJy = DN · 10^(−0.4·(magzpsci − 31.4)) (ZTF forced-photometry
/// service guide, Masci et al. 2023). Points without a flux or zero point carry no measurement.
fn forced_point(f: &Fields<'_, '_>) -> Result<Option<ForcedPhotometry>, DecodeError> {
    let (Some(dn), Some(dn_err), Some(zero_point)) = (
        f.opt_f64(&["forcediffimflux"]),
        f.opt_f64(&["forcediffimfluxunc"]),
        f.opt_f64(&["magzpsci"]),
    ) else {
        return Ok(None);
    };
    if dn == FP_NULL || dn_err == FP_NULL || dn_err < 0.0 {
        return Ok(None);
    }
    let njy_per_dn = 10f64.powf(-0.4 * (zero_point - AB_ZERO_POINT_NJY));
    Ok(Some(ForcedPhotometry {
        source_id: None,
        mjd: mjd(f)?,
        band: band(f)?,
        flux: FluxNjy(dn * njy_per_dn),
        flux_err: FluxNjy(dn_err * njy_per_dn),
        status: f
            .opt_str(&["procstatus"])
            .map(str::to_owned)
            .or_else(|| f.opt_i64(&["procstatus"]).map(|s| s.to_string())),
    }))
}

fn cutout(datum: Option<&Datum<'_>>) -> Option<Cutout> {
    let d = datum?;
    let stamp = d.field("stampData")?.as_bytes()?;
    Some(Cutout {
        file_name: d
            .field("fileName")
            .and_then(Datum::as_str)
            .map(str::to_owned),
        compressed: stamp.to_vec(),
    })
}
