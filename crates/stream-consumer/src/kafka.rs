//! Kafka clients from the configuration: the consumer, the producer and topic administration.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::StreamConsumer;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::FutureProducer;

fn base(brokers: &str, options: &BTreeMap<String, String>) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", brokers);
    // Pass-through options last, so an operator can override anything (SASL, TLS, timeouts).
    for (key, value) in options {
        config.set(key, value);
    }
    config
}

/// A consumer that never commits on its own: offsets are committed only after a batch is stored
/// and published.
pub fn consumer(
    brokers: &str,
    group: &str,
    options: &BTreeMap<String, String>,
) -> Result<StreamConsumer, KafkaError> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        // Bound librdkafka's prefetch so a slow store means back-pressure, not memory growth.
        .set("queued.max.messages.kbytes", "65536")
        // Kafka's minimum session timeout: a dead replica's partitions move within seconds, and
        // group joins are quick (tansu answers a join after about half the session timeout).
        .set("session.timeout.ms", "6000")
        // Answer fetches quickly: a broker holding an empty fetch for librdkafka's default 500 ms
        // would add that to every batch when the stream is sparse.
        .set("fetch.wait.max.ms", "50");
    for (key, value) in options {
        config.set(key, value);
    }
    config.create()
}

/// An idempotent producer: retries cannot duplicate or reorder within a partition.
pub fn producer(
    brokers: &str,
    options: &BTreeMap<String, String>,
) -> Result<FutureProducer, KafkaError> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("compression.type", "lz4")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "30000");
    for (key, value) in options {
        config.set(key, value);
    }
    config.create()
}

/// Creates the topics that do not exist yet; an existing topic is not an error.
pub async fn ensure_topics(
    brokers: &str,
    options: &BTreeMap<String, String>,
    topics: &[&str],
    partitions: i32,
) -> Result<(), KafkaError> {
    let admin: AdminClient<DefaultClientContext> = base(brokers, options).create()?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(1)))
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for result in admin.create_topics(new.iter(), &opts).await? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(KafkaError::AdminOp(code)).inspect_err(|_| {
                    tracing::error!(topic, ?code, "cannot create topic");
                });
            }
        }
    }
    Ok(())
}
