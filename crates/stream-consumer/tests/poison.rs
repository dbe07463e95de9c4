//! Poison messages: malformed, truncated and random packets go to the dead-letter topic with the
//! reason and their origin; the good alerts around them are all processed.

mod common;

use std::sync::Arc;

use common::{Broker, TestDb, count, header, read_topic, shared_data, simulated_packets};
use rdkafka::Message;
use simulator::Class;
use store::StateStore;
use stream_consumer::config::ConsumerConfig;
use stream_consumer::dead_letter_headers as h;
use stream_consumer::replay::{ReplayOptions, read_files, replay_payloads};
use stream_consumer::{PipelineMetrics, run_with_store};
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_packets_are_dead_lettered_and_good_ones_processed() {
    let broker = Broker::start();
    let db = TestDb::new().await;
    let good = simulated_packets(
        alert_model::Survey::Ztf,
        &[Class::SnIa, Class::Rrl, Class::Qso],
        5,
        40.0,
        7,
    );
    assert!(good.len() >= 10);

    let mut bad: Vec<Vec<u8>> = vec![
        b"not an alert".to_vec(),
        vec![],
        good[0][..good[0].len() / 2].to_vec(),
        good[1][..40].to_vec(),
        (0..2000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect(),
    ];
    if let Some(data) = shared_data() {
        bad.extend(read_files(&[data.join("ztf/malformed")]).unwrap());
    }
    // Interleave: good, bad, good, bad, …, then the remaining good ones.
    let mut payloads = Vec::new();
    let mut good_iter = good.iter().cloned();
    for b in &bad {
        payloads.extend(good_iter.next());
        payloads.push(b.clone());
    }
    payloads.extend(good_iter);
    let options = ReplayOptions {
        brokers: broker.address.clone(),
        topic: "alerts".into(),
        partitions: 1,
        rate: None,
        one_per_batch: false,
        options: Default::default(),
    };
    replay_payloads(&options, payloads.clone()).await.unwrap();

    let model = common::untrained_model_dir();
    let mut config = ConsumerConfig::default();
    config.classifier.model_dir = Some(model.path().to_path_buf());
    config.kafka.brokers = broker.address.clone();
    config.kafka.topics = vec!["alerts".into()];
    config.kafka.output_topic = "updates".into();
    config.kafka.dead_letter_topic = "dead".into();
    config.store.database_url = db.url.clone();
    config.pipeline.batch_size = 7;
    config.pipeline.exit_when_idle_secs = Some(3.0);
    let store = db.store.clone();
    let shared: Arc<dyn StateStore> = Arc::new(store.clone());
    let metrics = PipelineMetrics::new().unwrap();
    let (_tx, rx) = watch::channel(false);
    let (_, totals) = run_with_store(config, shared, metrics.clone(), rx)
        .await
        .unwrap();

    assert_eq!(totals.consumed as usize, payloads.len());
    assert_eq!(totals.dead_lettered as usize, bad.len());
    assert_eq!(totals.stored as usize, good.len());
    assert_eq!(totals.published as usize, good.len());
    assert!(count(&store, "detections").await >= good.len() as i64);

    let dead = read_topic(&broker.address, "dead", bad.len());
    assert_eq!(dead.len(), bad.len());
    for message in &dead {
        let payload = message.payload().unwrap_or_default().to_vec();
        assert!(
            bad.contains(&payload),
            "dead letters carry the original bytes"
        );
        let offset: i64 = header(message, h::SOURCE_OFFSET).unwrap().parse().unwrap();
        assert!(
            payloads[offset as usize] == payload,
            "the offset header points at the message"
        );
        assert_eq!(header(message, h::SOURCE_TOPIC).as_deref(), Some("alerts"));
        assert_eq!(header(message, h::SOURCE_PARTITION).as_deref(), Some("0"));
        assert!(!header(message, h::ERROR).unwrap().is_empty());
        assert!(header(message, h::ERROR_KIND).is_some());
    }
    assert_eq!(
        read_topic(&broker.address, "updates", good.len()).len(),
        good.len()
    );
    let page = metrics.render();
    assert!(
        page.contains(&format!(
            "deeprubin_alerts_dead_lettered_total{{survey=\"ztf\"}} {}",
            bad.len()
        )),
        "{page}"
    );
    assert!(page.contains("deeprubin_decode_errors_total{kind=\"not_avro\"}"));
    drop(db);
}
