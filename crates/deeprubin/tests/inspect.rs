//! `deeprubin inspect` as a user runs it.

use std::process::Command;

use test_support::shared_data;

fn deeprubin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_deeprubin"))
}

#[test]
fn prints_one_json_line_per_alert_with_the_documented_fields() {
    let Some(data) = shared_data() else { return };
    let out = deeprubin()
        .arg("inspect")
        .arg("--schema-dir")
        .arg(data.join("lsst/schemas"))
        .arg(data.join("ztf/alerts/boom-astro__boom"))
        .arg(data.join("lsst/wire"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 12 + 6);
    for line in &lines {
        for key in [
            "survey",
            "object_id",
            "source_id",
            "ra",
            "dec",
            "mjd",
            "band",
            "flux_njy",
            "flux_err_njy",
            "mag",
            "n_detections",
            "n_forced_photometry",
            "n_upper_limits",
            "schema_version",
        ] {
            assert!(line.get(key).is_some(), "{key} missing in {line}");
        }
    }
    assert_eq!(lines.iter().filter(|l| l["survey"] == "ztf").count(), 12);
    assert_eq!(lines.iter().filter(|l| l["survey"] == "lsst").count(), 6);
}

#[test]
fn failed_files_give_one_line_each_and_a_non_zero_exit() {
    let Some(data) = shared_data() else { return };
    let out = deeprubin()
        .args(["inspect", "--continue-on-error"])
        .arg(data.join("ztf/malformed"))
        .arg(data.join("ztf/alerts/boom-astro__boom"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 12, "{stderr}");
    assert!(errors.iter().all(|l| l.contains("ztf/malformed/")));
    // The good files after the bad ones were still decoded.
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 12);
}

#[test]
fn a_missing_path_is_a_clear_error() {
    let out = deeprubin()
        .args(["inspect", "/nonexistent/alerts"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/alerts does not exist"));
}
