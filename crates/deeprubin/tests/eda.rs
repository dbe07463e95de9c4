//! `deeprubin eda` as a user runs it: figures that decode, a summary that tells SN Ia from SN II.

use std::path::Path;
use std::process::Command;

fn deeprubin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_deeprubin"))
}

const FIGURES: [&str; 4] = [
    "lightcurves_r.png",
    "rise_decline_hist.png",
    "colour_phase.png",
    "rise_vs_decline.png",
];

/// The PNG signature and a plausible IHDR: width and height of a figure.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.len() > 2_000,
        "{} is only {} bytes",
        path.display(),
        bytes.len()
    );
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    assert_eq!(&bytes[12..16], b"IHDR", "{}", path.display());
    let be =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    assert_eq!(
        &bytes[bytes.len() - 8..bytes.len() - 4],
        b"IEND",
        "{}",
        path.display()
    );
    (be(16), be(20))
}

fn median(summary: &serde_json::Value, class: &str, stat: &str) -> f64 {
    summary["classes"][class]["stats"][stat]["median"]
        .as_f64()
        .unwrap_or_else(|| panic!("no median of {stat} for {class}: {summary:#}"))
}

#[test]
fn simulated_sn_ia_decline_faster_than_sn_ii_and_the_figures_decode() {
    let dir = tempfile::tempdir().unwrap();
    let out = deeprubin()
        .args(["eda", "--objects-per-class", "40", "--seed", "3", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for name in FIGURES {
        let (w, h) = png_size(&dir.path().join(name));
        assert!(w >= 400 && h >= 300, "{name}: {w}x{h}");
    }
    let csv = std::fs::read_to_string(dir.path().join("measurements.csv")).unwrap();
    assert!(csv.starts_with("object_id,class,detections,rise_days,decline_days"));
    assert_eq!(csv.lines().count(), 1 + 80);

    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["frame"], "rest");
    assert_eq!(summary["survey"], "ztf");
    for class in ["SNIa", "SNII"] {
        let c = &summary["classes"][class];
        assert_eq!(c["objects"], 40, "{summary:#}");
        let used = c["stats"]["decline_days_g"]["n"].as_u64().unwrap();
        assert!(used >= 5, "{class}: only {used} decline times: {summary:#}");
    }
    // In g, SN Ia fade to half their peak within about two weeks; SN II take weeks longer. (In
    // the simulator's r band the two overlap: docs/eda.md.)
    let (ia, ii) = (
        median(&summary, "SNIa", "decline_days_g"),
        median(&summary, "SNII", "decline_days_g"),
    );
    assert!(
        ia < ii,
        "SN Ia g decline {ia} d is not shorter than SN II's {ii} d"
    );
    assert!((5.0..25.0).contains(&ia), "SN Ia g decline {ia} d");
    // And fade by more in g over the 15 days after peak (Δm15, Phillips 1993). r is not
    // compared: the simulated SN II r band brightens through the plateau (docs/eda.md).
    let (ia, ii) = (
        median(&summary, "SNIa", "dm15_g"),
        median(&summary, "SNII", "dm15_g"),
    );
    assert!(ia > ii, "SN Ia Δm15(g) {ia} is not above SN II's {ii}");
}

#[test]
fn a_labelled_csv_set_is_measured_in_the_observer_frame() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let status = deeprubin()
        .args([
            "simulate",
            "--no-packets",
            "--objects-per-class",
            "12",
            "--class",
            "SNIa",
            "--class",
            "SNII",
            "--out",
        ])
        .arg(&data)
        .status()
        .unwrap();
    assert!(status.success());
    let figures = dir.path().join("eda");
    let out = deeprubin()
        .arg("eda")
        .arg("--lightcurves")
        .arg(data.join("lightcurves.csv"))
        .arg("--labels")
        .arg(data.join("labels.csv"))
        .arg("--out")
        .arg(&figures)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(figures.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["frame"], "observer");
    assert_eq!(summary["classes"]["SNIa"]["objects"], 12);
    for name in FIGURES {
        png_size(&figures.join(name));
    }
}

#[test]
fn an_unknown_class_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = deeprubin()
        .args(["eda", "--class", "NotAClass", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NotAClass"));
}
