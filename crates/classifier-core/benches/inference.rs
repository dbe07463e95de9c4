//! CPU inference throughput at batch 256: the network alone (precomputed features) and end to
//! end (GP preprocessing on all cores + network), for the default architecture.

use classifier_core::features::FeatureConfig;
use classifier_core::model::{Architecture, ModelConfig};
use classifier_core::{Classifier, LightCurve, default_device};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let curves: Vec<LightCurve> = simulator::simulate(&classifier_core::data::simulation(5, 9))
        .iter()
        .map(LightCurve::from_simulated)
        .take(256)
        .collect();
    let ids: Vec<&str> = curves.iter().map(|c| c.object_id.as_str()).collect();
    let mut group = c.benchmark_group("inference_batch256");
    group.throughput(Throughput::Elements(curves.len() as u64));
    group.sample_size(10);
    for arch in [Architecture::Transformer, Architecture::Gru] {
        let model = ModelConfig {
            architecture: arch,
            ..ModelConfig::default()
        };
        let classifier = Classifier::untrained(model, FeatureConfig::default(), &default_device());
        let features = classifier.featurize(&curves);
        group.bench_function(format!("{arch:?}/network"), |b| {
            b.iter(|| classifier.classify_features(&features, &ids, 0))
        });
        group.bench_function(format!("{arch:?}/network_mc10"), |b| {
            b.iter(|| classifier.classify_features(&features, &ids, 10))
        });
        group.bench_function(format!("{arch:?}/end_to_end"), |b| {
            b.iter(|| classifier.classify(&curves, 0))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
