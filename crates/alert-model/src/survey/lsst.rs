//! Rubin alert packets (`lsst.vX_Y.alert`, lsst-alert-packet schemas 3.0–11.x; Spark rewrites; the
//! ELAsTiCC v0.9 simulation). Fields renamed between versions are read under each of their names.

use super::{Fields, MJD_RANGE, Validation};
use crate::avro::{Datum, Record};
use crate::{
    Alert, Band, Cutout, Cutouts, DecodeError, Detection, DetectionQuality, FluxNjy,
    ForcedPhotometry, Mjd, ObjectId, SolarSystemMatch, SourceId, Survey, UpperLimit,
};

/// A Rubin-like packet carries a `diaSource`.
pub(crate) fn is_lsst(record: &Record) -> bool {
    record.position("diaSource").is_some()
}

// Names across schema versions: ≤ 5.x / ELAsTiCC use the first DPDD spellings.
const MJD: &[&str] = &["midpointMjdTai", "midPointTai"];
const BAND: &[&str] = &["band", "filterName"];
const FLUX: &[&str] = &["psfFlux", "psFlux"];
const FLUX_ERR: &[&str] = &["psfFluxErr", "psFluxErr"];
const DEC: &[&str] = &["dec", "decl"];
const PIXEL_FLAGS: &[&str] = &[
    "pixelFlags_bad",
    "pixelFlags_crCenter",
    "pixelFlags_saturatedCenter",
    "pixelFlags_nodataCenter",
];

/// How a packet's fluxes convert to nJy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum FluxUnit {
    /// lsst-alert-packet: `psfFlux` is in nJy.
    Nanojansky,
    /// ELAsTiCC (SNANA simulation): FLUXCAL with zero point 27.5 (Kessler et al. 2009, PASP 121,
    /// 1028), so nJy = FLUXCAL · 10^(0.4·(31.4 − 27.5)). Checked against the packets: 5σ of the
    /// Y-band errors lands at m ≈ 22, the LSST single-visit depth.
    SnanaFluxcal,
}

impl FluxUnit {
    fn to_njy(self) -> f64 {
        match self {
            FluxUnit::Nanojansky => 1.0,
            FluxUnit::SnanaFluxcal => 10f64.powf(0.4 * (crate::AB_ZERO_POINT_NJY - 27.5)),
        }
    }
}

