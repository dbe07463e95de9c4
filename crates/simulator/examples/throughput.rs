//! Light curves per second: `cargo run --release -p simulator --example throughput`.

use alert_model::Survey;
use simulator::{SimulationConfig, simulate};
use std::time::Instant;

fn main() {
    for (survey, truncate) in [
        (Survey::Ztf, None),
        (Survey::Ztf, Some(30.0)),
        (Survey::Lsst, None),
    ] {
        let config = SimulationConfig {
            surveys: vec![survey],
            objects_per_class: 2000,
            truncate_days: truncate,
            ..SimulationConfig::with_seed(1)
        };
        let start = Instant::now();
        let objects = simulate(&config);
        let secs = start.elapsed().as_secs_f64();
        let points: usize = objects.iter().map(|o| o.observations.len()).sum();
        println!(
            "{survey} truncate={truncate:?}: {} light curves ({points} points) in {secs:.2} s = {:.0} light curves/s",
            objects.len(),
            objects.len() as f64 / secs
        );
    }
}
