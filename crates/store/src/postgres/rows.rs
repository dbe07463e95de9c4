//! Rows as Postgres returns them, and their conversion into the model. Every text column the
//! model parses (survey, band, object id) is checked: a bad value is a `Corrupt` error, not a panic.

use std::collections::BTreeMap;

use alert_model::{
    AbMagnitude, Band, Detection, DetectionQuality, FluxNjy, ForcedPhotometry, Mjd, ObjectId,
    SourceId, Survey, UpperLimit,
};
use chrono::{DateTime, Utc};
use sqlx::types::Json;

use crate::{
    BandCounts, Classification, LatestClassification, NewClassification, ObjectSummary, StoreError,
};

/// The columns of `objects` that [`ObjectRow`] reads, as a literal for `concat!`.
macro_rules! object_columns {
    () => {
        "survey, object_id, ra, dec, first_mjd, last_mjd, n_detections, n_det_u, n_det_g, \
         n_det_r, n_det_i, n_det_z, n_det_y, n_forced_photometry, n_upper_limits, latest_class, \
         latest_probability, latest_anomaly_score, latest_model_name, latest_model_version, \
         classified_at, updated_at"
    };
}
pub(crate) use object_columns;

fn survey(text: &str) -> Result<Survey, StoreError> {
    text.parse()
        .map_err(|e: String| StoreError::Corrupt(format!("survey column: {e}")))
}

fn band(text: &str) -> Result<Band, StoreError> {
    Band::parse(text).ok_or_else(|| StoreError::Corrupt(format!("band column: {text:?}")))
}

