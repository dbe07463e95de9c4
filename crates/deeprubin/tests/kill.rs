//! `deeprubin consume` killed with SIGKILL in the middle of a stream and started again: no alert is
//! missing, every alert has at least one event, and the objects' rows equal those of a clean run.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use alert_model::AlertDecoder;
use alert_model::encode::survey_packet;
use rdkafka::Message;
use simulator::{Class, SimulationConfig};
use store::{PgConfig, PgStore, StateStore};
use stream_consumer::decode_event;
use stream_consumer::replay::{ReplayOptions, replay_payloads};
use test_support::{Broker, TestDb, count, read_topic, wait_until};

fn consume(
    broker: &Broker,
    db: &TestDb,
    model: &std::path::Path,
    group: &str,
    output: &str,
) -> Child {
    Command::new(env!("CARGO_BIN_EXE_deeprubin"))
        .args([
            "consume",
            "--brokers",
            &broker.address,
            "--topic",
            "alerts",
            "--survey",
            "ztf",
        ])
        .args([
            "--group",
            group,
            "--output-topic",
            output,
            "--dead-letter-topic",
            "dead",
        ])
        .arg("--model")
        .arg(model)
        .args([
            "--database-url",
            &db.url,
            "--exit-when-idle",
            "4",
            "--batch-size",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("deeprubin starts")
}

fn wait_exit(mut child: Child) {
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "consume exited with {status}");
            return;
        }
        assert!(std::time::Instant::now() < deadline, "consume did not exit");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Object rows in key order, without their timestamps and without the latest classification's
/// values, which carry Monte-Carlo-dropout noise (its model version is kept).
async fn object_rows(store: &PgStore) -> Vec<String> {
    sqlx::query_scalar::<_, String>(
        "SELECT (to_jsonb(o) - 'created_at' - 'updated_at' - 'classified_at' - 'latest_class' \
         - 'latest_probability' - 'latest_anomaly_score')::text \
         FROM objects o ORDER BY survey, object_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_nothing() {
    let broker = Broker::start();
    let db = TestDb::new().await;
    let model = test_support::untrained_model_dir();
    let config = SimulationConfig {
        seed: 3,
        objects_per_class: 6,
        classes: vec![Class::SnIa, Class::SnII, Class::Rrl, Class::Qso],
        truncate_days: Some(60.0),
        ..SimulationConfig::default()
    };
    let packets: Vec<Vec<u8>> = simulator::simulate(&config)
        .iter()
        .flat_map(|o| simulator::alerts_for(o).unwrap())
        .map(|a| survey_packet(&a).unwrap())
        .collect();
    assert!(packets.len() >= 100, "{} packets", packets.len());
    // One message per record batch: tansu's in-memory engine cannot resume inside a batch
    // (architecture.md, "Real components in tests").
    let options = ReplayOptions {
        brokers: broker.address.clone(),
        topic: "alerts".into(),
        partitions: 1,
        rate: None,
        one_per_batch: true,
        options: Default::default(),
    };
    replay_payloads(&options, packets.clone()).await.unwrap();

    let mut first = consume(&broker, &db, model.path(), "broker", "updates");
    let store = db.store.clone();
    wait_until("some alerts to be stored", Duration::from_secs(120), || {
        let s = store.clone();
        async move { count(&s, "detections").await > 0 }
    })
    .await;
    first.kill().unwrap(); // SIGKILL: no shutdown handler runs
    first.wait().unwrap();
    let objects_at_kill = count(&store, "objects").await;
    let decoder = AlertDecoder::new();
    let alerts: Vec<_> = packets
        .iter()
        .map(|p| decoder.decode(p).unwrap().remove(0))
        .collect();
    let distinct_objects = alerts
        .iter()
        .map(|a| a.object_id.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    assert!(
        (objects_at_kill as usize) < distinct_objects,
        "killed after the stream was done: the test proves nothing"
    );

    wait_exit(consume(&broker, &db, model.path(), "broker", "updates"));

    // Nothing missing, every alert has an event.
    let events: Vec<i64> = read_topic(&broker.address, "updates", alerts.len())
        .iter()
        .map(|m| decode_event(m.payload().unwrap()).unwrap().source_id)
        .collect();
    for alert in &alerts {
        let curve = store
            .light_curve(alert.survey, &alert.object_id)
            .await
            .unwrap()
            .unwrap();
        assert!(
            curve
                .detections
                .iter()
                .any(|d| d.source_id == alert.candidate.source_id)
        );
        assert!(
            events.contains(&alert.candidate.source_id.0),
            "no event for {}",
            alert.candidate.source_id
        );
    }

    // Classification on: one row per (object, source, model version), none duplicated by the
    // redelivery after the kill.
    let (rows, distinct): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT (object_id, source_id, model_version)) FROM classifications",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!((rows, distinct), (alerts.len() as i64, alerts.len() as i64));

    // A clean run into a fresh database gives identical object rows.
    let clean = TestDb::new().await;
    wait_exit(consume(
        &broker,
        &clean,
        model.path(),
        "clean",
        "updates-clean",
    ));
    let clean_store = PgStore::connect(&PgConfig::with_url(&clean.url))
        .await
        .unwrap();
    assert_eq!(object_rows(&store).await, object_rows(&clean_store).await);
    store.close().await;
    clean_store.close().await;
    drop(db);
    drop(clean);
}
