//! `deeprubin classify` and `deeprubin evaluate` as a user runs them: from any working directory,
//! on the shipped model, with the CSV columns the README documents.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const CLASSES: usize = 15;

fn deeprubin(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_deeprubin"));
    // Outside the repository, so the shipped model has to be found without `--model`.
    cmd.current_dir(cwd).env_remove("DEEPRUBIN_MODEL_DIR");
    cmd
}

/// A rising transient in magnitudes (with isdiffpos) and a variable in signed nJy fluxes.
fn write_curves(dir: &Path) -> std::path::PathBuf {
    let mut csv = String::from("object_id,mjd,band,flux,flux_err,mag,mag_err,isdiffpos\n");
    for (i, mag) in [19.8, 19.2, 18.8, 18.6, 18.7, 19.0].iter().enumerate() {
        let band = if i % 2 == 0 { "g" } else { "r" };
        let mjd = 60_000.0 + 2.0 * i as f64;
        csv.push_str(&format!("ZTF26rise,{mjd},{band},,,{mag},0.05,t\n"));
    }
    // A non-detection exported without a value: left out with a warning, not an error.
    csv.push_str("ZTF26rise,60013,r,,,,,\n");
    for i in 0..12 {
        let band = if i % 2 == 0 { "zg" } else { "zr" };
        let mjd = 60_000.0 + 1.7 * i as f64;
        let flux = 4_000.0 * (i as f64 * 1.3).sin();
        csv.push_str(&format!("ZTF26vary,{mjd},{band},{flux},150,,,\n"));
    }
    let path = dir.join("curves.csv");
    std::fs::write(&path, csv).expect("write the CSV");
    path
}

fn predictions(out: &std::process::Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

/// A JSON object of numbers by name (empty when it is not one).
fn named_numbers(value: &serde_json::Value) -> BTreeMap<String, f64> {
    value
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn classify_with_the_shipped_model_from_any_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = write_curves(dir.path());
    let out = deeprubin(dir.path())
        .args(["classify", "--mc-samples", "0", "--lightcurves"])
        .arg(&csv)
        .output()
        .expect("run deeprubin");
    let lines = predictions(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 row(s) without flux or magnitude left out (line 8)"),
        "{stderr}"
    );
    let ids: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["object_id"].as_str())
        .collect();
    assert_eq!(ids, ["ZTF26rise", "ZTF26vary"]);
    for line in &lines {
        let probabilities = named_numbers(&line["probabilities"]);
        assert_eq!(probabilities.len(), CLASSES, "{line}");
        assert!(
            (probabilities.values().sum::<f64>() - 1.0).abs() < 1e-3,
            "{line}"
        );
        // The named class is the most probable one, and `probability` is its probability.
        let (best, p_best) = probabilities
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .expect("15 classes");
        assert_eq!(line["class"].as_str(), Some(best.as_str()), "{line}");
        let probability = line["probability"].as_f64().expect("probability");
        assert!((probability - p_best).abs() < 1e-6, "{line}");
        let top = named_numbers(&line["top_level"]);
        let names: Vec<&str> = top.keys().map(String::as_str).collect();
        assert_eq!(names, ["Periodic", "Stochastic", "Transient"], "{line}");
        assert!((top.values().sum::<f64>() - 1.0).abs() < 1e-3, "{line}");
        let top_class = line["top_level_class"].as_str().expect("top_level_class");
        assert!(top.contains_key(top_class), "{line}");
        let anomaly = line["anomaly_score"].as_f64().expect("anomaly_score");
        assert!((0.0..=1.0).contains(&anomaly), "{line}");
        assert!(line["uncertainty"].as_f64().is_some(), "{line}");
    }

    // The positional form reads the same file to the same (deterministic) answer.
    let positional = deeprubin(dir.path())
        .args(["classify", "--mc-samples", "0"])
        .arg(&csv)
        .output()
        .expect("run deeprubin");
    assert_eq!(predictions(&positional), lines);
}

