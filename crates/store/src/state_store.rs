//! The `StateStore` boundary every other crate talks to.

use alert_model::{Alert, ObjectId, Survey};
use async_trait::async_trait;

use crate::{
    Classification, LightCurve, NewClassification, ObjectSummary, SearchPage, SearchQuery,
    StoreError, StoreStats, UpsertOutcome,
};

/// Light-curve state of every object seen, shared as `Arc<dyn StateStore>` by the stream and the
/// API.
///
/// Writes are idempotent: detections are keyed by (survey, source id), forced photometry by its
/// source id or else (object, MJD, band), upper limits by (object, MJD, band), classifications by
/// (object, source id, model name, model version). Replaying an alert changes nothing.
#[async_trait]
pub trait StateStore: Send + Sync {
    /// Stores one alert's measurements and refreshes its object's row.
    async fn upsert_alert(&self, alert: &Alert) -> Result<UpsertOutcome, StoreError> {
        let mut outcomes = self.upsert_alerts(std::slice::from_ref(alert)).await?;
        Ok(outcomes.pop().unwrap_or_default())
    }

    /// Stores many alerts atomically; one outcome per alert, in order. A measurement carried by
    /// several alerts of the batch counts as new for the first one only.
    async fn upsert_alerts(&self, alerts: &[Alert]) -> Result<Vec<UpsertOutcome>, StoreError>;

    /// All stored measurements of an object, each list ordered by MJD; `None` if never seen.
    async fn light_curve(
        &self,
        survey: Survey,
        object_id: &ObjectId,
    ) -> Result<Option<LightCurve>, StoreError>;

    /// The object's row; `None` if never seen.
    async fn object(
        &self,
        survey: Survey,
        object_id: &ObjectId,
    ) -> Result<Option<ObjectSummary>, StoreError>;

    /// The object's row and its latest classification in full (the newest entry of its
    /// history); `None` if never seen. One read where the backend allows (the API's
    /// `/objects/{oid}`).
    async fn object_with_latest(
        &self,
        survey: Survey,
        object_id: &ObjectId,
    ) -> Result<Option<(ObjectSummary, Option<Classification>)>, StoreError> {
        let Some(object) = self.object(survey, object_id).await? else {
            return Ok(None);
        };
        let latest = self
            .classifications(survey, object_id)
            .await?
            .into_iter()
            .next();
        Ok(Some((object, latest)))
    }

    /// Appends a classification and makes it the object's latest. Returns true when inserted,
    /// false when the same (object, source, model, version) was already recorded (a replay).
    /// Fails with [`StoreError::UnknownObject`] for an object without stored alerts.
    async fn record_classification(
        &self,
        classification: &NewClassification,
    ) -> Result<bool, StoreError>;

    /// Records many classifications (one round trip where the backend allows); per input, whether
    /// it was new. Within a batch, an object's last entry becomes its latest classification.
    async fn record_classifications(
        &self,
        batch: &[NewClassification],
    ) -> Result<Vec<bool>, StoreError> {
        let mut inserted = Vec::with_capacity(batch.len());
        for c in batch {
            inserted.push(self.record_classification(c).await?);
        }
        Ok(inserted)
    }

    /// Light curves of many objects in one snapshot; objects never seen are left out.
    async fn light_curves(
        &self,
        objects: &[(Survey, ObjectId)],
    ) -> Result<Vec<LightCurve>, StoreError> {
        let mut curves = Vec::with_capacity(objects.len());
        for (survey, id) in objects {
            curves.extend(self.light_curve(*survey, id).await?);
        }
        Ok(curves)
    }

    /// Classification history of an object, newest first.
    async fn classifications(
        &self,
        survey: Survey,
        object_id: &ObjectId,
    ) -> Result<Vec<Classification>, StoreError>;

    /// Objects matching the filters, newest activity first, one page at a time.
    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, StoreError>;

    /// Classified objects with the highest latest anomaly score first.
    async fn top_anomalies(&self, limit: u32) -> Result<Vec<ObjectSummary>, StoreError>;

    /// Readiness: the backend answers and its schema is current.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Row counts and, where known, size on disk.
    async fn stats(&self) -> Result<StoreStats, StoreError>;

    /// A short name for logs: "postgres" or "memory".
    fn backend(&self) -> &'static str;
}
