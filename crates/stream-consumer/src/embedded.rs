//! The embedded mode: the stream's store-and-classify step without Kafka (the demo, and backfills
//! that should classify). Same store calls and model as `consume`, minus the retries.

use alert_model::Alert;
use classifier_core::Prediction;
use store::{StateStore, StoreError};

use crate::classify::{self, ClassifyError, ModelHandle};

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Classify(#[from] ClassifyError),
}

/// Stores a batch of alerts, classifies each from its object's light curve up to the alert, and
/// records one classification per alert; returns the predictions in alert order.
pub async fn store_and_classify(
    store: &dyn StateStore,
    model: &ModelHandle,
    alerts: &[Alert],
) -> Result<Vec<Prediction>, EmbeddedError> {
    if alerts.is_empty() {
        return Ok(Vec::new());
    }
    store.upsert_alerts(alerts).await?;
    let keys = classify::object_keys(alerts.iter());
    let curves = store.light_curves(&keys).await?;
    let predictions = model
        .classify(classify::curves_for_alerts(alerts.iter(), &curves))
        .await?;
    let rows: Vec<_> = alerts
        .iter()
        .zip(&predictions)
        .map(|(a, p)| classify::new_classification(a, model, p))
        .collect();
    store.record_classifications(&rows).await?;
    Ok(predictions)
}
