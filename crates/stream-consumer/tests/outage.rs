//! A database outage in the middle of a stream: the consumer retries, reports unhealthy, does not
//! advance offsets, and after the database returns nothing is missing.

mod common;

use std::sync::Arc;
use std::time::Duration;

use alert_model::AlertDecoder;
use common::{Broker, PrivateCluster, TestDb, count, read_topic, simulated_packets, wait_until};
use rdkafka::Message;
use simulator::Class;
use store::{PgConfig, PgStore, StateStore};
use stream_consumer::config::ConsumerConfig;
use stream_consumer::replay::{ReplayOptions, replay_payloads};
use stream_consumer::{PipelineMetrics, StopReason, decode_event, run_with_store};
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_is_retried_and_nothing_is_lost() {
    let cluster = PrivateCluster::init();
    cluster.start();
    let db = TestDb::new_on(&cluster.admin_url()).await;
    let broker = Broker::start();

    let packets = simulated_packets(
        alert_model::Survey::Ztf,
        &[Class::SnII, Class::Cep],
        4,
        40.0,
        11,
    );
    let (first, second) = packets.split_at(packets.len() / 2);
    let options = ReplayOptions {
        brokers: broker.address.clone(),
        topic: "alerts".into(),
        partitions: 1,
        rate: None,
        one_per_batch: false,
        options: Default::default(),
    };
    replay_payloads(&options, first.to_vec()).await.unwrap();

    let model = common::untrained_model_dir();
    let mut config = ConsumerConfig::default();
    config.classifier.model_dir = Some(model.path().to_path_buf());
    config.kafka.brokers = broker.address.clone();
    config.kafka.topics = vec!["alerts".into()];
    config.kafka.output_topic = "updates".into();
    config.store.database_url = db.url.clone();
    config.pipeline.batch_size = 5;
    config.pipeline.exit_when_idle_secs = Some(4.0);
    config.pipeline.retry_initial_ms = 100;
    config.pipeline.retry_max_ms = 1_000;
    let pg = PgStore::connect(&PgConfig {
        connect_timeout: Duration::from_secs(1),
        ..PgConfig::with_url(&db.url)
    })
    .await
    .unwrap();
    let store: Arc<dyn StateStore> = Arc::new(pg.clone());
    let metrics = PipelineMetrics::new().unwrap();
    let (_tx, rx) = watch::channel(false);
    let consumer = tokio::spawn(run_with_store(config, store, metrics.clone(), rx));

    // Let part of the stream land, then take the database away.
    wait_until(
        "the first alerts to be stored",
        Duration::from_secs(60),
        || {
            let pg = pg.clone();
            async move { count(&pg, "detections").await > 0 }
        },
    )
    .await;
    cluster.stop();
    replay_payloads(&options, second.to_vec()).await.unwrap();
    wait_until(
        "the consumer to notice the outage",
        Duration::from_secs(60),
        || {
            let m = metrics.clone();
            // With the pipelined loop the first stage to touch the database may be the store
            // (the next batch) or the classify stage (reading light curves, recording rows).
            async move {
                let text = m.render();
                !m.is_healthy()
                    && ["store", "light_curves", "record_classifications"]
                        .iter()
                        .any(|op| {
                            text.contains(&format!("deeprubin_retries_total{{operation=\"{op}\"}}"))
                        })
            }
        },
    )
    .await;
    assert!(
        !consumer.is_finished(),
        "the consumer stays up during the outage"
    );

    cluster.start();
    let (reason, totals) = tokio::time::timeout(Duration::from_secs(120), consumer)
        .await
        .expect("consumer finishes after the database returns")
        .unwrap()
        .unwrap();
    assert_eq!(reason, StopReason::Idle);
    assert!(metrics.is_healthy());
    assert_eq!(totals.dead_lettered, 0);

    // Every alert's detection is stored, and every alert has an event.
    let decoder = AlertDecoder::new();
    let store = PgStore::connect(&PgConfig::with_url(&db.url))
        .await
        .unwrap();
    let events: Vec<i64> = read_topic(&broker.address, "updates", packets.len())
        .iter()
        .map(|m| decode_event(m.payload().unwrap()).unwrap().source_id)
        .collect();
    for packet in &packets {
        let alert = decoder.decode(packet).unwrap().remove(0);
        let curve = store
            .light_curve(alert.survey, &alert.object_id)
            .await
            .unwrap()
            .unwrap();
        assert!(
            curve
                .detections
                .iter()
                .any(|d| d.source_id == alert.candidate.source_id),
            "alert {} lost",
            alert.candidate.source_id
        );
        assert!(events.contains(&alert.candidate.source_id.0));
    }
    drop(db);
}
