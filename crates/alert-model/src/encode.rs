//! Writing alerts as survey packets (for the simulator, replays, tests and benchmarks): ZTF-style
//! Avro container files and Rubin-style Confluent-framed messages, using apache-avro.
//!
//! The schemas are the project's own (`schemas/`): the fields of the real survey schemas that the
//! broker reads, with the same names, types and units, so the decoders treat them like real packets.

use std::sync::OnceLock;

use apache_avro::types::Value;
use apache_avro::{Codec, DeflateSettings, Schema, Writer};

use crate::avro::WireMessage;
use crate::{Alert, Band, Cutout, Detection, FluxNjy, Survey};

/// The simulated ZTF alert schema (a subset of ZTF 4.02).
pub const ZTF_SIM_SCHEMA: &str = include_str!("../schemas/ztf_alert_sim.avsc");
/// The simulated Rubin alert schema, registered as id [`SIM_LSST_SCHEMA_ID`].
pub const LSST_SIM_SCHEMA: &str = include_str!("../schemas/lsst/99/1/lsst.v99_1.alert.avsc");
/// Confluent schema id of [`LSST_SIM_SCHEMA`] (major 99, minor 1: ids 99xx are the project's own).
pub const SIM_LSST_SCHEMA_ID: u32 = 9901;

/// Zero point used to express simulated forced photometry in ZTF's DN (typical `magzpsci`).
const ZTF_SIM_ZERO_POINT: f64 = 26.0;

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("alert of survey {0} cannot be written as a {1} packet")]
    WrongSurvey(Survey, &'static str),
    #[error("band {0} does not exist on ZTF")]
    NotAZtfBand(Band),
    #[error("Avro encoding failed: {0}")]
    Avro(String),
}

impl From<apache_avro::Error> for EncodeError {
    fn from(e: apache_avro::Error) -> Self {
        EncodeError::Avro(e.to_string())
    }
}

fn schema(
    cell: &'static OnceLock<Result<Schema, String>>,
    text: &str,
) -> Result<&'static Schema, EncodeError> {
    cell.get_or_init(|| Schema::parse_str(text).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| EncodeError::Avro(e.clone()))
}

fn ztf_schema() -> Result<&'static Schema, EncodeError> {
    static CELL: OnceLock<Result<Schema, String>> = OnceLock::new();
    schema(&CELL, ZTF_SIM_SCHEMA)
}

fn lsst_schema() -> Result<&'static Schema, EncodeError> {
    static CELL: OnceLock<Result<Schema, String>> = OnceLock::new();
    schema(&CELL, LSST_SIM_SCHEMA)
}

