//! Decode throughput per core: ZTF container packets (cutouts left compressed) and Rubin
//! Confluent-framed messages. Uses the real packets in `../shared/data` when present, else the
//! project's own encoded samples.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use alert_model::AlertDecoder;
use alert_model::schema_source::SchemaDirectory;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("DEEPRUBIN_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    dir.is_dir().then_some(dir)
}

fn files(dir: &Path) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|it| it.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn bench(c: &mut Criterion) {
    let Some(data) = shared_data() else {
        eprintln!("SKIPPED: ../shared/data not found; set DEEPRUBIN_SHARED_DATA");
        return;
    };
    let ztf = files(&data.join("ztf/alerts/astrolabsoftware__fink-alert-simulator"));
    let decoder = AlertDecoder::new()
        .with_schema_source(Arc::new(SchemaDirectory::new(data.join("lsst/schemas"))));

    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(ztf.len() as u64));
    group.bench_function("ztf_container_packets", |b| {
        b.iter(|| {
            for packet in &ztf {
                let alerts = decoder.decode(packet).expect("real packet decodes");
                std::hint::black_box(alerts);
            }
        })
    });
    let mut rubin = files(&data.join("lsst/wire/alercebroker__pipeline"));
    rubin.extend(files(&data.join("lsst/wire/boom-astro__boom")));
    group.throughput(Throughput::Elements(rubin.len() as u64));
    group.bench_function("rubin_wire_messages", |b| {
        b.iter(|| {
            for message in &rubin {
                std::hint::black_box(decoder.decode(message).expect("real message decodes"));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
