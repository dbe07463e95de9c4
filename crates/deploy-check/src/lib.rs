//! Helpers of the deployment checks in `tests/`: the repository root, the metric names the code
//! exports, and the metric names a PromQL-bearing file refers to. No runtime code depends on this
//! crate; it exists so `cargo test --workspace` keeps `deploy/` honest.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Suffixes Prometheus adds to a histogram's series.
pub const HISTOGRAM_SUFFIXES: [&str; 3] = ["_bucket", "_sum", "_count"];

/// The workspace root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/deploy-check lies two levels below the root")
        .to_path_buf()
}

/// Every `.rs` file under `dir`, recursively, sorted.
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
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
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `deeprubin_…` identifiers in `text` (lowercase letters, digits and underscores after the
/// prefix), in order of first appearance, without duplicates.
pub fn metric_tokens(text: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let prefix = b"deeprubin_";
    let mut i = 0;
    while i + prefix.len() <= bytes.len() {
        let boundary = i == 0 || !is_ident(bytes[i - 1]);
        if boundary && &bytes[i..i + prefix.len()] == prefix {
            let mut j = i + prefix.len();
            while j < bytes.len() && is_ident(bytes[j]) {
                j += 1;
            }
            let token = &text[i..j];
            if j > i + prefix.len() && seen.insert(token.to_owned()) {
                out.push(token.to_owned());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'
}

/// Metric names the code registers: every string literal that is exactly `"deeprubin_…"` in
/// `crates/*/src/**/*.rs` (this crate excluded), plus the histogram suffixes of each.
pub fn exported_metrics(root: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let Ok(crates) = std::fs::read_dir(root.join("crates")) else {
        return names;
    };
    for krate in crates.flatten() {
        if krate.file_name() == "deploy-check" {
            continue;
        }
        for file in rust_files(&krate.path().join("src")) {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            names.extend(quoted_metric_names(&text));
        }
    }
    let bases: Vec<String> = names.iter().cloned().collect();
    for base in bases {
        for suffix in HISTOGRAM_SUFFIXES {
            names.insert(format!("{base}{suffix}"));
        }
    }
    names
}

/// `deeprubin_…` names written as a whole string literal: a quote right before and right after
/// (so `"deeprubin_stream_{}"` and prose in comments do not count).
fn quoted_metric_names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices("\"deeprubin_") {
        let start = at + 1;
        let mut end = start + "deeprubin_".len();
        while end < bytes.len() && is_ident(bytes[end]) {
            end += 1;
        }
        if end > start + "deeprubin_".len() && bytes.get(end) == Some(&b'"') {
            out.push(text[start..end].to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_stop_at_non_identifier_characters() {
        let t = metric_tokens(
            "rate(deeprubin_a_total[5m]) / x_deeprubin_b + deeprubin_c_bucket{le=\"1\"} deeprubin_a_total",
        );
        assert_eq!(t, ["deeprubin_a_total", "deeprubin_c_bucket"]);
    }

    #[test]
    fn only_whole_literals_are_metric_names() {
        let names = quoted_metric_names(
            r#"x('"', "deeprubin_a", "deeprubin_{}", "deeprubin_b_total") // deeprubin_c"#,
        );
        assert_eq!(names, ["deeprubin_a", "deeprubin_b_total"]);
    }
}
