//! `deeprubin alerts-to-csv` on real alerts: Fink's re-distributed ZTF packets carry a SIMBAD
//! cross-match (`cdsxmatch`), which becomes a catalogue-labelled light-curve set for `evaluate`.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use test_support::shared_data;

fn deeprubin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_deeprubin"))
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("deeprubin runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn labels(dir: &Path) -> HashMap<String, (String, String)> {
    let text = std::fs::read_to_string(dir.join("labels.csv")).expect("labels.csv written");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("object_id,class,simbad_type,candidate"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_owned(), (f[1].to_owned(), f[2].to_owned()))
        })
        .collect()
}

#[test]
fn fink_alerts_become_a_labelled_set_the_shipped_model_beats_chance_on() {
    let Some(data) = shared_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let summary = run_ok(
        deeprubin()
            .arg("alerts-to-csv")
            .arg("--out")
            .arg(dir.path())
            .arg(data.join("ztf/spark_rewritten")),
    );
    assert!(summary.contains("153 light curves"), "{summary}");

    let labels = labels(dir.path());
    assert!(labels.len() >= 50, "{} labelled objects", labels.len());
    assert_eq!(labels["ZTF18abvcdqu"], ("RRL".into(), "RRLyr".into()));
    assert_eq!(labels["ZTF17aaaeqnq"], ("AGN".into(), "Seyfert_2".into()));
    for (class, _) in labels.values() {
        assert!(
            class == "SN" || classifier_core::taxonomy::class_index(class).is_some(),
            "{class}"
        );
    }

    // Difference fluxes keep the sign of isdiffpos: this Seyfert is fainter than its reference
    // at every epoch of its latest alert.
    let curves = classifier_core::csv::read_light_curves(&dir.path().join("lightcurves.csv"), None)
        .unwrap()
        .curves;
    assert_eq!(curves.len(), 153);
    let seyfert = curves
        .iter()
        .find(|c| c.object_id == "ZTF17aaaeqnq")
        .unwrap();
    assert!(seyfert.points.len() >= 20);
    assert!(seyfert.points.iter().all(|p| p.flux_njy < 0.0));
    assert!(
        curves
            .iter()
            .any(|c| c.points.iter().any(|p| p.flux_njy > 0.0))
    );

    let eval = dir.path().join("eval");
    run_ok(
        deeprubin()
            .arg("evaluate")
            .arg("--lightcurves")
            .arg(dir.path().join("lightcurves.csv"))
            .arg("--labels")
            .arg(dir.path().join("labels.csv"))
            .arg("--out")
            .arg(&eval),
    );
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(eval.join("metrics.json")).unwrap()).unwrap();
    let n = metrics["n_evaluated"].as_u64().unwrap();
    assert!(n >= 50, "{metrics}");
    // Eleven classes are present, none above a fifth of the set: always naming the commonest
    // scores under 0.2, guessing at random a balanced accuracy of 1/11. The shipped model
    // (population version 10, training seed 7) scored 0.51–0.55, balanced 0.49–0.52, over 16
    // runs; the same recipe with training seed 8 0.40–0.44, balanced 0.37–0.40, so the bounds
    // leave room for a retrain and catch a model that no longer transfers to real data.
    let accuracy = metrics["accuracy"].as_f64().unwrap();
    let balanced = metrics["balanced_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.36, "accuracy {accuracy} on {n} real alerts");
    assert!(
        balanced >= 0.32,
        "balanced accuracy {balanced} on {n} real alerts"
    );
}
