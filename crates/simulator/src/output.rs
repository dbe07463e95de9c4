//! CSV output for training: `lightcurves.csv` (detections), `upper_limits.csv` (non-detections)
//! and `labels.csv`.

use std::path::{Path, PathBuf};

use crate::SimulatedObject;

/// Header of `lightcurves.csv` (fluxes and errors in nJy): the contract with the classifier.
pub const LIGHTCURVES_HEADER: [&str; 5] = ["object_id", "mjd", "band", "flux", "flux_err"];
/// Header of `upper_limits.csv` (5σ limiting magnitude, AB).
pub const UPPER_LIMITS_HEADER: [&str; 4] = ["object_id", "mjd", "band", "limiting_mag"];
/// Header of `labels.csv` (class names as [`crate::Class::name`]).
pub const LABELS_HEADER: [&str; 2] = ["object_id", "class"];

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot create output directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("object {0}")]
    InvalidId(#[from] alert_model::InvalidObjectId),
    #[error("cannot encode alert {source_id} of {object_id}: {source}")]
    Encode {
        object_id: String,
        source_id: i64,
        source: alert_model::encode::EncodeError,
    },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Paths of the files [`write_csv`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvPaths {
    pub lightcurves: PathBuf,
    pub upper_limits: PathBuf,
    pub labels: PathBuf,
}

/// Writes `lightcurves.csv` (detections only: `object_id,mjd,band,flux,flux_err`, nJy),
/// `upper_limits.csv` (non-detections: `object_id,mjd,band,limiting_mag`) and `labels.csv`
/// (`object_id,class`) into `dir`, creating it if needed.
pub fn write_csv(dir: &Path, objects: &[SimulatedObject]) -> Result<CsvPaths, OutputError> {
    std::fs::create_dir_all(dir).map_err(|source| OutputError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let paths = CsvPaths {
        lightcurves: dir.join("lightcurves.csv"),
        upper_limits: dir.join("upper_limits.csv"),
        labels: dir.join("labels.csv"),
    };
    write_table(&paths.lightcurves, &LIGHTCURVES_HEADER, |w| {
        for o in objects {
            for p in o.detections() {
                w.write_record([
                    o.object_id.as_str(),
                    &format!("{:.6}", p.mjd),
                    p.band.as_str(),
                    &format!("{:.3}", p.flux_njy),
                    &format!("{:.3}", p.flux_err_njy),
                ])?;
            }
        }
        Ok(())
    })?;
    write_table(&paths.upper_limits, &UPPER_LIMITS_HEADER, |w| {
        for o in objects {
            for p in o.observations.iter().filter(|p| !p.detected) {
                w.write_record([
                    o.object_id.as_str(),
                    &format!("{:.6}", p.mjd),
                    p.band.as_str(),
                    &format!("{:.3}", p.limiting_mag),
                ])?;
            }
        }
        Ok(())
    })?;
    write_table(&paths.labels, &LABELS_HEADER, |w| {
        for o in objects {
            w.write_record([o.object_id.as_str(), o.class.name()])?;
        }
        Ok(())
    })?;
    Ok(paths)
}

/// Writes one packet per alert of every object into `dir` (created if needed), as the survey's
/// stream carries it ([`alert_model::encode::survey_packet`]): ZTF alerts as Avro container files,
/// Rubin alerts Confluent-framed with the simulated schema id
/// ([`alert_model::encode::SIM_LSST_SCHEMA_ID`]). Files are named `<candid>.avro` (ZTF) or
/// `<diaSourceId>.avro` (Rubin), like the real packet archives. Returns the paths in order.
pub fn write_packets(dir: &Path, objects: &[SimulatedObject]) -> Result<Vec<PathBuf>, OutputError> {
    std::fs::create_dir_all(dir).map_err(|source| OutputError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths = Vec::new();
    for object in objects {
        for alert in crate::alerts_for(object)? {
            let source_id = alert.source_id().0;
            let bytes = alert_model::encode::survey_packet(&alert).map_err(|source| {
                OutputError::Encode {
                    object_id: object.object_id.clone(),
                    source_id,
                    source,
                }
            })?;
            let path = dir.join(format!("{source_id}.avro"));
            std::fs::write(&path, bytes).map_err(|source| OutputError::Io {
                path: path.clone(),
                source,
            })?;
            paths.push(path);
        }
    }
    Ok(paths)
}

fn write_table(
    path: &Path,
    header: &[&str],
    rows: impl FnOnce(&mut csv::Writer<std::fs::File>) -> Result<(), csv::Error>,
) -> Result<(), OutputError> {
    let csv_err = |source| OutputError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut w = csv::Writer::from_path(path).map_err(csv_err)?;
    w.write_record(header).map_err(csv_err)?;
    rows(&mut w).map_err(csv_err)?;
    w.flush().map_err(|source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    })
}