pub(crate) fn alert_from_lsst(
    datum: &Datum<'_>,
    schema_version: &str,
    unit: FluxUnit,
    validation: Validation,
) -> Result<Alert, DecodeError> {
    let scale = unit.to_njy();
    let top = Fields::new(datum, "alert", validation);
    let source_datum = top
        .get(&["diaSource"])
        .ok_or_else(|| DecodeError::missing("alert.diaSource"))?;
    let source = top.child(source_datum, "diaSource");
    let candidate = detection(&source, scale)?;
    // An ssObjectId of 0 (some schema versions' default) means no association.
    let solar_system = source
        .opt_i64(&["ssObjectId"])
        .filter(|id| *id != 0)
        .map(|id| SolarSystemMatch {
            name: id.to_string(),
            distance_arcsec: None,
            magnitude_v: None,
        });
    let object_id = object_id(&top, &source)?;

    let previous_detections = top
        .get(&["prvDiaSources"])
        .map(|d| d.items())
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, item)| detection(&top.child(item, &format!("prvDiaSources[{i}]")), scale))
        .collect::<Result<Vec<_>, _>>()?;

    let mut forced_photometry = Vec::new();
    if let Some(forced) = top.get(&["prvDiaForcedSources"]) {
        for (i, item) in forced.items().iter().enumerate() {
            let path = format!("prvDiaForcedSources[{i}]");
            if let Some(point) = forced_point(&top.child(item, &path), scale)? {
                forced_photometry.push(point);
            }
        }
    }

    let upper_limits = top
        .get(&["prvDiaNondetectionLimits"])
        .map(|d| d.items())
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let path = format!("prvDiaNondetectionLimits[{i}]");
            upper_limit(&top.child(item, &path), scale).transpose()
        })
        .collect::<Result<Vec<_>, _>>()?;

    Ok(Alert {
        survey: Survey::Lsst,
        object_id,
        schema_version: schema_version.to_owned(),
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

/// `diaObjectId` from the source, the packet or its `diaObject`; a source associated only with a
/// solar-system object gets that object's id with an `ss` prefix, since the two id spaces differ.
fn object_id(top: &Fields<'_, '_>, source: &Fields<'_, '_>) -> Result<ObjectId, DecodeError> {
    let dia_object = top
        .get(&["diaObject"])
        .and_then(|d| d.field("diaObjectId"))
        .and_then(Datum::as_i64);
    let id = source
        .opt_i64(&["diaObjectId"])
        .or_else(|| top.opt_i64(&["diaObjectId"]))
        .or(dia_object);
    if let Some(id) = id {
        return ObjectId::from_lsst(id).map_err(|e| DecodeError::out_of_range("diaObjectId", e));
    }
    match source.opt_i64(&["ssObjectId"]) {
        Some(ss) => ObjectId::from_lsst_solar_system(ss)
            .map_err(|e| DecodeError::out_of_range("ssObjectId", e)),
        None => Err(DecodeError::missing("diaSource.diaObjectId")),
    }
}

fn band(f: &Fields<'_, '_>) -> Result<Band, DecodeError> {
    let name = f.str(BAND)?;
    Band::parse(name).ok_or_else(|| DecodeError::out_of_range(format!("{}.band", f.path), name))
}

fn mjd(f: &Fields<'_, '_>) -> Result<Mjd, DecodeError> {
    Ok(Mjd(f.in_range(
        "midpointMjdTai",
        f.f64(MJD)?,
        MJD_RANGE.0,
        MJD_RANGE.1,
    )?))
}

fn detection(f: &Fields<'_, '_>, scale: f64) -> Result<Detection, DecodeError> {
    let flagged = PIXEL_FLAGS
        .iter()
        .filter_map(|name| f.opt_bool(&[name]))
        .reduce(|a, b| a || b);
    Ok(Detection {
        source_id: SourceId(f.i64(&["diaSourceId"])?),
        mjd: mjd(f)?,
        band: band(f)?,
        ra: f.in_range("ra", f.f64(&["ra"])?, 0.0, 360.0)?,
        dec: f.in_range("dec", f.f64(DEC)?, -90.0, 90.0)?,
        flux: FluxNjy(f.f64(FLUX)? * scale),
        flux_err: FluxNjy(f.in_range("psfFluxErr", f.f64(FLUX_ERR)?, 0.0, f64::MAX)? * scale),
        mag: None,
        quality: DetectionQuality {
            reliability: f.opt_f64(&["reliability"]),
            snr: f.opt_f64(&["snr"]),
            flagged,
            ..DetectionQuality::default()
        },
    })
}

/// A forced measurement; `None` when the pipeline recorded no flux for it (null `psfFlux`).
fn forced_point(f: &Fields<'_, '_>, scale: f64) -> Result<Option<ForcedPhotometry>, DecodeError> {
    let (Some(flux), Some(err)) = (f.opt_f64(FLUX), f.opt_f64(FLUX_ERR)) else {
        return Ok(None);
    };
    Ok(Some(ForcedPhotometry {
        source_id: f.opt_i64(&["diaForcedSourceId"]).map(SourceId),
        mjd: mjd(f)?,
        band: band(f)?,
        flux: FluxNjy(flux * scale),
        flux_err: FluxNjy(f.in_range("psfFluxErr", err, 0.0, f64::MAX)? * scale),
        status: None,
    }))
}

/// `diaNoise` is the 1σ flux noise of the difference image at the position (DPDD, LSE-163,
/// DiaNondetectionLimit); the limit kept is 5σ, the alert threshold.
fn upper_limit(f: &Fields<'_, '_>, scale: f64) -> Result<Option<UpperLimit>, DecodeError> {
    let Some(noise) = f.opt_f64(&["diaNoise"]) else {
        return Ok(None);
    };
    let Some(limiting_mag) = FluxNjy(5.0 * noise * scale).ab_mag() else {
        return Ok(None);
    };
    Ok(Some(UpperLimit {
        mjd: mjd(f)?,
        band: band(f)?,
        limiting_mag,
    }))
}

fn cutout(datum: Option<&Datum<'_>>) -> Option<Cutout> {
    let bytes = datum?.as_bytes()?;
    Some(Cutout {
        file_name: None,
        compressed: bytes.to_vec(),
    })
}
