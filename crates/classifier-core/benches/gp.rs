//! Per-light-curve preprocessing time: GP fit + grid, the Lomb–Scargle periodogram and the full
//! feature extraction.

use alert_model::Survey;
use classifier_core::LightCurve;
use classifier_core::features::{FeatureConfig, extract};
use classifier_core::gp::{GpConfig, fit};
use classifier_core::periodogram::best_period;
use criterion::{Criterion, criterion_group, criterion_main};

fn curves(survey: Survey) -> Vec<LightCurve> {
    let mut c = simulator::SimulationConfig::with_seed(3);
    c.surveys = vec![survey];
    c.objects_per_class = 2;
    c.min_detections = 2;
    simulator::simulate(&c)
        .iter()
        .map(LightCurve::from_simulated)
        .collect()
}

fn bench(c: &mut Criterion) {
    for survey in [Survey::Ztf, Survey::Lsst] {
        let lcs = curves(survey);
        let mean_points = lcs.iter().map(|l| l.points.len()).sum::<usize>() / lcs.len();
        let gp = GpConfig::default();
        let features = FeatureConfig::default();
        let mut i = 0;
        c.bench_function(&format!("gp_fit/{survey:?} (~{mean_points} points)"), |b| {
            b.iter(|| {
                i = (i + 1) % lcs.len();
                fit(&lcs[i], &gp)
            })
        });
        c.bench_function(
            &format!("periodogram/{survey:?} (~{mean_points} points)"),
            |b| {
                b.iter(|| {
                    i = (i + 1) % lcs.len();
                    best_period(&lcs[i])
                })
            },
        );
        c.bench_function(
            &format!("features/{survey:?} (~{mean_points} points)"),
            |b| {
                b.iter(|| {
                    i = (i + 1) % lcs.len();
                    extract(&lcs[i], &features)
                })
            },
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
