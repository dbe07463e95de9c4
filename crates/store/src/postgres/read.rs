//! Queries that only read.

use alert_model::{ObjectId, Survey};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

use super::rows::{
    ClassificationRow, DetectionRow, ForcedRow, ObjectRow, UpperLimitRow, convert, object_columns,
};
use crate::model::Cursor;
use crate::{
    Classification, LightCurve, ObjectSummary, SearchPage, SearchQuery, StoreError, StoreStats,
};

const OBJECT: &str = concat!(
    "SELECT ",
    object_columns!(),
    " FROM objects WHERE survey = $1 AND object_id = $2"
);

pub async fn object(
    pool: &PgPool,
    survey: Survey,
    object_id: &ObjectId,
) -> Result<Option<ObjectSummary>, StoreError> {
    let row: Option<ObjectRow> = sqlx::query_as(OBJECT)
        .bind(survey.as_str())
        .bind(object_id.as_str())
        .fetch_optional(pool)
        .await?;
    row.map(ObjectSummary::try_from).transpose()
}

const DETECTIONS: &str = "SELECT source_id, mjd, band, ra, dec, flux, flux_err, mag, mag_err, \
     real_bogus, deep_real_bogus, reliability, n_bad_pixels, fwhm, zero_point, program_id, snr, \
     flagged FROM detections WHERE survey = $1 AND object_id = $2 ORDER BY mjd, source_id";
const FORCED: &str = "SELECT source_id, mjd, band, flux, flux_err, status FROM forced_photometry \
     WHERE survey = $1 AND object_id = $2 ORDER BY mjd, band, source_id";
const UPPER_LIMITS: &str = "SELECT mjd, band, limiting_mag FROM upper_limits \
     WHERE survey = $1 AND object_id = $2 ORDER BY mjd, band";
const EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM objects WHERE survey = $1 AND object_id = $2)";

pub async fn light_curve(
    pool: &PgPool,
    survey: Survey,
    object_id: &ObjectId,
) -> Result<Option<LightCurve>, StoreError> {
    // One snapshot for the three lists, so a concurrent alert appears whole or not at all.
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    let (s, o) = (survey.as_str(), object_id.as_str());
    let detections: Vec<DetectionRow> = sqlx::query_as(DETECTIONS)
        .bind(s)
        .bind(o)
        .fetch_all(&mut *tx)
        .await?;
    if detections.is_empty() {
        let exists: bool = sqlx::query_scalar(EXISTS)
            .bind(s)
            .bind(o)
            .fetch_one(&mut *tx)
            .await?;
        if !exists {
            tx.commit().await?;
            return Ok(None);
        }
    }
    let forced: Vec<ForcedRow> = sqlx::query_as(FORCED)
        .bind(s)
        .bind(o)
        .fetch_all(&mut *tx)
        .await?;
    let limits: Vec<UpperLimitRow> = sqlx::query_as(UPPER_LIMITS)
        .bind(s)
        .bind(o)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(LightCurve {
        survey,
        object_id: object_id.clone(),
        detections: convert(detections)?,
        forced_photometry: convert(forced)?,
        upper_limits: convert(limits)?,
    }))
}

const CLASSIFICATIONS: &str = "SELECT id, survey, object_id, source_id, model_name, \
     model_version, probabilities, top_level_probabilities, predicted_class, probability, \
     uncertainty, anomaly_score, created_at FROM classifications \
     WHERE survey = $1 AND object_id = $2 ORDER BY created_at DESC, id DESC";

pub async fn classifications(
    pool: &PgPool,
    survey: Survey,
    object_id: &ObjectId,
) -> Result<Vec<Classification>, StoreError> {
    let rows: Vec<ClassificationRow> = sqlx::query_as(CLASSIFICATIONS)
        .bind(survey.as_str())
        .bind(object_id.as_str())
        .fetch_all(pool)
        .await?;
    convert(rows)
}

