//! Batched inference throughput of a saved model on a device (the default one unless named): the network
//! alone on precomputed features (batches of 256, sorted by length), with 10 MC-dropout samples,
//! and end to end (GP + features + network), on full simulated curves and on ZTF alert views.
//!
//! `cargo run -p classifier-core --release --example inference_throughput -- [MODEL_DIR] [seconds] [device]`
//!
//! `device` is a name `deeprubin --device` accepts (`flex`, `ndarray`, … as compiled in: build with
//! `--features ndarray` to compare the CPU backends).

use std::path::PathBuf;

use alert_model::Survey;
use classifier_core::data::alert_view;
use classifier_core::{Classifier, LightCurve, device_by_name, throughput};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // As `deeprubin` does; DEEPRUBIN_MALLOC_DEFAULTS=1 measures without it.
    if std::env::var_os("DEEPRUBIN_MALLOC_DEFAULTS").is_none() {
        classifier_core::allocator::keep_freed_tensor_memory();
    }
    let args: Vec<String> = std::env::args().collect();
    let model = PathBuf::from(args.get(1).map_or("models/default", String::as_str));
    let seconds: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let device_name = args.get(3).map_or("default", String::as_str);
    let device = device_by_name(device_name)
        .ok_or_else(|| format!("device {device_name:?} is not compiled in"))?;
    let classifier = Classifier::load(&model, &device)?;
    let full: Vec<LightCurve> = simulator::simulate(&classifier_core::data::simulation(5, 40))
        .iter()
        .map(LightCurve::from_simulated)
        .collect();
    let alerts: Vec<LightCurve> = full
        .iter()
        .filter(|c| c.survey == Survey::Ztf)
        .filter_map(|c| {
            let first = c.points.iter().find(|p| p.detected)?.mjd;
            Some(alert_view(c, first + 16.0))
        })
        .collect();
    let report = serde_json::json!({
        "device": device_name,
        "full": throughput::measure(&classifier, &full, seconds),
        "ztf_alert_16d": throughput::measure(&classifier, &alerts, seconds),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
