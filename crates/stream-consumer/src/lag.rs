//! Consumer lag per assigned partition: high watermark − current position, measured periodically
//! on the blocking pool (librdkafka's watermark query blocks).

use std::sync::Arc;
use std::time::Duration;

use rdkafka::Offset;
use rdkafka::consumer::{Consumer, StreamConsumer};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::metrics::PipelineMetrics;

pub fn spawn(
    consumer: Arc<StreamConsumer>,
    metrics: PipelineMetrics,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => return,
            }
            let c = Arc::clone(&consumer);
            let m = metrics.clone();
            let _ = tokio::task::spawn_blocking(move || measure(&c, &m)).await;
        }
    })
}

fn measure(consumer: &StreamConsumer, metrics: &PipelineMetrics) {
    let Ok(positions) = consumer.position() else {
        return;
    };
    for element in positions.elements() {
        let Ok((_, high)) =
            consumer.fetch_watermarks(element.topic(), element.partition(), Duration::from_secs(5))
        else {
            continue;
        };
        let position = match element.offset() {
            Offset::Offset(o) => o,
            // Nothing consumed yet on this partition: everything up to the high watermark is lag.
            _ => 0,
        };
        metrics.lag(
            element.topic(),
            element.partition(),
            (high - position).max(0),
        );
    }
}
