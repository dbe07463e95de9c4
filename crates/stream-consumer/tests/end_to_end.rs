//! The whole stream against a real broker (tansu) and a real Postgres: replay → consume → store →
//! output topic, with counts that reconcile.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{Broker, TestDb, read_topic, shared_data};
use store::StateStore;
use stream_consumer::config::{ConsumerConfig, OutputFormat};
use stream_consumer::replay::{ReplayOptions, read_files, replay_payloads};
use stream_consumer::{PipelineMetrics, StopReason, decode_event, run_with_store};
use tokio::sync::watch;

fn config(
    broker: &Broker,
    db: &TestDb,
    model: &std::path::Path,
    topic: &str,
    survey: alert_model::Survey,
) -> ConsumerConfig {
    let mut c = ConsumerConfig::default();
    c.classifier.model_dir = Some(model.to_path_buf());
    c.classifier.anomalies_topic = format!("{topic}.anomalies");
    c.kafka.brokers = broker.address.clone();
    c.kafka.topics = vec![topic.to_owned()];
    c.kafka.group = format!("test-{topic}");
    c.kafka.output_topic = format!("{topic}.updates");
    c.kafka.dead_letter_topic = format!("{topic}.dead");
    c.input.survey = survey;
    c.store.database_url = db.url.clone();
    c.pipeline.batch_size = 64;
    c.pipeline.exit_when_idle_secs = Some(3.0);
    c.pipeline.retry_initial_ms = 50;
    c
}

fn replay_options(broker: &Broker, topic: &str) -> ReplayOptions {
    ReplayOptions {
        brokers: broker.address.clone(),
        topic: topic.to_owned(),
        partitions: 2,
        rate: None,
        one_per_batch: false,
        options: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_ztf_and_rubin_alerts_flow_through_and_counts_reconcile() {
    let Some(data) = shared_data() else { return };
    let broker = Broker::start();
    let db = TestDb::new().await;
    let model = common::untrained_model_dir();

    let ztf_files = read_files(&[data.join("ztf/alerts")]).unwrap();
    let sent = replay_payloads(&replay_options(&broker, "ztf"), ztf_files)
        .await
        .unwrap();
    let rubin_files = read_files(&[data.join("lsst/wire")]).unwrap();
    replay_payloads(&replay_options(&broker, "lsst"), rubin_files)
        .await
        .unwrap();

    let store: Arc<dyn StateStore> = Arc::new(db.store.clone());
    let (_tx, rx) = watch::channel(false);
    let ztf = config(&broker, &db, model.path(), "ztf", alert_model::Survey::Ztf);
    let (reason, totals) = run_with_store(
        ztf,
        Arc::clone(&store),
        PipelineMetrics::new().unwrap(),
        rx.clone(),
    )
    .await
    .unwrap();
    assert_eq!(reason, StopReason::Idle);
    assert_eq!(totals.consumed, sent.messages);
    assert_eq!(totals.dead_lettered, 0);
    assert_eq!(totals.stored, totals.published);
    assert_eq!(
        totals.consumed,
        totals.messages_stored + totals.dead_lettered
    );
    assert!(
        totals.stored >= totals.messages_stored,
        "files may hold several alerts"
    );

    let mut lsst = config(
        &broker,
        &db,
        model.path(),
        "lsst",
        alert_model::Survey::Lsst,
    );
    lsst.input.schema_dir = Some(data.join("lsst/schemas"));
    lsst.pipeline.output_format = OutputFormat::Json;
    let (_, rubin) = run_with_store(
        lsst,
        Arc::clone(&store),
        PipelineMetrics::new().unwrap(),
        rx,
    )
    .await
    .unwrap();
    assert_eq!((rubin.consumed, rubin.stored, rubin.published), (6, 6, 6));

    // Exactly one output event per alert, keyed by object id, each naming its alert.
    let events = read_topic(&broker.address, "ztf.updates", totals.published as usize);
    assert_eq!(events.len() as u64, totals.published);
    let mut sources = BTreeSet::new();
    for message in &events {
        use rdkafka::Message;
        let event = decode_event(message.payload().unwrap()).unwrap();
        assert_eq!(message.key(), Some(event.object_id.as_bytes()));
        assert_eq!(event.survey, "ztf");
        assert!(event.n_detections >= 1 && !event.bands.is_empty());
        assert!(event.published_ms >= event.ingest_start_ms);
        // Classified: 15 probabilities summing to 1, 3 top-level ones, the class among them.
        assert_eq!(event.probabilities.len(), 15);
        assert!((event.probabilities.values().sum::<f64>() - 1.0).abs() < 1e-3);
        assert_eq!(event.top_level.len(), 3);
        let class = event.class.as_deref().unwrap();
        assert!(event.probabilities.contains_key(class));
        assert!((0.0..=1.0).contains(&event.anomaly_score.unwrap()));
        assert!(event.model_version.is_some() && event.classified_ms.is_some());
        assert!(
            sources.insert(event.source_id),
            "duplicate event for {}",
            event.source_id
        );
    }
    let rubin_events = read_topic(&broker.address, "lsst.updates", 6);
    assert_eq!(rubin_events.len(), 6);
    assert!(read_topic(&broker.address, "ztf.dead", 0).is_empty());

    // Every alert's candidate is in the store, and each alert has exactly one classification row.
    let stats = store.stats().await.unwrap();
    assert!(stats.detections >= totals.stored, "{stats:?}");
    assert_eq!(stats.classifications, totals.stored + rubin.stored);
    drop(db);
}
