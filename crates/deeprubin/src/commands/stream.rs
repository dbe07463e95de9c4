//! `deeprubin consume` and `deeprubin replay`.

use std::process::ExitCode;

use anyhow::Context;
use stream_consumer::ConsumerConfig;
use stream_consumer::replay::{ReplayOptions, read_files, replay_payloads};

use super::runtime;
use crate::cli::{BenchStreamArgs, ConsumeArgs, ReplayArgs};

/// File < environment < flags.
fn config(args: &ConsumeArgs) -> anyhow::Result<ConsumerConfig> {
    let mut c = ConsumerConfig::load(args.config.as_deref(), std::env::vars())?;
    if let Some(v) = &args.brokers {
        c.kafka.brokers = v.clone();
    }
    if let Some(v) = &args.topic {
        c.kafka.topics = v
            .split(',')
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
    }
    if let Some(v) = args.survey {
        c.input.survey = v;
    }
    if let Some(v) = &args.group {
        c.kafka.group = v.clone();
    }
    if let Some(v) = &args.output_topic {
        c.kafka.output_topic = v.clone();
    }
    if let Some(v) = &args.dead_letter_topic {
        c.kafka.dead_letter_topic = v.clone();
    }
    if let Some(v) = &args.database_url {
        c.store.database_url = v.clone();
    }
    if let Some(v) = &args.schema_dir {
        c.input.schema_dir = Some(v.clone());
    }
    if let Some(v) = &args.schema_registry {
        c.input.schema_registry = Some(v.clone());
    }
    if let Some(v) = &args.metrics_listen {
        c.metrics.listen = Some(v.clone());
    }
    if let Some(v) = args.exit_when_idle {
        c.pipeline.exit_when_idle_secs = Some(v);
    }
    if let Some(v) = args.batch_size {
        c.pipeline.batch_size = v;
    }
    if let Some(v) = args.max_batch_wait_ms {
        c.pipeline.max_batch_wait_ms = v;
    }
    if let Some(v) = args.output_format {
        c.pipeline.output_format = v;
    }
    if let Some(v) = &args.model {
        c.classifier.model_dir = Some(v.clone());
    }
    if let Some(v) = &args.device {
        c.classifier.device = v.clone();
    }
    if let Some(v) = args.mc_samples {
        c.classifier.mc_samples = v;
    }
    if let Some(v) = args.anomaly_threshold {
        c.classifier.anomaly_threshold = v;
    }
    if let Some(v) = &args.anomalies_topic {
        c.classifier.anomalies_topic = v.clone();
    }
    if args.no_classify {
        c.classifier.enabled = false;
    }
    for option in &args.kafka_option {
        let (key, value) = option
            .split_once('=')
            .with_context(|| format!("--kafka-option {option}: expected KEY=VALUE"))?;
        c.kafka
            .options
            .insert(key.trim().to_owned(), value.trim().to_owned());
    }
    c.validate()?;
    Ok(c)
}

pub fn consume(args: ConsumeArgs) -> anyhow::Result<ExitCode> {
    let config = config(&args)?;
    runtime()?.block_on(async {
        let shutdown = stream_consumer::shutdown_on_signals();
        let (reason, totals) = stream_consumer::run(config, shutdown).await?;
        println!(
            "stopped={reason:?} consumed={} stored={} published={} dead_lettered={}",
            totals.consumed, totals.stored, totals.published, totals.dead_lettered
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub fn replay(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let payloads = read_files(&args.paths).context("reading alert files")?;
    anyhow::ensure!(!payloads.is_empty(), "no alert files found");
    let options = ReplayOptions {
        brokers: args.to_kafka,
        topic: args.topic,
        partitions: args.partitions,
        rate: args.rate,
        one_per_batch: args.one_per_batch,
        options: Default::default(),
    };
    runtime()?.block_on(async {
        let started = std::time::Instant::now();
        let summary = replay_payloads(&options, payloads).await?;
        println!(
            "messages={} bytes={} seconds={:.2} topic={}",
            summary.messages,
            summary.bytes,
            started.elapsed().as_secs_f64(),
            options.topic
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// Simulated ZTF packets, as many as asked for (whole objects, so light curves stay realistic),
/// in time order (objects interleaved, as a survey sends them) or object by object.
fn bench_packets(count: usize, seed: u64, by_time: bool) -> anyhow::Result<Vec<Vec<u8>>> {
    let config = simulator::SimulationConfig {
        seed,
        objects_per_class: count / 150 + 1,
        truncate_days: Some(60.0),
        ..simulator::SimulationConfig::default()
    };
    let mut packets: Vec<(f64, Vec<u8>)> = Vec::with_capacity(count);
    'objects: for object in simulator::simulate(&config) {
        for alert in simulator::alerts_for(&object)? {
            packets.push((
                alert.candidate.mjd.0,
                alert_model::encode::survey_packet(&alert)?,
            ));
            if packets.len() == count {
                break 'objects;
            }
        }
    }
    if by_time {
        packets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Ok(packets.into_iter().map(|(_, p)| p).collect())
}

pub fn bench(args: BenchStreamArgs) -> anyhow::Result<ExitCode> {
    let by_time = args.order == "time";
    let backlog = bench_packets(args.alerts, args.seed, by_time)?;
    let live = bench_packets(args.alerts, args.seed.wrapping_add(1), by_time)?;
    let mut config = ConsumerConfig::default();
    config.kafka.brokers = args.brokers.clone();
    config.kafka.created_topic_partitions = args.partitions;
    config.store.database_url = args.database.database_url.clone();
    config.pipeline.batch_size = args.batch_size;
    config.pipeline.max_batch_wait_ms = args.max_batch_wait_ms;
    config.classifier.mc_samples = args.mc_samples;
    config.classifier.enabled = !args.no_classify;
    runtime()?.block_on(async {
        let store = store::PgStore::connect(&super::database::pg_config(&args.database)).await?;
        store.migrate().await?;
        let prefix = format!("bench.{}", stream_consumer::now_ms());
        let report = stream_consumer::bench::run(
            &config,
            std::sync::Arc::new(store),
            backlog,
            live,
            (args.rate, args.warmup_seconds),
            &prefix,
        )
        .await?;
        println!("{report}");
        Ok(ExitCode::SUCCESS)
    })
}