#[test]
fn a_fink_export_classifies_as_the_same_curve_in_the_documented_columns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let documented = dir.path().join("documented.csv");
    let fink = dir.path().join("fink.csv");
    let mut documented_csv = String::from("object_id,mjd,band,mag,mag_err,isdiffpos\n");
    let mut fink_csv = String::from("i:objectId,i:jd,i:fid,i:magpsf,i:sigmapsf,i:isdiffpos\n");
    for (i, mag) in [19.8, 19.2, 18.8, 18.6, 18.7, 19.0].iter().enumerate() {
        let (band, fid) = if i % 2 == 0 { ("g", 1) } else { ("r", 2) };
        let mjd = 60_000.0 + 2.0 * i as f64;
        // MJD = JD − 2400000.5; these sums are exact in binary.
        let jd = mjd + 2_400_000.5;
        let sign = if i == 5 { "f" } else { "t" };
        documented_csv.push_str(&format!("ZTF26rise,{mjd},{band},{mag},0.05,{sign}\n"));
        fink_csv.push_str(&format!("ZTF26rise,{jd},{fid},{mag},0.05,{sign}\n"));
    }
    std::fs::write(&documented, documented_csv).expect("write");
    std::fs::write(&fink, fink_csv).expect("write");
    let classify = |csv: &Path| {
        predictions(
            &deeprubin(dir.path())
                .args(["classify", "--mc-samples", "0"])
                .arg(csv)
                .output()
                .expect("run deeprubin"),
        )
    };
    let expected = classify(&documented);
    assert_eq!(expected.len(), 1);
    assert_eq!(classify(&fink), expected);
}

#[test]
fn classify_names_a_missing_file_and_a_bad_row() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = deeprubin(dir.path())
        .args(["classify", "--lightcurves", "nowhere.csv"])
        .output()
        .expect("run deeprubin");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nowhere.csv"));

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "object_id,mjd,band,flux,flux_err\nA,60000,V,1,1\n").expect("write");
    let out = deeprubin(dir.path())
        .args(["classify", "--lightcurves"])
        .arg(&bad)
        .output()
        .expect("run deeprubin");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown band \"V\""),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn survey_priors_reweight_supernova_types_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = write_curves(dir.path());
    let run = |priors: Option<&str>| {
        let mut cmd = deeprubin(dir.path());
        cmd.args(["classify", "--mc-samples", "0"]);
        if let Some(priors) = priors {
            cmd.args(["--priors", priors]);
        }
        predictions(&cmd.arg(&csv).output().expect("run deeprubin"))
    };
    let survey = run(None);
    assert_eq!(run(Some("survey")), survey, "survey is the default");
    let balanced = run(Some("balanced"));
    for (s, b) in survey.iter().zip(&balanced) {
        let (ps, pb) = (
            named_numbers(&s["probabilities"]),
            named_numbers(&b["probabilities"]),
        );
        // The top level and every non-supernova class are the network's.
        for (level, p) in named_numbers(&s["top_level"]) {
            assert!(
                (p - named_numbers(&b["top_level"])[&level]).abs() < 1e-5,
                "{s} {b}"
            );
        }
        for class in ["QSO", "AGN", "E", "RRL", "LPV", "CV/Nova"] {
            assert!((ps[class] - pb[class]).abs() < 1e-6, "{class}: {s} {b}");
        }
        // SNIa : SLSN odds grow by the rate ratio 0.72 / 0.02 = 36.
        let odds = |p: &BTreeMap<String, f64>| p["SNIa"] / p["SLSN"];
        let ratio = odds(&ps) / odds(&pb);
        assert!((ratio - 36.0).abs() < 0.05 * 36.0, "ratio {ratio}: {s} {b}");
    }

    let bad = deeprubin(dir.path())
        .args(["classify", "--priors", "flat"])
        .arg(&csv)
        .output()
        .expect("run deeprubin");
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("survey or balanced"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
