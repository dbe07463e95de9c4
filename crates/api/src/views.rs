//! The JSON shapes the API returns, built from the store's types.

use std::collections::BTreeMap;

use alert_model::{Band, Mjd, ObjectId, SourceId, Survey};
use chrono::{DateTime, Utc};
use serde::Serialize;
use store::{Classification, LatestClassification, ObjectSummary};

use crate::taxonomy;

/// Where to find more about an object.
#[derive(Debug, Serialize)]
pub struct Links {
    #[serde(rename = "self")]
    pub this: String,
    pub lightcurve: String,
    pub lightcurve_csv: String,
    pub lightcurve_svg: String,
    pub lightcurve_png: String,
    pub classifications: String,
}

impl Links {
    pub fn of(object_id: &ObjectId) -> Self {
        // Ids are [A-Za-z0-9]: safe in a path as they are.
        let base = format!("/objects/{object_id}");
        Self {
            lightcurve: format!("{base}/lightcurve"),
            lightcurve_csv: format!("{base}/lightcurve?format=csv"),
            lightcurve_svg: format!("{base}/lightcurve.svg"),
            lightcurve_png: format!("{base}/lightcurve.png"),
            classifications: format!("{base}/classifications"),
            this: base,
        }
    }
}

/// An object's row; `C` is the shape of its latest classification (brief in lists, full alone).
#[derive(Debug, Serialize)]
pub struct ObjectView<C> {
    pub survey: Survey,
    pub object_id: ObjectId,
    /// Degrees, of the latest detection.
    pub ra: f64,
    pub dec: f64,
    pub first_mjd: Mjd,
    pub last_mjd: Mjd,
    pub n_detections: u32,
    /// Detections per band of the object's survey.
    pub detections_per_band: BTreeMap<&'static str, u32>,
    pub n_forced_photometry: u32,
    pub n_upper_limits: u32,
    pub latest_classification: Option<C>,
    pub updated_at: DateTime<Utc>,
    pub links: Links,
}

impl<C> ObjectView<C> {
    pub fn new(summary: ObjectSummary, latest: Option<C>) -> Self {
        let detections_per_band = Band::ALL
            .into_iter()
            .filter(|b| {
                b.effective_wavelength(summary.survey).is_some()
                    || summary.detections_per_band.get(*b) > 0
            })
            .map(|b| (b.as_str(), summary.detections_per_band.get(b)))
            .collect();
        Self {
            links: Links::of(&summary.object_id),
            survey: summary.survey,
            object_id: summary.object_id,
            ra: summary.ra,
            dec: summary.dec,
            first_mjd: summary.first_mjd,
            last_mjd: summary.last_mjd,
            n_detections: summary.n_detections,
            detections_per_band,
            n_forced_photometry: summary.n_forced_photometry,
            n_upper_limits: summary.n_upper_limits,
            latest_classification: latest,
            updated_at: summary.updated_at,
        }
    }
}

/// The latest classification as the object row keeps it (search results, anomalies).
#[derive(Debug, Serialize)]
pub struct BriefClassification {
    pub class: String,
    pub probability: f64,
    pub top_level: Option<&'static str>,
    pub anomaly_score: f64,
    pub model_name: String,
    pub model_version: String,
    pub classified_at: DateTime<Utc>,
}

impl From<LatestClassification> for BriefClassification {
    fn from(c: LatestClassification) -> Self {
        Self {
            top_level: taxonomy::top_level_of(&c.class),
            class: c.class,
            probability: c.probability,
            anomaly_score: c.anomaly_score,
            model_name: c.model_name,
            model_version: c.model_version,
            classified_at: c.classified_at,
        }
    }
}

/// One stored classification with all its probabilities.
#[derive(Debug, Serialize)]
pub struct ClassificationView {
    pub id: i64,
    pub class: String,
    pub probability: f64,
    pub probabilities: BTreeMap<String, f64>,
    /// The most probable top-level group (from the classifier's own top-level probabilities, or
    /// the taxonomy's parent of `class` when it gave none).
    pub top_level: Option<String>,
    pub top_level_probabilities: BTreeMap<String, f64>,
    pub uncertainty: f64,
    pub anomaly_score: f64,
    pub model_name: String,
    pub model_version: String,
    /// The detection whose alert triggered this classification.
    pub source_id: SourceId,
    pub created_at: DateTime<Utc>,
}

impl From<Classification> for ClassificationView {
    fn from(stored: Classification) -> Self {
        let c = stored.classification;
        let top_level = c
            .top_level_probabilities
            .iter()
            .filter(|(_, p)| p.is_finite())
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(name, _)| name.clone())
            .or_else(|| taxonomy::top_level_of(&c.predicted_class).map(str::to_owned));
        Self {
            id: stored.id,
            class: c.predicted_class,
            probability: c.probability,
            probabilities: c.probabilities,
            top_level,
            top_level_probabilities: c.top_level_probabilities,
            uncertainty: c.uncertainty,
            anomaly_score: c.anomaly_score,
            model_name: c.model_name,
            model_version: c.model_version,
            source_id: c.source_id,
            created_at: stored.created_at,
        }
    }
}

/// A list of objects, with the link to the next page when there is one.
#[derive(Debug, Serialize)]
pub struct ObjectList {
    pub count: usize,
    pub objects: Vec<ObjectView<BriefClassification>>,
    pub next_cursor: Option<String>,
    pub next: Option<String>,
}

impl ObjectList {
    pub fn new(
        objects: Vec<ObjectSummary>,
        next_cursor: Option<String>,
        next: Option<String>,
    ) -> Self {
        let objects: Vec<_> = objects
            .into_iter()
            .map(|mut s| {
                let latest = s
                    .latest_classification
                    .take()
                    .map(BriefClassification::from);
                ObjectView::new(s, latest)
            })
            .collect();
        Self {
            count: objects.len(),
            objects,
            next_cursor,
            next,
        }
    }
}
