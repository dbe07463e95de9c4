//! Compares real ZTF alert packets with simulated ZTF alerts: detections per alert (30 days),
//! time span, |flux/σ|, magnitudes, band mix, upper limits.
//!
//! `cargo run --release -p simulator --example ztf_stats [-- DIR]` (DIR defaults to
//! `../shared/data/ztf/alerts`, relative to the repository root).

use alert_model::{Alert, AlertDecoder, Band};
use simulator::{SimulationConfig, alerts_for, simulate};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "avro") {
            out.push(p);
        }
    }
}

fn pct(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn report(title: &str, alerts: &[Alert]) {
    let (mut ndet, mut span, mut snr, mut nul, mut lim, mut mag, mut gaps, mut rb) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    let mut neg = 0usize;
    let mut bands = [0usize; 3];
    for a in alerts {
        let t_end = a.candidate.mjd.0;
        let dets: Vec<_> = a.detections().filter(|d| t_end - d.mjd.0 <= 30.0).collect();
        ndet.push(dets.len() as f64);
        let t0 = dets.iter().map(|d| d.mjd.0).fold(f64::INFINITY, f64::min);
        span.push(t_end - t0);
        let mut ts: Vec<f64> = dets.iter().map(|d| d.mjd.0).collect();
        ts.sort_by(|a, b| a.total_cmp(b));
        for w in ts.windows(2) {
            gaps.push(w[1] - w[0]);
        }
        for d in &dets {
            snr.push((d.flux.0 / d.flux_err.0).abs());
            neg += usize::from(d.flux.0 < 0.0);
            if let Some(m) = d.mag {
                mag.push(m.mag);
            }
            if let Some(r) = d.quality.real_bogus {
                rb.push(r);
            }
            match d.band {
                Band::G => bands[0] += 1,
                Band::R => bands[1] += 1,
                _ => bands[2] += 1,
            }
        }
        let lims: Vec<_> = a
            .upper_limits
            .iter()
            .filter(|u| t_end - u.mjd.0 <= 30.0)
            .collect();
        nul.push(lims.len() as f64);
        lim.extend(lims.iter().map(|u| u.limiting_mag));
    }
    let total: usize = bands.iter().sum::<usize>().max(1);
    println!("== {title}: {} alerts", alerts.len());
    for (name, v) in [
        ("detections/alert (30 d)", &mut ndet),
        ("span of detections (d)", &mut span),
        ("gap between detections (d)", &mut gaps),
        ("|flux/sigma|", &mut snr),
        ("magpsf", &mut mag),
        ("upper limits/alert (30 d)", &mut nul),
        ("diffmaglim", &mut lim),
        ("rb", &mut rb),
    ] {
        let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
        println!(
            "{name:28} n={:6} mean={mean:8.2} p10={:7.2} p50={:7.2} p90={:7.2}",
            v.len(),
            pct(v, 0.1),
            pct(v, 0.5),
            pct(v, 0.9)
        );
    }
    println!(
        "bands g {:.2} r {:.2} i {:.2}; negative detections {:.3}",
        bands[0] as f64 / total as f64,
        bands[1] as f64 / total as f64,
        bands[2] as f64 / total as f64,
        neg as f64 / total as f64
    );
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/data/ztf/alerts".into());
    let mut paths = Vec::new();
    files(Path::new(&dir), &mut paths);
    let decoder = AlertDecoder::new();
    let real: Vec<Alert> = paths
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter_map(|b| decoder.decode(&b).ok())
        .flatten()
        .collect();
    report(&format!("real ZTF ({dir})"), &real);

    let config = SimulationConfig {
        objects_per_class: 40,
        ..SimulationConfig::with_seed(1)
    };
    let objects = simulate(&config);
    let mut sim = Vec::new();
    for o in &objects {
        if let Ok(alerts) = alerts_for(o) {
            sim.extend(alerts);
        }
    }
    report("simulated ZTF (15 classes × 40, every alert)", &sim);

    let truncated = simulate(&SimulationConfig {
        truncate_days: Some(30.0),
        ..config
    });
    let last: Vec<Alert> = truncated
        .iter()
        .filter_map(|o| alerts_for(o).ok().and_then(|mut a| a.pop()))
        .collect();
    report(
        "simulated ZTF, truncate_days = 30 (one alert per object)",
        &last,
    );
}
