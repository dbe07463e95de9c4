//! The in-process store for the embedded demo mode: the same semantics as Postgres, kept in maps
//! behind one lock (no await happens while it is held).

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use alert_model::{Alert, Band, Detection, ForcedPhotometry, Mjd, ObjectId, Survey, UpperLimit};
use async_trait::async_trait;
use chrono::Utc;

use crate::model::Cursor;
use crate::{
    BandCounts, Classification, LatestClassification, LightCurve, NewClassification, ObjectSummary,
    SearchPage, SearchQuery, StateStore, StoreError, StoreStats, UpsertOutcome,
};

type ObjectKey = (Survey, ObjectId);
/// An epoch in a hashable form: the exact bits of the MJD, as Postgres compares doubles exactly.
type EpochKey = (u64, Band);

#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    objects: BTreeMap<ObjectKey, ObjectState>,
    /// Source ids are unique per survey, not per object.
    detection_ids: HashSet<(Survey, i64)>,
    forced_ids: HashSet<(Survey, i64)>,
    next_classification_id: i64,
}

#[derive(Debug)]
struct ObjectState {
    summary: ObjectSummary,
    detections: Vec<Detection>,
    forced: Vec<ForcedPhotometry>,
    forced_epochs: HashSet<EpochKey>,
    upper_limits: Vec<UpperLimit>,
    upper_limit_epochs: HashSet<EpochKey>,
    /// Oldest first.
    classifications: Vec<Classification>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-applied alert behind (each upsert
        // validates nothing after it starts mutating), so the data is still usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn epoch(mjd: Mjd, band: Band) -> EpochKey {
    (mjd.0.to_bits(), band)
}

impl Inner {
    fn upsert(&mut self, alert: &Alert) -> UpsertOutcome {
        let key = (alert.survey, alert.object_id.clone());
        let state = self.objects.entry(key).or_insert_with(|| ObjectState {
            summary: ObjectSummary {
                survey: alert.survey,
                object_id: alert.object_id.clone(),
                ra: alert.candidate.ra,
                dec: alert.candidate.dec,
                first_mjd: alert.candidate.mjd,
                last_mjd: alert.candidate.mjd,
                n_detections: 0,
                detections_per_band: BandCounts::default(),
                n_forced_photometry: 0,
                n_upper_limits: 0,
                latest_classification: None,
                updated_at: Utc::now(),
            },
            detections: Vec::new(),
            forced: Vec::new(),
            forced_epochs: HashSet::new(),
            upper_limits: Vec::new(),
            upper_limit_epochs: HashSet::new(),
            classifications: Vec::new(),
        });
        let mut new_detections = 0;
        for d in alert.detections() {
            if self.detection_ids.insert((alert.survey, d.source_id.0)) {
                state.detections.push(d.clone());
                new_detections += 1;
            }
        }
        let mut new_forced = 0;
        for f in &alert.forced_photometry {
            let fresh = match f.source_id {
                Some(id) => self.forced_ids.insert((alert.survey, id.0)),
                None => state.forced_epochs.insert(epoch(f.mjd, f.band)),
            };
            if fresh {
                state.forced.push(f.clone());
                new_forced += 1;
            }
        }
        let mut new_limits = 0;
        for u in &alert.upper_limits {
            if state.upper_limit_epochs.insert(epoch(u.mjd, u.band)) {
                state.upper_limits.push(u.clone());
                new_limits += 1;
            }
        }
        let outcome = UpsertOutcome::new(new_detections, new_forced, new_limits);
        if !outcome.nothing_new {
            state.refresh_summary();
        }
        outcome
    }
}

impl ObjectState {
    /// Recomputes the aggregates from the stored measurements, as the Postgres store does.
    fn refresh_summary(&mut self) {
        let s = &mut self.summary;
        let mut counts = BandCounts::default();
        let mut first = f64::INFINITY;
        let mut latest: Option<&Detection> = None;
        for d in &self.detections {
            counts.add(d.band);
            first = first.min(d.mjd.0);
            let later = latest.is_none_or(|l| (d.mjd.0, d.source_id.0) > (l.mjd.0, l.source_id.0));
            if later {
                latest = Some(d);
            }
        }
        if let Some(l) = latest {
            s.ra = l.ra;
            s.dec = l.dec;
            s.last_mjd = l.mjd;
            s.first_mjd = Mjd(first);
        }
        s.n_detections = u32::try_from(self.detections.len()).unwrap_or(u32::MAX);
        s.detections_per_band = counts;
        s.n_forced_photometry = u32::try_from(self.forced.len()).unwrap_or(u32::MAX);
        s.n_upper_limits = u32::try_from(self.upper_limits.len()).unwrap_or(u32::MAX);
        s.updated_at = Utc::now();
    }
}

fn by_mjd<T>(items: &[T], mjd: impl Fn(&T) -> f64) -> Vec<T>
where
    T: Clone,
{
    let mut out = items.to_vec();
    out.sort_by(|a, b| mjd(a).total_cmp(&mjd(b)));
    out
}

#[async_trait]
impl StateStore for MemoryStore {
    async fn upsert_alerts(&self, alerts: &[Alert]) -> Result<Vec<UpsertOutcome>, StoreError> {
        let mut inner = self.lock();
        Ok(alerts.iter().map(|a| inner.upsert(a)).collect())
    }

