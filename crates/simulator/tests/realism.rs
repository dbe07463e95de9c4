//! The ZTF simulation resembles real ZTF alert packets (shared/data/ztf/alerts) in the quantities
//! a classifier sees. Skips when the shared data folder is absent.

use std::path::{Path, PathBuf};

use alert_model::{Alert, AlertDecoder};
use simulator::{SimulationConfig, alerts_for, simulate};

fn avro_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            avro_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "avro") {
            out.push(p);
        }
    }
}

/// Mean detections per alert within 30 days, median |flux/σ| and median upper limit.
fn summary(alerts: &[Alert]) -> (f64, f64, f64) {
    let mut n = 0.0;
    let mut snr = Vec::new();
    let mut lim = Vec::new();
    for a in alerts {
        let t = a.candidate.mjd.0;
        let dets: Vec<_> = a.detections().filter(|d| t - d.mjd.0 <= 30.0).collect();
        n += dets.len() as f64;
        snr.extend(dets.iter().map(|d| (d.flux.0 / d.flux_err.0).abs()));
        lim.extend(a.upper_limits.iter().map(|u| u.limiting_mag));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    (
        n / alerts.len().max(1) as f64,
        median(&mut snr),
        median(&mut lim),
    )
}

#[test]
fn ztf_alert_view_resembles_real_packets() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ztf/alerts");
    let mut paths = Vec::new();
    avro_files(&dir, &mut paths);
    if paths.is_empty() {
        eprintln!("skipping: no real ZTF packets under {}", dir.display());
        return;
    }
    let decoder = AlertDecoder::new();
    let real: Vec<Alert> = paths
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter_map(|b| decoder.decode(&b).ok())
        .flatten()
        .collect();
    assert!(real.len() > 100);
    let objects = simulate(&SimulationConfig {
        objects_per_class: 20,
        truncate_days: Some(30.0),
        ..SimulationConfig::with_seed(2)
    });
    let sim: Vec<Alert> = objects
        .iter()
        .filter_map(|o| alerts_for(o).ok().and_then(|mut a| a.pop()))
        .collect();
    let (real_n, real_snr, real_lim) = summary(&real);
    let (sim_n, sim_snr, sim_lim) = summary(&sim);
    eprintln!("real: {real_n:.1} det/alert, S/N {real_snr:.1}, m5 {real_lim:.2}");
    eprintln!("sim:  {sim_n:.1} det/alert, S/N {sim_snr:.1}, m5 {sim_lim:.2}");
    assert!(sim_n > real_n / 2.0 && sim_n < real_n * 2.0);
    assert!(sim_snr > real_snr / 1.5 && sim_snr < real_snr * 1.5);
    assert!((sim_lim - real_lim).abs() < 0.5);
}
