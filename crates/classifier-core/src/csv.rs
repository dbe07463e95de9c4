//! CSV input: `object_id,mjd,band,flux,flux_err` (nJy) and/or `mag,mag_err` (AB), and `labels.csv`
//! (`object_id,class`). Extra columns are ignored; when both flux and magnitude are present the flux
//! wins. A magnitude cannot carry the sign of a difference flux: an optional `isdiffpos` column
//! (ZTF alert schema: `t`/`1` when the science image is brighter than the reference, `f`/`0` when
//! fainter) gives it, so a negative difference read from `mag` comes back negative. A row whose
//! flux and magnitude are both empty (a non-detection exported without a value) carries nothing to
//! classify: it is left out and its line reported; any other bad row is an error.
//!
//! Broker exports can be read as they are: each column is also found under its name in the alert
//! schemas (ZTF Avro `candidate` and ALeRCE detections: `oid`/`objectId`, `jd`, `fid`, `magpsf`,
//! `sigmapsf`; Rubin `DiaSource`: `diaObjectId`, `midpointMjdTai`, `psfFlux`, `psfFluxErr`), and
//! Fink's `i:` prefix is dropped. The project's own names win where both are present. The CSV
//! of the API's `GET /objects/{oid}/lightcurve` (`kind,mjd,band,flux_njy,flux_err_njy,mag_ab,…`)
//! reads too: its upper limits (`kind = upper_limit`) are not measurements and are left out, and a
//! file without an object id column is one object, named after the file.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use alert_model::{Band, FluxNjy, Survey};

use crate::lightcurve::{DETECTION_SNR, LightCurve, Point};

/// 0.4·ln(10): σ_f = 0.4·ln10·f·σ_m (first-order propagation of a magnitude error).
const MAG_TO_FRACTIONAL_FLUX: f64 = 0.4 * std::f64::consts::LN_10;

#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("CSV error at {context}: {source}")]
    Csv { context: String, source: csv::Error },
    #[error("missing column {:?} (accepted names: {})", .0[0], .0.join(", "))]
    MissingColumn(&'static [&'static str]),
    #[error("the file has neither flux,flux_err nor mag,mag_err columns")]
    NoPhotometry,
    #[error("line {line}: {message}")]
    Row { line: u64, message: String },
}

/// Light curves read from a CSV file, and the rows left out.
#[derive(Debug, Clone, Default)]
pub struct ParsedLightCurves {
    pub curves: Vec<LightCurve>,
    /// Line numbers of the rows with neither a flux nor a magnitude.
    pub rows_without_photometry: Vec<u64>,
    /// Upper limits (`kind = upper_limit` rows) left out.
    pub upper_limits: usize,
    /// The object id given to every row of a file without an object id column.
    pub object_id_from_file_name: Option<String>,
}

impl ParsedLightCurves {
    /// One line for a log or stderr about the rows left out, if any.
    pub fn skipped_summary(&self) -> Option<String> {
        let lines = &self.rows_without_photometry;
        if lines.is_empty() {
            return None;
        }
        let shown: Vec<String> = lines.iter().take(5).map(u64::to_string).collect();
        let more = if lines.len() > 5 { ", …" } else { "" };
        Some(format!(
            "{} row(s) without flux or magnitude left out (line{} {}{more})",
            lines.len(),
            if lines.len() > 1 { "s" } else { "" },
            shown.join(", ")
        ))
    }
}