fn record(fields: Vec<(&str, Value)>) -> Value {
    Value::Record(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// `["null", T]` unions: branch 0 is null.
fn opt(v: Option<Value>) -> Value {
    match v {
        Some(v) => Value::Union(1, Box::new(v)),
        None => Value::Union(0, Box::new(Value::Null)),
    }
}

fn float(v: f64) -> Value {
    Value::Float(v as f32)
}

/// A ZTF alert packet: one Avro container file (deflate) holding one alert.
pub fn ztf_packet(alert: &Alert) -> Result<Vec<u8>, EncodeError> {
    if alert.survey != Survey::Ztf {
        return Err(EncodeError::WrongSurvey(alert.survey, "ZTF"));
    }
    let schema = ztf_schema()?;
    let c = &alert.candidate;
    let ss = alert.solar_system.as_ref();
    let candidate = record(vec![
        ("jd", Value::Double(c.mjd.to_jd())),
        ("fid", Value::Int(ztf_fid(c.band)?)),
        ("pid", Value::Long(c.source_id.0 / 1000)),
        ("diffmaglim", opt(None)),
        (
            "programid",
            Value::Int(c.quality.program_id.unwrap_or(1) as i32),
        ),
        ("candid", Value::Long(c.source_id.0)),
        ("isdiffpos", Value::String(isdiffpos(c.flux).into())),
        ("ra", Value::Double(c.ra)),
        ("dec", Value::Double(c.dec)),
        ("magpsf", float(magnitude(c).0)),
        ("sigmapsf", float(magnitude(c).1)),
        ("rb", opt(c.quality.real_bogus.map(float))),
        ("drb", opt(c.quality.deep_real_bogus.map(float))),
        (
            "nbad",
            opt(c.quality.n_bad_pixels.map(|n| Value::Int(n as i32))),
        ),
        ("fwhm", opt(c.quality.fwhm.map(float))),
        ("magzpsci", opt(c.quality.zero_point.map(float))),
        (
            "ssdistnr",
            opt(ss.and_then(|m| m.distance_arcsec).map(float)),
        ),
        ("ssmagnr", opt(ss.and_then(|m| m.magnitude_v).map(float))),
        ("ssnamenr", opt(ss.map(|m| Value::String(m.name.clone())))),
    ]);
    let mut history =
        Vec::with_capacity(alert.previous_detections.len() + alert.upper_limits.len());
    for d in &alert.previous_detections {
        let (mag, err) = magnitude(d);
        history.push((
            d.mjd.0,
            record(vec![
                ("jd", Value::Double(d.mjd.to_jd())),
                ("fid", Value::Int(ztf_fid(d.band)?)),
                ("pid", Value::Long(d.source_id.0 / 1000)),
                ("diffmaglim", opt(None)),
                (
                    "programid",
                    Value::Int(d.quality.program_id.unwrap_or(1) as i32),
                ),
                ("candid", opt(Some(Value::Long(d.source_id.0)))),
                (
                    "isdiffpos",
                    opt(Some(Value::String(isdiffpos(d.flux).into()))),
                ),
                ("ra", opt(Some(Value::Double(d.ra)))),
                ("dec", opt(Some(Value::Double(d.dec)))),
                ("magpsf", opt(Some(float(mag)))),
                ("sigmapsf", opt(Some(float(err)))),
                ("rb", opt(d.quality.real_bogus.map(float))),
            ]),
        ));
    }
    for u in &alert.upper_limits {
        history.push((
            u.mjd.0,
            record(vec![
                ("jd", Value::Double(u.mjd.to_jd())),
                ("fid", Value::Int(ztf_fid(u.band)?)),
                ("pid", Value::Long(0)),
                ("diffmaglim", opt(Some(float(u.limiting_mag)))),
                ("programid", Value::Int(1)),
                ("candid", opt(None)),
                ("isdiffpos", opt(None)),
                ("ra", opt(None)),
                ("dec", opt(None)),
                ("magpsf", opt(None)),
                ("sigmapsf", opt(None)),
                ("rb", opt(None)),
            ]),
        ));
    }
    // ZTF orders prv_candidates by time.
    history.sort_by(|a, b| a.0.total_cmp(&b.0));
    let njy_per_dn = FluxNjy::from_ab_mag(ZTF_SIM_ZERO_POINT).0;
    let forced = alert
        .forced_photometry
        .iter()
        .map(|f| {
            Ok(record(vec![
                ("jd", Value::Double(f.mjd.to_jd())),
                ("fid", Value::Int(ztf_fid(f.band)?)),
                ("magzpsci", opt(Some(float(ZTF_SIM_ZERO_POINT)))),
                ("forcediffimflux", opt(Some(float(f.flux.0 / njy_per_dn)))),
                (
                    "forcediffimfluxunc",
                    opt(Some(float(f.flux_err.0 / njy_per_dn))),
                ),
                (
                    "procstatus",
                    opt(Some(Value::String(
                        f.status.clone().unwrap_or_else(|| "0".into()),
                    ))),
                ),
            ]))
        })
        .collect::<Result<Vec<_>, EncodeError>>()?;
    let cutout = |c: &Option<Cutout>| {
        opt(c.as_ref().map(|c| {
            record(vec![
                (
                    "fileName",
                    Value::String(c.file_name.clone().unwrap_or_default()),
                ),
                ("stampData", Value::Bytes(c.compressed.clone())),
            ])
        }))
    };
    let value = record(vec![
        ("schemavsn", Value::String(alert.schema_version.clone())),
        (
            "publisher",
            Value::String("DeepRubin-Explorer simulator".into()),
        ),
        (
            "objectId",
            Value::String(alert.object_id.as_str().to_owned()),
        ),
        ("candid", Value::Long(c.source_id.0)),
        ("candidate", candidate),
        (
            "prv_candidates",
            opt(Some(Value::Array(
                history.into_iter().map(|(_, v)| v).collect(),
            ))),
        ),
        (
            "fp_hists",
            opt((!forced.is_empty()).then_some(Value::Array(forced))),
        ),
        ("cutoutScience", cutout(&alert.cutouts.science)),
        ("cutoutTemplate", cutout(&alert.cutouts.template)),
        ("cutoutDifference", cutout(&alert.cutouts.difference)),
    ]);
    let mut writer = Writer::with_codec(
        schema,
        Vec::new(),
        Codec::Deflate(DeflateSettings::default()),
    )?;
    writer.append_value(value)?;
    Ok(writer.into_inner()?)
}

fn ztf_fid(band: Band) -> Result<i32, EncodeError> {
    match band {
        Band::G => Ok(1),
        Band::R => Ok(2),
        Band::I => Ok(3),
        other => Err(EncodeError::NotAZtfBand(other)),
    }
}

fn isdiffpos(flux: FluxNjy) -> &'static str {
    if flux.0 >= 0.0 { "t" } else { "f" }
}

/// The reported magnitude, or the one implied by |flux| (σ_mag = σ_f / (0.4·ln10·|f|)).
fn magnitude(d: &Detection) -> (f64, f64) {
    match d.mag {
        Some(m) => (m.mag, m.err),
        None => (
            d.flux.ab_mag().unwrap_or(99.0),
            d.flux.mag_error(d.flux_err).unwrap_or(99.0),
        ),
    }
}

fn lsst_value(alert: &Alert) -> Result<Value, EncodeError> {
    if alert.survey != Survey::Lsst {
        return Err(EncodeError::WrongSurvey(alert.survey, "Rubin"));
    }
    let object_id: i64 = alert.object_id.as_str().parse().map_err(|_| {
        EncodeError::Avro(format!(
            "Rubin object id {} is not a diaObjectId",
            alert.object_id
        ))
    })?;
    let source = |d: &Detection| {
        record(vec![
            ("diaSourceId", Value::Long(d.source_id.0)),
            ("diaObjectId", opt(Some(Value::Long(object_id)))),
            ("midpointMjdTai", Value::Double(d.mjd.0)),
            ("ra", Value::Double(d.ra)),
            ("dec", Value::Double(d.dec)),
            ("band", Value::String(d.band.as_str().into())),
            ("psfFlux", float(d.flux.0)),
            ("psfFluxErr", float(d.flux_err.0)),
            ("snr", opt(d.quality.snr.map(float))),
            ("reliability", opt(d.quality.reliability.map(float))),
        ])
    };
    let forced: Vec<Value> = alert
        .forced_photometry
        .iter()
        .enumerate()
        .map(|(i, f)| {
            record(vec![
                (
                    "diaForcedSourceId",
                    Value::Long(f.source_id.map_or(i as i64, |s| s.0)),
                ),
                ("diaObjectId", Value::Long(object_id)),
                ("midpointMjdTai", Value::Double(f.mjd.0)),
                ("band", Value::String(f.band.as_str().into())),
                ("psfFlux", opt(Some(float(f.flux.0)))),
                ("psfFluxErr", opt(Some(float(f.flux_err.0)))),
            ])
        })
        .collect();
    // diaNoise is the 1σ noise; the limit the model keeps is 5σ (see survey::lsst).
    let limits: Vec<Value> = alert
        .upper_limits
        .iter()
        .map(|u| {
            record(vec![
                ("midpointMjdTai", Value::Double(u.mjd.0)),
                ("band", Value::String(u.band.as_str().into())),
                ("diaNoise", float(u.flux_limit().0 / 5.0)),
            ])
        })
        .collect();
    let cutout = |c: &Option<Cutout>| opt(c.as_ref().map(|c| Value::Bytes(c.compressed.clone())));
    Ok(record(vec![
        ("alertId", Value::Long(alert.candidate.source_id.0)),
        ("diaSource", source(&alert.candidate)),
        (
            "prvDiaSources",
            opt(Some(Value::Array(
                alert.previous_detections.iter().map(source).collect(),
            ))),
        ),
        ("prvDiaForcedSources", opt(Some(Value::Array(forced)))),
        ("prvDiaNondetectionLimits", opt(Some(Value::Array(limits)))),
        ("cutoutDifference", cutout(&alert.cutouts.difference)),
        ("cutoutScience", cutout(&alert.cutouts.science)),
        ("cutoutTemplate", cutout(&alert.cutouts.template)),
    ]))
}

/// A Rubin alert as Kafka carries it: Confluent framing with schema id [`SIM_LSST_SCHEMA_ID`].
pub fn lsst_packet_wire(alert: &Alert) -> Result<Vec<u8>, EncodeError> {
    let body = apache_avro::writer::datum::GenericDatumWriter::builder(lsst_schema()?)
        .build()?
        .write_value_to_vec(lsst_value(alert)?)?;
    Ok(WireMessage::encode(SIM_LSST_SCHEMA_ID, &body))
}

/// A Rubin alert in an Avro container file (deflate).
pub fn lsst_packet_container(alert: &Alert) -> Result<Vec<u8>, EncodeError> {
    let mut writer = Writer::with_codec(
        lsst_schema()?,
        Vec::new(),
        Codec::Deflate(DeflateSettings::default()),
    )?;
    writer.append_value(lsst_value(alert)?)?;
    Ok(writer.into_inner()?)
}

/// The packet a survey's stream would carry for this alert.
pub fn survey_packet(alert: &Alert) -> Result<Vec<u8>, EncodeError> {
    match alert.survey {
        Survey::Ztf => ztf_packet(alert),
        Survey::Lsst => lsst_packet_wire(alert),
    }
}
