//! Locating the shared real alert data (`../shared/data` beside the repository).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The shared data folder, or `None` (the caller skips, saying so) when it is absent.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("DEEPRUBIN_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: shared alert data not found at {} (set DEEPRUBIN_SHARED_DATA)",
            dir.display()
        );
        None
    }
}

/// Every `*.avro` file under `dir`, sorted.
pub fn avro_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "avro") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