/// Reads light curves from a CSV file. `survey`: the survey of every object, or `None` to infer
/// it per object (any u, z or y point: Rubin; otherwise ZTF).
pub fn read_light_curves(
    path: &Path,
    survey: Option<Survey>,
) -> Result<ParsedLightCurves, CsvError> {
    let file = std::fs::File::open(path).map_err(|source| CsvError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    parse(file, survey, stem.as_deref())
}

/// [`read_light_curves`] from any reader. Objects come back in order of first appearance.
pub fn parse_light_curves<R: Read>(
    reader: R,
    survey: Option<Survey>,
) -> Result<ParsedLightCurves, CsvError> {
    parse(reader, survey, None)
}

/// `file_object_id`: the id of a file without an object id column (none: such a file is an error).
fn parse<R: Read>(
    reader: R,
    survey: Option<Survey>,
    file_object_id: Option<&str>,
) -> Result<ParsedLightCurves, CsvError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(reader);
    let headers = rdr
        .headers()
        .map_err(|source| CsvError::Csv {
            context: "header".into(),
            source,
        })?
        .clone();
    let col = |names: &[&str]| column(&headers, names);
    let id_col = match (col(OBJECT_ID), file_object_id) {
        (Some(c), _) => Some(c),
        (None, Some(_)) => None,
        (None, None) => return Err(CsvError::MissingColumn(OBJECT_ID)),
    };
    let kind_col = col(KIND);
    let time_col = match (col(MJD), col(JD)) {
        (Some(c), _) => TimeColumn::Mjd(c),
        (None, Some(c)) => TimeColumn::Jd(c),
        (None, None) => return Err(CsvError::MissingColumn(TIME)),
    };
    let band_col = match (col(BAND), col(ZTF_FID)) {
        (Some(c), _) => BandColumn::Name(c),
        (None, Some(c)) => BandColumn::ZtfFid(c),
        (None, None) => return Err(CsvError::MissingColumn(BAND_OR_FID)),
    };
    let flux_cols = col(FLUX).zip(col(FLUX_ERR));
    let mag_cols = col(MAG).zip(col(MAG_ERR));
    let sign_col = col(ISDIFFPOS);
    if flux_cols.is_none() && mag_cols.is_none() {
        return Err(CsvError::NoPhotometry);
    }

    let mut order: Vec<String> = Vec::new();
    let mut points: HashMap<String, Vec<Point>> = HashMap::new();
    let mut rows_without_photometry = Vec::new();
    let mut upper_limits = 0;
    for record in rdr.records() {
        let record = record.map_err(|source| CsvError::Csv {
            context: "record".into(),
            source,
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let row_err = |message: String| CsvError::Row { line, message };
        if record.len() < headers.len() {
            return Err(row_err(format!(
                "{} fields where the header has {}",
                record.len(),
                headers.len()
            )));
        }
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let number = |i: usize, what: &str| -> Result<Option<f64>, CsvError> {
            let s = field(i);
            if s.is_empty() || s.eq_ignore_ascii_case("nan") || s.eq_ignore_ascii_case("null") {
                return Ok(None);
            }
            s.parse::<f64>()
                .map(Some)
                .map_err(|_| row_err(format!("{what} {s:?} is not a number")))
        };
        if kind_col.is_some_and(|c| field(c).eq_ignore_ascii_case(UPPER_LIMIT)) {
            upper_limits += 1;
            continue;
        }
        let id = match (id_col, file_object_id) {
            (Some(c), _) => field(c),
            (None, id) => id.unwrap_or_default(),
        };
        if id.is_empty() {
            return Err(row_err("empty object_id".into()));
        }
        let mjd = match time_col {
            TimeColumn::Mjd(c) => number(c, "mjd")?.ok_or_else(|| row_err("missing mjd".into()))?,
            TimeColumn::Jd(c) => {
                number(c, "jd")?.ok_or_else(|| row_err("missing jd".into()))? - MJD_ZERO_POINT_JD
            }
        };
        let band = match band_col {
            BandColumn::Name(c) => {
                let name = field(c);
                Band::parse(name).ok_or_else(|| row_err(format!("unknown band {name:?}")))?
            }
            BandColumn::ZtfFid(c) => {
                let fid = field(c);
                fid.parse::<i64>()
                    .ok()
                    .and_then(Band::from_ztf_fid)
                    .ok_or_else(|| row_err(format!("fid {fid:?} is not a ZTF filter (1, 2, 3)")))?
            }
        };
        let from_flux = match flux_cols {
            Some((f, e)) => number(f, "flux")?.zip(number(e, "flux_err")?),
            None => None,
        };
        let negative = match sign_col.map(field) {
            None | Some("") => false,
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "t" | "true" | "1" | "+" => false,
                "f" | "false" | "0" | "-" | "-1" => true,
                _ => return Err(row_err(format!("isdiffpos {v:?} is not t/f or 1/0"))),
            },
        };
        let from_mag = match mag_cols {
            Some((m, e)) => number(m, "mag")?.zip(number(e, "mag_err")?).map(|(m, e)| {
                let f = FluxNjy::from_ab_mag(m).0;
                let sigma = MAG_TO_FRACTIONAL_FLUX * f * e;
                (if negative { -f } else { f }, sigma)
            }),
            None => None,
        };
        let Some((flux, err)) = from_flux.or(from_mag) else {
            rows_without_photometry.push(line);
            continue;
        };
        if !(flux.is_finite() && err.is_finite() && err > 0.0) {
            return Err(row_err(format!(
                "flux {flux} ± {err} is not a finite value with a positive error"
            )));
        }
        let entry = points.entry(id.to_string()).or_insert_with(|| {
            order.push(id.to_string());
            Vec::new()
        });
        entry.push(Point {
            mjd,
            band,
            flux_njy: flux,
            flux_err_njy: err,
            detected: (flux / err).abs() >= DETECTION_SNR,
        });
    }
    let curves = order
        .into_iter()
        .filter_map(|id| {
            let pts = points.remove(&id)?;
            let survey = survey.unwrap_or_else(|| infer_survey(&pts));
            Some(LightCurve::new(id, survey, pts))
        })
        .collect();
    Ok(ParsedLightCurves {
        curves,
        rows_without_photometry,
        upper_limits,
        object_id_from_file_name: match id_col {
            None => file_object_id.map(str::to_owned),
            Some(_) => None,
        },
    })
}

// Accepted names of each column, in order of preference (case-insensitive).
const OBJECT_ID: &[&str] = &["object_id", "oid", "objectId", "diaObjectId"];
const MJD: &[&str] = &["mjd", "midpointMjdTai"];
/// ZTF's `jd` (Julian date), read as MJD = JD − 2400000.5.
const JD: &[&str] = &["jd"];
const TIME: &[&str] = &["mjd", "midpointMjdTai", "jd"];
const BAND: &[&str] = &["band", "filter"];
/// ZTF filter id, 1 = g, 2 = r, 3 = i.
const ZTF_FID: &[&str] = &["fid"];
const BAND_OR_FID: &[&str] = &["band", "filter", "fid"];
const FLUX: &[&str] = &["flux", "flux_njy", "psfFlux"];
const FLUX_ERR: &[&str] = &["flux_err", "flux_err_njy", "psfFluxErr"];
const MAG: &[&str] = &["mag", "mag_ab", "magpsf"];
const MAG_ERR: &[&str] = &["mag_err", "sigmapsf"];
const ISDIFFPOS: &[&str] = &["isdiffpos"];
const CLASS: &[&str] = &["class", "classALeRCE", "label"];
/// The API's light-curve CSV: `detection`, `forced` or `upper_limit`.
const KIND: &[&str] = &["kind"];
const UPPER_LIMIT: &str = "upper_limit";

/// JD of MJD 0 (MJD = JD − 2400000.5, IAU 1973).
const MJD_ZERO_POINT_JD: f64 = 2_400_000.5;

enum TimeColumn {
    Mjd(usize),
    Jd(usize),
}

enum BandColumn {
    Name(usize),
    ZtfFid(usize),
}

/// Position of the first of `names` among the headers, ignoring case and Fink's `i:` prefix.
fn column(headers: &csv::StringRecord, names: &[&str]) -> Option<usize> {
    let bare = |h: &str| {
        let h = h.trim();
        h.strip_prefix("i:").unwrap_or(h).to_string()
    };
    names.iter().find_map(|name| {
        headers
            .iter()
            .position(|h| bare(h).eq_ignore_ascii_case(name))
    })
}

/// Rubin if any point is in u, z or y; otherwise ZTF.
fn infer_survey(points: &[Point]) -> Survey {
    if points
        .iter()
        .any(|p| matches!(p.band, Band::U | Band::Z | Band::Y))
    {
        Survey::Lsst
    } else {
        Survey::Ztf
    }
}

/// Reads `labels.csv` (`object_id,class`; also ALeRCE's `oid,classALeRCE`) as written; class names
/// are not checked here.
pub fn read_labels(path: &Path) -> Result<Vec<(String, String)>, CsvError> {
    let file = std::fs::File::open(path).map_err(|source| CsvError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_labels(file)
}

/// [`read_labels`] from any reader.
pub fn parse_labels<R: Read>(reader: R) -> Result<Vec<(String, String)>, CsvError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(reader);
    let headers = rdr
        .headers()
        .map_err(|source| CsvError::Csv {
            context: "header".into(),
            source,
        })?
        .clone();
    let id_col = column(&headers, OBJECT_ID).ok_or(CsvError::MissingColumn(OBJECT_ID))?;
    let class_col = column(&headers, CLASS).ok_or(CsvError::MissingColumn(CLASS))?;
    let mut out = Vec::new();
    for record in rdr.records() {
        let record = record.map_err(|source| CsvError::Csv {
            context: "record".into(),
            source,
        })?;
        let id = record.get(id_col).unwrap_or("").trim();
        let class = record.get(class_col).unwrap_or("").trim();
        if !id.is_empty() {
            out.push((id.to_string(), class.to_string()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_flux_columns() {
        let text = "object_id,mjd,band,flux,flux_err,extra\n\
                    A,60001.5,r,1000,50,x\nA,60000.5,g,-300,40,y\nB,60000,z,10,1,z\n";
        let lcs = parse_light_curves(text.as_bytes(), None).unwrap().curves;
        assert_eq!(lcs.len(), 2);
        assert_eq!(lcs[0].object_id, "A");
        assert_eq!(lcs[0].survey, Survey::Ztf);
        // Sorted by time.
        assert_eq!(lcs[0].points[0].band, Band::G);
        assert_eq!(lcs[0].points[0].flux_njy, -300.0);
        assert!(lcs[0].points[0].detected);
        assert_eq!(lcs[1].survey, Survey::Lsst);
    }

    #[test]
    fn reads_magnitudes() {
        // 19 mag = 91201.08 nJy; σ_f = 0.921·0.1·f.
        let text = "object_id,mjd,band,mag,mag_err\nZTF1,60000,g,19.0,0.1\n";
        let lcs = parse_light_curves(text.as_bytes(), None).unwrap().curves;
        let p = lcs[0].points[0];
        assert!((p.flux_njy - 91_201.08).abs() < 0.1);
        assert!((p.flux_err_njy / p.flux_njy - 0.092_103_4).abs() < 1e-6);
    }

    #[test]
    fn isdiffpos_signs_magnitude_rows_only() {
        let text = "object_id,mjd,band,flux,flux_err,mag,mag_err,isdiffpos\n\
                    A,60000,g,,,19.0,0.1,f\nA,60001,g,,,19.0,0.1,t\n\
                    A,60002,r,,,19.0,0.1,0\nA,60003,r,-500,10,,,t\nA,60004,r,,,19.0,0.1,\n";
        let lcs = parse_light_curves(text.as_bytes(), None).unwrap().curves;
        let flux: Vec<f64> = lcs[0].points.iter().map(|p| p.flux_njy.round()).collect();
        // A signed flux column is taken as it is; an empty isdiffpos means positive.
        assert_eq!(flux, [-91_201.0, 91_201.0, -91_201.0, -500.0, 91_201.0]);
        assert!(
            lcs[0]
                .points
                .iter()
                .all(|p| p.flux_err_njy > 0.0 && p.detected)
        );
        let bad = "object_id,mjd,band,mag,mag_err,isdiffpos\nA,60000,g,19,0.1,maybe\n";
        assert!(matches!(
            parse_light_curves(bad.as_bytes(), None),
            Err(CsvError::Row { .. })
        ));
    }

    #[test]
    fn flux_wins_over_magnitude_and_mag_fills_gaps() {
        let text = "object_id,mjd,band,flux,flux_err,mag,mag_err\n\
                    A,60000,g,500,10,19.0,0.1\nA,60001,g,,,19.0,0.1\n";
        let lcs = parse_light_curves(text.as_bytes(), None).unwrap().curves;
        assert_eq!(lcs[0].points[0].flux_njy, 500.0);
        assert!((lcs[0].points[1].flux_njy - 91_201.08).abs() < 0.1);
    }

    #[test]
    fn bad_rows_are_errors_not_panics() {
        for text in [
            "object_id,mjd,band,flux,flux_err\nA,x,g,1,1\n",
            "object_id,mjd,band,flux,flux_err\nA,1,V,1,1\n",
            "object_id,mjd,band,flux,flux_err\nA,1,g,1,-1\n",
            "object_id,mjd,band\nA,1,g\n",
            "mjd,band,flux,flux_err\n1,g,1,1\n",
            "object_id,mjd,band,flux,flux_err\nA,1,g\n",
        ] {
            assert!(parse_light_curves(text.as_bytes(), None).is_err(), "{text}");
        }
    }

    #[test]
    fn rows_without_any_photometry_are_left_out_and_reported() {
        // Line 3 is a non-detection exported without a value; B has no usable row at all.
        let text = "object_id,mjd,band,flux,flux_err,mag,mag_err\n\
                    A,60000,g,500,10,,\nA,60001,g,,,,\nA,60002,r,,,19.0,0.1\nB,60003,r,nan,,,\n";
        let parsed = parse_light_curves(text.as_bytes(), None).unwrap();
        assert_eq!(parsed.curves.len(), 1);
        assert_eq!(parsed.curves[0].points.len(), 2);
        assert_eq!(parsed.rows_without_photometry, [3, 5]);
        let summary = parsed.skipped_summary().unwrap();
        assert!(
            summary.starts_with("2 row(s) without flux or magnitude"),
            "{summary}"
        );
        let clean = "object_id,mjd,band,flux,flux_err\nA,60000,g,5,1\n";
        assert!(
            parse_light_curves(clean.as_bytes(), None)
                .unwrap()
                .skipped_summary()
                .is_none()
        );
    }

    #[test]
    fn reads_labels() {
        let labels = parse_labels("object_id,class\nA,SNIa\nB,CV/Nova\n".as_bytes()).unwrap();
        assert_eq!(labels[1], ("B".to_string(), "CV/Nova".to_string()));
        let alerce = parse_labels("oid,classALeRCE,ra\nZTF1,RRL,1.0\n".as_bytes()).unwrap();
        assert_eq!(alerce, [("ZTF1".to_string(), "RRL".to_string())]);
    }

    #[test]
    fn reads_alerce_and_fink_exports_with_jd_and_fid() {
        // ALeRCE detections: `oid, mjd, fid, magpsf, sigmapsf, isdiffpos` (±1), extra columns.
        let alerce = "oid,candid,mjd,fid,magpsf,sigmapsf,magpsf_corr,isdiffpos\n\
                      ZTF1,1,59000.25,2,19.0,0.1,15.0,-1\nZTF1,2,59001.25,1,19.0,0.1,15.0,1\n";
        let a = &parse_light_curves(alerce.as_bytes(), None).unwrap().curves[0];
        assert_eq!(a.object_id, "ZTF1");
        assert_eq!(
            a.points.iter().map(|p| p.band).collect::<Vec<_>>(),
            [Band::R, Band::G]
        );
        // The difference magnitude, not the reference-corrected one, with its sign.
        assert_eq!(a.points[0].flux_njy.round(), -91_201.0);
        assert_eq!(a.points[1].flux_njy.round(), 91_201.0);
        // Fink: `i:`-prefixed ZTF candidate fields, time as JD (MJD = JD − 2400000.5).
        let fink = "i:objectId,i:jd,i:fid,i:magpsf,i:sigmapsf,i:isdiffpos\n\
                    ZTF2,2459000.75,1,19.0,0.1,t\n";
        let f = &parse_light_curves(fink.as_bytes(), None).unwrap().curves[0];
        assert_eq!(f.object_id, "ZTF2");
        assert_eq!(f.points[0].mjd, 59_000.25);
        assert_eq!(f.points[0].band, Band::G);
        // A filter id outside ZTF's is an error naming it.
        let bad = "oid,mjd,fid,magpsf,sigmapsf\nZTF3,59000,7,19,0.1\n";
        let err = parse_light_curves(bad.as_bytes(), None).unwrap_err();
        assert!(err.to_string().contains("fid \"7\""), "{err}");
    }

    #[test]
    fn reads_the_apis_light_curve_csv_as_one_object_named_after_the_file() {
        // `GET /objects/{oid}/lightcurve?format=csv` (docs/api.md): nJy fluxes, AB magnitudes,
        // upper limits with a flux but no error, and no object id column.
        let text = "kind,mjd,band,flux_njy,flux_err_njy,mag_ab,mag_err,source_id\n\
                    upper_limit,59999.5,r,20000,,20.65,,\n\
                    detection,60000.5,g,91201.08,9120.1,19.0,0.109,11\n\
                    forced,60001.5,g,-2000,1500,,,\n";
        let dir = std::env::temp_dir().join(format!("deeprubin-api-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ZTF18adoojej.csv");
        std::fs::write(&path, text).unwrap();
        let parsed = read_light_curves(&path, None);
        std::fs::remove_dir_all(&dir).unwrap();
        let parsed = parsed.unwrap();
        assert_eq!(parsed.upper_limits, 1);
        assert!(parsed.rows_without_photometry.is_empty());
        assert_eq!(
            parsed.object_id_from_file_name.as_deref(),
            Some("ZTF18adoojej")
        );
        let curve = &parsed.curves[0];
        assert_eq!(curve.object_id, "ZTF18adoojej");
        let points: Vec<(f64, bool)> = curve
            .points
            .iter()
            .map(|p| (p.flux_njy, p.detected))
            .collect();
        assert_eq!(points, [(91_201.08, true), (-2000.0, false)]);
        // Without a file name, the object id column stays required.
        assert!(matches!(
            parse_light_curves(text.as_bytes(), None),
            Err(CsvError::MissingColumn(_))
        ));
    }

    #[test]
    fn reads_rubin_dia_sources_and_prefers_the_projects_own_names() {
        let rubin = "diaObjectId,midpointMjdTai,band,psfFlux,psfFluxErr\n\
                     170,61000.5,y,-1500,100\n";
        let r = &parse_light_curves(rubin.as_bytes(), None).unwrap().curves[0];
        assert_eq!((r.object_id.as_str(), r.survey), ("170", Survey::Lsst));
        assert_eq!((r.points[0].mjd, r.points[0].flux_njy), (61_000.5, -1500.0));
        // `mjd` wins over `jd`, `flux` over `psfFlux`.
        let both = "object_id,jd,mjd,band,psfFlux,psfFluxErr,flux,flux_err\n\
                    A,2459000.75,60000,g,1,1,500,10\n";
        let p = parse_light_curves(both.as_bytes(), None).unwrap().curves[0].points[0];
        assert_eq!((p.mjd, p.flux_njy), (60_000.0, 500.0));
        // A missing column names what would have been accepted.
        let err = parse_light_curves("object_id,band,flux,flux_err\n".as_bytes(), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("mjd, midpointMjdTai, jd"), "{err}");
    }
}
