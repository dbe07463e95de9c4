//! `deeprubin inspect`: decode alert files and print one JSON line per alert.

use std::io::Write;
use std::process::ExitCode;

use alert_model::{Alert, Validation};
use serde::Serialize;

use super::schemas;
use crate::cli::InspectArgs;

/// What `inspect` prints for one alert: its triggering detection and the size of its history.
#[derive(Debug, Serialize)]
struct AlertLine<'a> {
    survey: &'a str,
    object_id: &'a str,
    source_id: i64,
    ra: f64,
    dec: f64,
    mjd: f64,
    band: &'a str,
    flux_njy: f64,
    flux_err_njy: f64,
    /// The survey's magnitude where it reports one, else the AB magnitude of a positive flux.
    mag: Option<f64>,
    n_detections: usize,
    n_forced_photometry: usize,
    n_upper_limits: usize,
    schema_version: &'a str,
    file: String,
}

impl<'a> AlertLine<'a> {
    fn new(alert: &'a Alert, file: String) -> Self {
        let c = &alert.candidate;
        AlertLine {
            survey: alert.survey.as_str(),
            object_id: alert.object_id.as_str(),
            source_id: c.source_id.0,
            ra: c.ra,
            dec: c.dec,
            mjd: c.mjd.0,
            band: c.band.as_str(),
            flux_njy: c.flux.0,
            flux_err_njy: c.flux_err.0,
            mag: c
                .mag
                .map(|m| m.mag)
                .or_else(|| (c.flux.0 > 0.0).then(|| c.flux.ab_mag()).flatten()),
            n_detections: alert.n_detections(),
            n_forced_photometry: alert.forced_photometry.len(),
            n_upper_limits: alert.upper_limits.len(),
            schema_version: &alert.schema_version,
            file,
        }
    }
}

pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    match inspect(args) {
        // `deeprubin inspect … | head`: the reader has what it wanted.
        Err(e) if is_broken_pipe(&e) => Ok(ExitCode::SUCCESS),
        other => other,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    let kind = e
        .downcast_ref::<std::io::Error>()
        .map(std::io::Error::kind)
        .or_else(|| {
            e.downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
        });
    kind == Some(std::io::ErrorKind::BrokenPipe)
}

fn inspect(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let validation = if args.permissive {
        Validation::Permissive
    } else {
        Validation::Strict
    };
    let decoder = schemas::decoder(&args.schemas)?.with_validation(validation);
    let files = schemas::alert_files(&args.paths)?;
    anyhow::ensure!(!files.is_empty(), "no alert files found");
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failures = 0usize;
    for path in &files {
        match schemas::decode_file(path, |bytes| decoder.decode(bytes)) {
            Ok(alerts) => {
                for alert in &alerts {
                    let line = AlertLine::new(alert, path.display().to_string());
                    serde_json::to_writer(&mut out, &line)?;
                    out.write_all(b"\n")?;
                }
            }
            Err(message) => {
                failures += 1;
                out.flush()?;
                eprintln!("error: {message}");
                if !args.continue_on_error {
                    break;
                }
            }
        }
    }
    out.flush()?;
    if failures > 0 {
        eprintln!("{failures} of {} files failed to decode", files.len());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