    async fn light_curve(
        &self,
        survey: Survey,
        object_id: &ObjectId,
    ) -> Result<Option<LightCurve>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .objects
            .get(&(survey, object_id.clone()))
            .map(|state| {
                let mut detections = state.detections.clone();
                detections.sort_by(|a, b| {
                    a.mjd
                        .0
                        .total_cmp(&b.mjd.0)
                        .then(a.source_id.cmp(&b.source_id))
                });
                LightCurve {
                    survey,
                    object_id: object_id.clone(),
                    detections,
                    forced_photometry: by_mjd(&state.forced, |f| f.mjd.0),
                    upper_limits: by_mjd(&state.upper_limits, |u| u.mjd.0),
                }
            }))
    }

    async fn object(
        &self,
        survey: Survey,
        object_id: &ObjectId,
    ) -> Result<Option<ObjectSummary>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .objects
            .get(&(survey, object_id.clone()))
            .map(|s| s.summary.clone()))
    }

    async fn record_classification(&self, c: &NewClassification) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let id = inner.next_classification_id + 1;
        let Some(state) = inner.objects.get_mut(&(c.survey, c.object_id.clone())) else {
            return Err(StoreError::UnknownObject {
                survey: c.survey,
                object_id: c.object_id.clone(),
            });
        };
        let duplicate = state.classifications.iter().any(|old| {
            let o = &old.classification;
            o.source_id == c.source_id
                && o.model_name == c.model_name
                && o.model_version == c.model_version
        });
        if duplicate {
            return Ok(false);
        }
        let created_at = Utc::now();
        state.classifications.push(Classification {
            id,
            classification: c.clone(),
            created_at,
        });
        state.summary.latest_classification = Some(LatestClassification {
            class: c.predicted_class.clone(),
            probability: c.probability,
            anomaly_score: c.anomaly_score,
            model_name: c.model_name.clone(),
            model_version: c.model_version.clone(),
            classified_at: created_at,
        });
        state.summary.updated_at = created_at;
        inner.next_classification_id = id;
        Ok(true)
    }

    async fn classifications(
        &self,
        survey: Survey,
        object_id: &ObjectId,
    ) -> Result<Vec<Classification>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .objects
            .get(&(survey, object_id.clone()))
            .map(|s| s.classifications.iter().rev().cloned().collect())
            .unwrap_or_default())
    }

    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, StoreError> {
        let cursor = query.cursor.as_deref().map(Cursor::decode).transpose()?;
        let limit = query.page_size() as usize;
        let inner = self.lock();
        let mut hits: Vec<&ObjectSummary> = inner
            .objects
            .values()
            .map(|s| &s.summary)
            .filter(|o| matches(o, query) && cursor.as_ref().is_none_or(|c| c.precedes(o)))
            .collect();
        hits.sort_by(|a, b| {
            b.last_mjd
                .0
                .total_cmp(&a.last_mjd.0)
                .then_with(|| a.survey.as_str().cmp(b.survey.as_str()))
                .then_with(|| a.object_id.as_str().cmp(b.object_id.as_str()))
        });
        let more = hits.len() > limit;
        let objects: Vec<ObjectSummary> = hits.into_iter().take(limit).cloned().collect();
        let next_cursor = more
            .then(|| objects.last().map(|o| Cursor::after(o).encode()))
            .flatten();
        Ok(SearchPage {
            objects,
            next_cursor,
        })
    }

    async fn top_anomalies(&self, limit: u32) -> Result<Vec<ObjectSummary>, StoreError> {
        let inner = self.lock();
        let mut scored: Vec<(f64, &ObjectSummary)> = inner
            .objects
            .values()
            .filter_map(|s| {
                let score = s.summary.latest_classification.as_ref()?.anomaly_score;
                Some((score, &s.summary))
            })
            .collect();
        scored.sort_by(|(sa, a), (sb, b)| {
            sb.total_cmp(sa)
                .then_with(|| a.survey.as_str().cmp(b.survey.as_str()))
                .then_with(|| a.object_id.as_str().cmp(b.object_id.as_str()))
        });
        Ok(scored
            .into_iter()
            .take(limit.min(crate::MAX_SEARCH_LIMIT) as usize)
            .map(|(_, o)| o.clone())
            .collect())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        let inner = self.lock();
        let mut stats = StoreStats {
            objects: inner.objects.len() as u64,
            ..StoreStats::default()
        };
        for s in inner.objects.values() {
            stats.detections += s.detections.len() as u64;
            stats.forced_photometry += s.forced.len() as u64;
            stats.upper_limits += s.upper_limits.len() as u64;
            stats.classifications += s.classifications.len() as u64;
        }
        Ok(stats)
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

/// The search filters, as the Postgres store's WHERE clause applies them.
fn matches(o: &ObjectSummary, q: &SearchQuery) -> bool {
    let latest = o.latest_classification.as_ref();
    q.survey.is_none_or(|s| s == o.survey)
        && q.since_mjd.is_none_or(|m| o.last_mjd.0 >= m)
        && q.class
            .as_ref()
            .is_none_or(|c| latest.is_some_and(|l| &l.class == c))
        && q.min_probability
            .is_none_or(|p| latest.is_some_and(|l| l.probability >= p))
        && q.min_anomaly_score
            .is_none_or(|a| latest.is_some_and(|l| l.anomaly_score >= a))
}