fn object_id(survey: Survey, text: &str) -> Result<ObjectId, StoreError> {
    ObjectId::parse(survey, text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

#[derive(sqlx::FromRow)]
pub(crate) struct ObjectRow {
    survey: String,
    object_id: String,
    ra: f64,
    dec: f64,
    first_mjd: f64,
    last_mjd: f64,
    n_detections: i32,
    n_det_u: i32,
    n_det_g: i32,
    n_det_r: i32,
    n_det_i: i32,
    n_det_z: i32,
    n_det_y: i32,
    n_forced_photometry: i32,
    n_upper_limits: i32,
    latest_class: Option<String>,
    latest_probability: Option<f64>,
    latest_anomaly_score: Option<f64>,
    latest_model_name: Option<String>,
    latest_model_version: Option<String>,
    classified_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ObjectRow> for ObjectSummary {
    type Error = StoreError;

    fn try_from(r: ObjectRow) -> Result<Self, StoreError> {
        let survey = survey(&r.survey)?;
        let latest = match (
            r.latest_class,
            r.latest_probability,
            r.latest_anomaly_score,
            r.latest_model_name,
            r.latest_model_version,
            r.classified_at,
        ) {
            (
                Some(class),
                Some(probability),
                Some(anomaly_score),
                Some(name),
                Some(version),
                Some(at),
            ) => Some(LatestClassification {
                class,
                probability,
                anomaly_score,
                model_name: name,
                model_version: version,
                classified_at: at,
            }),
            _ => None,
        };
        Ok(ObjectSummary {
            survey,
            object_id: object_id(survey, &r.object_id)?,
            ra: r.ra,
            dec: r.dec,
            first_mjd: Mjd(r.first_mjd),
            last_mjd: Mjd(r.last_mjd),
            n_detections: count(r.n_detections),
            detections_per_band: BandCounts {
                u: count(r.n_det_u),
                g: count(r.n_det_g),
                r: count(r.n_det_r),
                i: count(r.n_det_i),
                z: count(r.n_det_z),
                y: count(r.n_det_y),
            },
            n_forced_photometry: count(r.n_forced_photometry),
            n_upper_limits: count(r.n_upper_limits),
            latest_classification: latest,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DetectionRow {
    source_id: i64,
    mjd: f64,
    band: String,
    ra: f64,
    dec: f64,
    flux: f64,
    flux_err: f64,
    mag: Option<f64>,
    mag_err: Option<f64>,
    real_bogus: Option<f64>,
    deep_real_bogus: Option<f64>,
    reliability: Option<f64>,
    n_bad_pixels: Option<i64>,
    fwhm: Option<f64>,
    zero_point: Option<f64>,
    program_id: Option<i64>,
    snr: Option<f64>,
    flagged: Option<bool>,
}

impl TryFrom<DetectionRow> for Detection {
    type Error = StoreError;

    fn try_from(r: DetectionRow) -> Result<Self, StoreError> {
        Ok(Detection {
            source_id: SourceId(r.source_id),
            mjd: Mjd(r.mjd),
            band: band(&r.band)?,
            ra: r.ra,
            dec: r.dec,
            flux: FluxNjy(r.flux),
            flux_err: FluxNjy(r.flux_err),
            mag: match (r.mag, r.mag_err) {
                (Some(mag), Some(err)) => Some(AbMagnitude { mag, err }),
                _ => None,
            },
            quality: DetectionQuality {
                real_bogus: r.real_bogus,
                deep_real_bogus: r.deep_real_bogus,
                reliability: r.reliability,
                n_bad_pixels: r.n_bad_pixels,
                fwhm: r.fwhm,
                zero_point: r.zero_point,
                program_id: r.program_id,
                snr: r.snr,
                flagged: r.flagged,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ForcedRow {
    source_id: Option<i64>,
    mjd: f64,
    band: String,
    flux: f64,
    flux_err: f64,
    status: Option<String>,
}

impl TryFrom<ForcedRow> for ForcedPhotometry {
    type Error = StoreError;

    fn try_from(r: ForcedRow) -> Result<Self, StoreError> {
        Ok(ForcedPhotometry {
            source_id: r.source_id.map(SourceId),
            mjd: Mjd(r.mjd),
            band: band(&r.band)?,
            flux: FluxNjy(r.flux),
            flux_err: FluxNjy(r.flux_err),
            status: r.status,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UpperLimitRow {
    mjd: f64,
    band: String,
    limiting_mag: f64,
}

impl TryFrom<UpperLimitRow> for UpperLimit {
    type Error = StoreError;

    fn try_from(r: UpperLimitRow) -> Result<Self, StoreError> {
        Ok(UpperLimit {
            mjd: Mjd(r.mjd),
            band: band(&r.band)?,
            limiting_mag: r.limiting_mag,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClassificationRow {
    id: i64,
    survey: String,
    object_id: String,
    source_id: i64,
    model_name: String,
    model_version: String,
    probabilities: Json<BTreeMap<String, f64>>,
    top_level_probabilities: Json<BTreeMap<String, f64>>,
    predicted_class: String,
    probability: f64,
    uncertainty: f64,
    anomaly_score: f64,
    created_at: DateTime<Utc>,
}

impl ClassificationRow {
    /// A classification joined beside another row, its columns named `{prefix}id`,
    /// `{prefix}source_id`, …, and the object's `survey` and `object_id`; `None` when the join
    /// found none (`{prefix}id` is null).
    pub(crate) fn from_prefixed(
        row: &sqlx::postgres::PgRow,
        prefix: &str,
    ) -> Result<Option<Self>, StoreError> {
        use sqlx::Row;
        let col = |name: &str| format!("{prefix}{name}");
        let Some(id) = row.try_get::<Option<i64>, _>(col("id").as_str())? else {
            return Ok(None);
        };
        Ok(Some(Self {
            id,
            survey: row.try_get("survey")?,
            object_id: row.try_get("object_id")?,
            source_id: row.try_get(col("source_id").as_str())?,
            model_name: row.try_get(col("model_name").as_str())?,
            model_version: row.try_get(col("model_version").as_str())?,
            probabilities: row.try_get(col("probabilities").as_str())?,
            top_level_probabilities: row.try_get(col("top_level_probabilities").as_str())?,
            predicted_class: row.try_get(col("predicted_class").as_str())?,
            probability: row.try_get(col("probability").as_str())?,
            uncertainty: row.try_get(col("uncertainty").as_str())?,
            anomaly_score: row.try_get(col("anomaly_score").as_str())?,
            created_at: row.try_get(col("created_at").as_str())?,
        }))
    }
}

impl TryFrom<ClassificationRow> for Classification {
    type Error = StoreError;

    fn try_from(r: ClassificationRow) -> Result<Self, StoreError> {
        let survey = survey(&r.survey)?;
        Ok(Classification {
            id: r.id,
            classification: NewClassification {
                survey,
                object_id: object_id(survey, &r.object_id)?,
                source_id: SourceId(r.source_id),
                model_name: r.model_name,
                model_version: r.model_version,
                probabilities: r.probabilities.0,
                top_level_probabilities: r.top_level_probabilities.0,
                predicted_class: r.predicted_class,
                probability: r.probability,
                uncertainty: r.uncertainty,
                anomaly_score: r.anomaly_score,
            },
            created_at: r.created_at,
        })
    }
}

/// Converts every row, failing on the first corrupt one.
pub(crate) fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}
