//! Backfill from files: the `deeprubin ingest-files` path.

use std::path::{Path, PathBuf};

use alert_model::{Alert, AlertDecoder};
use serde::Serialize;

use crate::{StateStore, StoreError};

/// Alerts written per transaction.
pub const INGEST_BATCH: usize = 500;
/// How many failures the summary keeps verbatim (the count covers all of them).
const MAX_FAILURES_KEPT: usize = 20;

/// What a backfill did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IngestSummary {
    /// Files read and decoded.
    pub files: u64,
    pub alerts: u64,
    pub new_detections: u64,
    pub new_forced_photometry: u64,
    pub new_upper_limits: u64,
    /// Alerts that brought nothing new (replays of stored alerts).
    pub duplicates: u64,
    /// Paths that could not be read or decoded.
    pub errors: u64,
    /// The first few failures, path and reason.
    pub failures: Vec<IngestFailure>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestFailure {
    pub path: PathBuf,
    pub reason: String,
}

/// Reported after each file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestProgress {
    pub files_done: usize,
    pub files_total: usize,
    pub alerts: u64,
}

impl IngestSummary {
    fn fail(&mut self, path: &Path, reason: String) {
        self.errors += 1;
        if self.failures.len() < MAX_FAILURES_KEPT {
            self.failures.push(IngestFailure {
                path: path.to_owned(),
                reason,
            });
        }
    }
}

/// Decodes every file (directories: every `*.avro` below them, recursively, in name order) and
/// stores the alerts in batches of [`INGEST_BATCH`]. Unreadable or undecodable files are counted
/// in `errors` and skipped; a store error stops the backfill and is returned, since every later
/// batch would fail the same way. Re-running over the same files stores nothing new.
pub async fn ingest_files(
    store: &dyn StateStore,
    paths: &[PathBuf],
    decoder: &AlertDecoder,
    progress: &mut (dyn FnMut(&IngestProgress) + Send),
) -> Result<IngestSummary, StoreError> {
    let mut summary = IngestSummary::default();
    let mut files = Vec::new();
    for path in paths {
        if let Err(reason) = collect_avro_files(path, &mut files) {
            summary.fail(path, reason);
        }
    }
    let mut batch: Vec<Alert> = Vec::with_capacity(INGEST_BATCH);
    for (done, file) in files.iter().enumerate() {
        // Files are small (one alert, or a few hundred): blocking reads keep this simple.
        match std::fs::read(file) {
            Err(e) => summary.fail(file, format!("read: {e}")),
            Ok(bytes) => match decoder.decode(&bytes) {
                Err(e) => summary.fail(file, format!("decode: {e}")),
                Ok(alerts) => {
                    summary.files += 1;
                    batch.extend(alerts);
                }
            },
        }
        if batch.len() >= INGEST_BATCH {
            store_batch(store, &mut batch, &mut summary).await?;
        }
        progress(&IngestProgress {
            files_done: done + 1,
            files_total: files.len(),
            alerts: summary.alerts + batch.len() as u64,
        });
    }
    store_batch(store, &mut batch, &mut summary).await?;
    Ok(summary)
}

async fn store_batch(
    store: &dyn StateStore,
    batch: &mut Vec<Alert>,
    summary: &mut IngestSummary,
) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    for outcome in store.upsert_alerts(batch).await? {
        summary.alerts += 1;
        summary.new_detections += u64::from(outcome.new_detections);
        summary.new_forced_photometry += u64::from(outcome.new_forced_photometry);
        summary.new_upper_limits += u64::from(outcome.new_upper_limits);
        summary.duplicates += u64::from(outcome.nothing_new);
    }
    batch.clear();
    Ok(())
}

/// A file is taken whatever its name; a directory contributes its `*.avro` files.
fn collect_avro_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_dir() {
        out.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_avro_files(&entry, out)?;
        } else if entry
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("avro"))
        {
            out.push(entry);
        }
    }
    Ok(())
}
