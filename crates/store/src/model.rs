//! The types the store reads and writes, independent of the backend.

use std::collections::BTreeMap;

use alert_model::{Band, Detection, ForcedPhotometry, Mjd, ObjectId, SourceId, Survey, UpperLimit};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// Largest page a search returns, whatever the caller asks for.
pub const MAX_SEARCH_LIMIT: u32 = 1000;

/// What one alert added to the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpsertOutcome {
    pub new_detections: u32,
    pub new_forced_photometry: u32,
    pub new_upper_limits: u32,
    /// True when the alert was a replay: nothing in it was new.
    pub nothing_new: bool,
}

impl UpsertOutcome {
    pub(crate) fn new(
        new_detections: u32,
        new_forced_photometry: u32,
        new_upper_limits: u32,
    ) -> Self {
        Self {
            new_detections,
            new_forced_photometry,
            new_upper_limits,
            nothing_new: new_detections + new_forced_photometry + new_upper_limits == 0,
        }
    }
}

/// Everything stored about one object's brightness, each list ordered by MJD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LightCurve {
    pub survey: Survey,
    pub object_id: ObjectId,
    pub detections: Vec<Detection>,
    pub forced_photometry: Vec<ForcedPhotometry>,
    pub upper_limits: Vec<UpperLimit>,
}

/// Detection counts per band.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandCounts {
    pub u: u32,
    pub g: u32,
    pub r: u32,
    pub i: u32,
    pub z: u32,
    pub y: u32,
}

impl BandCounts {
    pub fn get(&self, band: Band) -> u32 {
        match band {
            Band::U => self.u,
            Band::G => self.g,
            Band::R => self.r,
            Band::I => self.i,
            Band::Z => self.z,
            Band::Y => self.y,
        }
    }

    pub(crate) fn add(&mut self, band: Band) {
        let slot = match band {
            Band::U => &mut self.u,
            Band::G => &mut self.g,
            Band::R => &mut self.r,
            Band::I => &mut self.i,
            Band::Z => &mut self.z,
            Band::Y => &mut self.y,
        };
        *slot += 1;
    }
}

/// The most recently recorded classification of an object, copied onto its row for search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatestClassification {
    pub class: String,
    pub probability: f64,
    pub anomaly_score: f64,
    pub model_name: String,
    pub model_version: String,
    pub classified_at: DateTime<Utc>,
}

/// One object's row: where it is, when it was seen, how much is stored, what it was classified as.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectSummary {
    pub survey: Survey,
    pub object_id: ObjectId,
    /// Position of the latest detection (degrees).
    pub ra: f64,
    pub dec: f64,
    /// First and last detection epochs (forced photometry and upper limits excluded).
    pub first_mjd: Mjd,
    pub last_mjd: Mjd,
    pub n_detections: u32,
    pub detections_per_band: BandCounts,
    pub n_forced_photometry: u32,
    pub n_upper_limits: u32,
    pub latest_classification: Option<LatestClassification>,
    /// When new measurements or a classification last changed this row.
    pub updated_at: DateTime<Utc>,
}

/// A classifier's verdict on an object, triggered by one of its sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewClassification {
    pub survey: Survey,
    pub object_id: ObjectId,
    /// The detection whose alert triggered this classification.
    pub source_id: SourceId,
    pub model_name: String,
    pub model_version: String,
    /// Class name → probability, leaf classes of the taxonomy.
    pub probabilities: BTreeMap<String, f64>,
    /// Top level of the hierarchy (transient / stochastic / periodic) → probability.
    pub top_level_probabilities: BTreeMap<String, f64>,
    pub predicted_class: String,
    /// Probability of `predicted_class`.
    pub probability: f64,
    pub uncertainty: f64,
    pub anomaly_score: f64,
}

/// A stored classification: the verdict plus its identity and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub id: i64,
    #[serde(flatten)]
    pub classification: NewClassification,
    pub created_at: DateTime<Utc>,
}

/// Filters for [`crate::StateStore::search`]; results come newest activity first (last MJD
/// descending, then survey and object id).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchQuery {
    pub survey: Option<Survey>,
    /// Latest predicted class equals this.
    pub class: Option<String>,
    /// Latest class probability at least this.
    pub min_probability: Option<f64>,
    /// Latest anomaly score at least this.
    pub min_anomaly_score: Option<f64>,
    /// Last detection at or after this MJD.
    pub since_mjd: Option<f64>,
    /// Page size, clamped to 1..=[`MAX_SEARCH_LIMIT`]; 0 means the default of 50.
    pub limit: u32,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl SearchQuery {
    pub(crate) fn page_size(&self) -> u32 {
        match self.limit {
            0 => 50,
            n => n.min(MAX_SEARCH_LIMIT),
        }
    }
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    pub objects: Vec<ObjectSummary>,
    /// Pass back in [`SearchQuery::cursor`] for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Row counts and size, for benchmarks, metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreStats {
    pub objects: u64,
    pub detections: u64,
    pub forced_photometry: u64,
    pub upper_limits: u64,
    pub classifications: u64,
    /// Bytes on disk, tables and indexes together; `None` for the in-process store.
    pub total_bytes: Option<u64>,
}

/// The keyset position after the last object of a page. Opaque to callers: the exact bits of
/// the MJD keep pagination exact even when many objects share an epoch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cursor {
    pub last_mjd: f64,
    pub survey: Survey,
    pub object_id: String,
}

impl Cursor {
    pub fn after(object: &ObjectSummary) -> Self {
        Cursor {
            last_mjd: object.last_mjd.0,
            survey: object.survey,
            object_id: object.object_id.as_str().to_owned(),
        }
    }

    pub fn encode(&self) -> String {
        format!(
            "{:016x}.{}.{}",
            self.last_mjd.to_bits(),
            self.survey,
            self.object_id
        )
    }

    pub fn decode(text: &str) -> Result<Self, StoreError> {
        let invalid = || StoreError::InvalidCursor(text.chars().take(80).collect());
        let mut parts = text.splitn(3, '.');
        let (Some(bits), Some(survey), Some(object_id)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let bits = u64::from_str_radix(bits, 16).map_err(|_| invalid())?;
        let survey = survey.parse().map_err(|_| invalid())?;
        ObjectId::parse(survey, object_id).map_err(|_| invalid())?;
        Ok(Cursor {
            last_mjd: f64::from_bits(bits),
            survey,
            object_id: object_id.to_owned(),
        })
    }

    /// Whether `object` comes strictly after this cursor in search order.
    pub fn precedes(&self, object: &ObjectSummary) -> bool {
        let mjd = object.last_mjd.0;
        mjd < self.last_mjd
            || (mjd == self.last_mjd
                && (object.survey.as_str(), object.object_id.as_str())
                    > (self.survey.as_str(), self.object_id.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let c = Cursor {
            last_mjd: 60_123.456_789,
            survey: Survey::Ztf,
            object_id: "ZTF21abcdefg".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("garbage").is_err());
        assert!(Cursor::decode("zz.ztf.ZTF21abcdefg").is_err());
        assert!(Cursor::decode("0.ztf.not-an-id").is_err());
    }
}
