//! Issue "Classify every update": simulated streams of known classes and the real ZTF packets go
//! through the real broker and Postgres with the shipped model; every alert yields exactly one
//! classified event and one classification row, and the stream's predictions agree with the labels
//! as well as the same model does offline on the same light curves (alert views: detections only).

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use common::{Broker, TestDb, read_topic, shared_data};
use rdkafka::Message;
use store::StateStore;
use stream_consumer::config::ConsumerConfig;
use stream_consumer::replay::{ReplayOptions, read_files, replay_payloads};
use stream_consumer::{PipelineMetrics, decode_event, run_with_store};
use tokio::sync::watch;

fn shipped_model() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/default")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_alert_is_classified_once_and_as_accurately_as_offline() {
    let broker = Broker::start();
    let db = TestDb::new().await;
    // A seed the model was not trained on.
    let config = simulator::SimulationConfig {
        seed: 424_242,
        objects_per_class: 4,
        truncate_days: Some(60.0),
        ..simulator::SimulationConfig::default()
    };
    let objects = simulator::simulate(&config);
    let labels: HashMap<String, String> = objects
        .iter()
        .map(|o| (o.object_id.clone(), o.class.name().to_owned()))
        .collect();
    let mut alerts: Vec<alert_model::Alert> = objects
        .iter()
        .flat_map(|o| simulator::alerts_for(o).unwrap())
        .collect();
    alerts.sort_by(|a, b| a.candidate.mjd.0.total_cmp(&b.candidate.mjd.0));
    let mut packets: Vec<Vec<u8>> = alerts
        .iter()
        .map(|a| alert_model::encode::survey_packet(a).unwrap())
        .collect();
    let mut expected_alerts = alerts.len();
    if let Some(data) = shared_data() {
        let real = read_files(&[data.join("ztf/alerts")]).unwrap();
        let decoder = alert_model::AlertDecoder::new();
        expected_alerts += real
            .iter()
            .map(|p| decoder.decode(p).unwrap().len())
            .sum::<usize>();
        packets.extend(real);
    }
    let options = ReplayOptions {
        brokers: broker.address.clone(),
        topic: "ztf".into(),
        partitions: 2,
        rate: None,
        one_per_batch: false,
        options: Default::default(),
    };
    replay_payloads(&options, packets).await.unwrap();

    let mut c = ConsumerConfig::default();
    c.kafka.brokers = broker.address.clone();
    c.kafka.topics = vec!["ztf".into()];
    c.kafka.output_topic = "ztf.classified".into();
    c.store.database_url = db.url.clone();
    c.pipeline.exit_when_idle_secs = Some(3.0);
    c.classifier.model_dir = Some(shipped_model());
    let store = db.store.clone();
    let shared: Arc<dyn StateStore> = Arc::new(store.clone());
    let (_tx, rx) = watch::channel(false);
    let (_, totals) = run_with_store(c, shared, PipelineMetrics::new().unwrap(), rx)
        .await
        .unwrap();
    assert_eq!(totals.stored as usize, expected_alerts);

    // Exactly one classified event and one classification row per alert.
    let events = read_topic(&broker.address, "ztf.classified", expected_alerts);
    assert_eq!(events.len(), expected_alerts);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM classifications")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows as usize, expected_alerts);

    // The stream classifies as well as the model does offline on the same light curves: each
    // simulated alert's detections up to its epoch (what the store holds when it is classified).
    let model =
        classifier_core::Classifier::load(&shipped_model(), &classifier_core::default_device())
            .unwrap();
    let detections_by_object: HashMap<String, Vec<alert_model::Detection>> =
        alerts.iter().fold(HashMap::new(), |mut m, a| {
            m.entry(a.object_id.to_string())
                .or_default()
                .extend(a.detections().cloned());
            m
        });
    let offline_inputs: Vec<classifier_core::LightCurve> = alerts
        .iter()
        .map(|a| {
            let mut detections: Vec<&alert_model::Detection> = detections_by_object
                [a.object_id.as_str()]
            .iter()
            .filter(|d| d.mjd.0 <= a.candidate.mjd.0)
            .collect();
            detections.sort_by_key(|d| d.source_id);
            detections.dedup_by_key(|d| d.source_id);
            let points = detections
                .iter()
                .map(|d| classifier_core::Point::from_detection(d))
                .collect();
            classifier_core::LightCurve::new(a.object_id.as_str(), a.survey, points)
        })
        .collect();
    let offline = model.classify(&offline_inputs, 4);
    let offline_right = alerts
        .iter()
        .zip(&offline)
        .filter(|(a, p)| labels[a.object_id.as_str()] == p.class)
        .count();
    let (mut right, mut n) = (0usize, 0usize);
    for message in &events {
        let event = decode_event(message.payload().unwrap()).unwrap();
        let Some(label) = labels.get(&event.object_id) else {
            continue;
        };
        n += 1;
        right += usize::from(event.class.as_deref() == Some(label.as_str()));
    }
    assert_eq!(n, alerts.len());
    let stream_accuracy = right as f64 / n as f64;
    let offline_accuracy = offline_right as f64 / n as f64;
    eprintln!(
        "stream accuracy {stream_accuracy:.3}, offline {offline_accuracy:.3} over {n} alerts"
    );
    // Monte-Carlo dropout makes single predictions noisy; the averages must agree closely.
    assert!(
        (stream_accuracy - offline_accuracy).abs() <= 0.05,
        "stream {stream_accuracy:.3} vs offline {offline_accuracy:.3}"
    );
    // And they are far better than chance (1/15).
    assert!(
        stream_accuracy > 0.3,
        "stream accuracy {stream_accuracy:.3}"
    );
    drop(db);
}
