//! Shared helpers: the real components come from `test-support`; simulated packets from here.

#![allow(dead_code)]

pub use test_support::*;

/// Alert packets of simulated objects, in time order per object: `per_class` objects of each
/// listed class, light curves cut at `days`.
pub fn simulated_packets(
    survey: alert_model::Survey,
    classes: &[simulator::Class],
    per_class: usize,
    days: f64,
    seed: u64,
) -> Vec<Vec<u8>> {
    let config = simulator::SimulationConfig {
        seed,
        surveys: vec![survey],
        objects_per_class: per_class,
        classes: classes.to_vec(),
        truncate_days: Some(days),
        ..simulator::SimulationConfig::default()
    };
    simulator::simulate(&config)
        .iter()
        .flat_map(|o| simulator::alerts_for(o).unwrap())
        .map(|a| alert_model::encode::survey_packet(&a).unwrap())
        .collect()
}
