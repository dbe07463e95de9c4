//! Building an [`AlertDecoder`] from the schema options, and finding alert files.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use alert_model::schema_source::{
    FallbackSources, SchemaDirectory, SchemaRegistry, WriterSchemaSource,
};
use alert_model::{AlertDecoder, DecodeError, Origin};

use crate::cli::SchemaArgs;

pub fn decoder(args: &SchemaArgs) -> anyhow::Result<AlertDecoder> {
    let mut sources: Vec<Box<dyn WriterSchemaSource>> = Vec::new();
    if let Some(url) = &args.schema_registry {
        let timeout = Duration::try_from_secs_f64(args.schema_registry_timeout)
            .map_err(|e| anyhow::anyhow!("--schema-registry-timeout: {e}"))?;
        sources.push(Box::new(SchemaRegistry::new(url.clone(), timeout)));
    }
    if let Some(dir) = &args.schema_dir {
        anyhow::ensure!(
            dir.is_dir(),
            "--schema-dir {} is not a directory",
            dir.display()
        );
        sources.push(Box::new(SchemaDirectory::new(dir.clone())));
    }
    let decoder = AlertDecoder::new();
    Ok(match sources.len() {
        0 => decoder,
        _ => decoder.with_schema_source(Arc::new(FallbackSources(sources))),
    })
}

/// Reads one alert file and decodes it with `decode`; the error names the file and the reason.
pub fn decode_file<T>(
    path: &Path,
    decode: impl FnOnce(&[u8]) -> Result<T, DecodeError>,
) -> Result<T, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    decode(&bytes).map_err(|e| e.at(Origin::File(path.to_path_buf())).to_string())
}

/// Files named on the command line, and every `*.avro` below named directories, in sorted order.
pub fn alert_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect(path, &mut out)?;
        } else if path.exists() {
            out.push(path.clone());
        } else {
            anyhow::bail!("{} does not exist", path.display());
        }
    }
    Ok(out)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "avro") {
            out.push(path);
        }
    }
    Ok(())
}
