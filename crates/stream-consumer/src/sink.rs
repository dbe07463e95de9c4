//! Where the pipeline writes: the output topic (one event per alert, keyed by object id) and the
//! dead-letter topic (the original bytes, with headers naming the error and where it came from).

use std::time::Duration;

use futures::future::join_all;
use rdkafka::Message;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};

/// Headers on a dead letter (also documented in docs/operations.md).
pub mod headers {
    pub const ERROR: &str = "deeprubin.error";
    pub const ERROR_KIND: &str = "deeprubin.error_kind";
    pub const SOURCE_TOPIC: &str = "deeprubin.source_topic";
    pub const SOURCE_PARTITION: &str = "deeprubin.source_partition";
    pub const SOURCE_OFFSET: &str = "deeprubin.source_offset";
}

/// How long a message may wait in the producer's queue before the send fails.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Sink {
    producer: FutureProducer,
}

/// One output record.
pub struct OutputRecord {
    pub key: String,
    pub payload: Vec<u8>,
}

impl Sink {
    pub fn new(producer: FutureProducer) -> Self {
        Sink { producer }
    }

    /// Sends every record and waits until all are acknowledged; the first failure is returned
    /// (the caller retries the whole set: duplicates are possible, losses are not).
    pub async fn publish(&self, topic: &str, records: &[OutputRecord]) -> Result<(), KafkaError> {
        let sends = records.iter().map(|r| {
            self.producer.send(
                FutureRecord::to(topic).key(&r.key).payload(&r.payload),
                QUEUE_TIMEOUT,
            )
        });
        for result in join_all(sends).await {
            result.map_err(|(e, _)| e)?;
        }
        Ok(())
    }

    /// The original message, unchanged, with the reason and its origin in headers.
    pub async fn dead_letter(
        &self,
        topic: &str,
        original: &OwnedMessage,
        kind: &str,
        error: &str,
    ) -> Result<(), KafkaError> {
        let partition = original.partition().to_string();
        let offset = original.offset().to_string();
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: headers::ERROR,
                value: Some(error),
            })
            .insert(Header {
                key: headers::ERROR_KIND,
                value: Some(kind),
            })
            .insert(Header {
                key: headers::SOURCE_TOPIC,
                value: Some(original.topic()),
            })
            .insert(Header {
                key: headers::SOURCE_PARTITION,
                value: Some(&partition),
            })
            .insert(Header {
                key: headers::SOURCE_OFFSET,
                value: Some(&offset),
            });
        let payload: &[u8] = original.payload().unwrap_or_default();
        let mut record = FutureRecord::<[u8], [u8]>::to(topic)
            .payload(payload)
            .headers(headers);
        if let Some(key) = original.key() {
            record = record.key(key);
        }
        self.producer
            .send(record, QUEUE_TIMEOUT)
            .await
            .map(|_| ())
            .map_err(|(e, _)| e)
    }
}