// Each optional filter is `$n IS NULL OR …`, so one prepared statement serves every query shape.
// The keyset condition continues strictly after the cursor in (last_mjd DESC, survey, object_id).
const SEARCH: &str = concat!(
    "SELECT ",
    object_columns!(),
    " FROM objects
     WHERE ($1::text IS NULL OR survey = $1)
       AND ($2::text IS NULL OR latest_class = $2)
       AND ($3::float8 IS NULL OR latest_probability >= $3)
       AND ($4::float8 IS NULL OR latest_anomaly_score >= $4)
       AND ($5::float8 IS NULL OR last_mjd >= $5)
       AND ($6::float8 IS NULL OR last_mjd < $6
            OR (last_mjd = $6 AND (survey, object_id) > ($7::text, $8::text)))
     ORDER BY last_mjd DESC, survey, object_id
     LIMIT $9"
);

pub async fn search(pool: &PgPool, query: &SearchQuery) -> Result<SearchPage, StoreError> {
    let cursor = query.cursor.as_deref().map(Cursor::decode).transpose()?;
    let limit = query.page_size();
    // One row more than the page tells whether another page exists.
    let rows: Vec<ObjectRow> = sqlx::query_as(SEARCH)
        .bind(query.survey.map(|s| s.as_str()))
        .bind(query.class.as_deref())
        .bind(query.min_probability)
        .bind(query.min_anomaly_score)
        .bind(query.since_mjd)
        .bind(cursor.as_ref().map(|c| c.last_mjd))
        .bind(cursor.as_ref().map(|c| c.survey.as_str()))
        .bind(cursor.as_ref().map(|c| c.object_id.as_str()))
        .bind(i64::from(limit) + 1)
        .fetch_all(pool)
        .await?;
    let mut objects: Vec<ObjectSummary> = convert(rows)?;
    let more = objects.len() > limit as usize;
    objects.truncate(limit as usize);
    let next_cursor = more
        .then(|| objects.last().map(|o| Cursor::after(o).encode()))
        .flatten();
    Ok(SearchPage {
        objects,
        next_cursor,
    })
}

const TOP_ANOMALIES: &str = concat!(
    "SELECT ",
    object_columns!(),
    " FROM objects WHERE latest_anomaly_score IS NOT NULL
     ORDER BY latest_anomaly_score DESC, survey, object_id LIMIT $1"
);

pub async fn top_anomalies(pool: &PgPool, limit: u32) -> Result<Vec<ObjectSummary>, StoreError> {
    let rows: Vec<ObjectRow> = sqlx::query_as(TOP_ANOMALIES)
        .bind(i64::from(limit.min(crate::MAX_SEARCH_LIMIT)))
        .fetch_all(pool)
        .await?;
    convert(rows)
}

/// Readiness: the server answers and every migration this build knows has been applied.
pub async fn check_schema(pool: &PgPool, migrator: &Migrator) -> Result<(), StoreError> {
    let applied: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?;
    let needed = migrator.iter().map(|m| m.version).max();
    match (applied, needed) {
        (_, None) => Ok(()),
        (Some(have), Some(want)) if have >= want => Ok(()),
        (have, Some(want)) => Err(StoreError::NotMigrated {
            detail: format!(
                "schema version {} but this build needs {want}",
                have.map_or_else(|| "none".to_owned(), |v| v.to_string())
            ),
        }),
    }
}

const STATS: &str = "SELECT
    (SELECT count(*) FROM objects),
    (SELECT count(*) FROM detections),
    (SELECT count(*) FROM forced_photometry),
    (SELECT count(*) FROM upper_limits),
    (SELECT count(*) FROM classifications),
    (SELECT sum(pg_total_relation_size(t))::bigint FROM unnest(ARRAY['objects', 'detections',
        'forced_photometry', 'upper_limits', 'classifications']::regclass[]) AS t)";

pub async fn stats(pool: &PgPool) -> Result<StoreStats, StoreError> {
    let (objects, detections, forced, limits, classifications, bytes): (
        i64,
        i64,
        i64,
        i64,
        i64,
        Option<i64>,
    ) = sqlx::query_as(STATS).fetch_one(pool).await?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(StoreStats {
        objects: n(objects),
        detections: n(detections),
        forced_photometry: n(forced),
        upper_limits: n(limits),
        classifications: n(classifications),
        total_bytes: bytes.map(n),
    })
}
