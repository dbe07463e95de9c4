//! Queries that only read.

use alert_model::{ObjectId, Survey};
use sqlx::migrate::Migrator;
use sqlx::{FromRow, PgPool, Row};

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

// The object and its newest classification in one statement: the primary key finds the row, the
// classifications' unique index (survey, object_id, …) finds its few history entries.
const OBJECT_WITH_LATEST: &str = concat!(
    "SELECT ",
    object_columns!(),
    ", c.* FROM objects o LEFT JOIN LATERAL (
         SELECT id AS c_id, source_id AS c_source_id, model_name AS c_model_name,
             model_version AS c_model_version, probabilities AS c_probabilities,
             top_level_probabilities AS c_top_level_probabilities,
             predicted_class AS c_predicted_class, probability AS c_probability,
             uncertainty AS c_uncertainty, anomaly_score AS c_anomaly_score,
             created_at AS c_created_at
         FROM classifications c
         WHERE c.survey = o.survey AND c.object_id = o.object_id
         ORDER BY c.created_at DESC, c.id DESC LIMIT 1
     ) c ON true
     WHERE o.survey = $1 AND o.object_id = $2"
);

pub async fn object_with_latest(
    pool: &PgPool,
    survey: Survey,
    object_id: &ObjectId,
) -> Result<Option<(ObjectSummary, Option<Classification>)>, StoreError> {
    let Some(row) = sqlx::query(OBJECT_WITH_LATEST)
        .bind(survey.as_str())
        .bind(object_id.as_str())
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    let object = ObjectSummary::try_from(ObjectRow::from_row(&row)?)?;
    let latest = ClassificationRow::from_prefixed(&row, "c_")?
        .map(Classification::try_from)
        .transpose()?;
    Ok(Some((object, latest)))
}

// The whole light curve in one statement (one snapshot, one round trip): a row of kind 0 when
// the object exists, then its detections (1), forced photometry (2) and upper limits (3), each
// list in its own order — detections by (mjd, source_id), the others by (mjd, band, source_id).
const LIGHT_CURVE: &str = "SELECT 0 AS kind, NULL::int8 AS source_id, NULL::float8 AS mjd,
         NULL::text AS band, NULL::float8 AS ra, NULL::float8 AS dec, NULL::float8 AS flux,
         NULL::float8 AS flux_err, NULL::float8 AS mag, NULL::float8 AS mag_err,
         NULL::float8 AS real_bogus, NULL::float8 AS deep_real_bogus, NULL::float8 AS reliability,
         NULL::int8 AS n_bad_pixels, NULL::float8 AS fwhm, NULL::float8 AS zero_point,
         NULL::int8 AS program_id, NULL::float8 AS snr, NULL::bool AS flagged,
         NULL::text AS status, NULL::float8 AS limiting_mag, NULL::text AS band_order
     FROM objects WHERE survey = $1 AND object_id = $2
     UNION ALL
     SELECT 1, source_id, mjd, band, ra, dec, flux, flux_err, mag, mag_err, real_bogus,
         deep_real_bogus, reliability, n_bad_pixels, fwhm, zero_point, program_id, snr, flagged,
         NULL, NULL, ''
     FROM detections WHERE survey = $1 AND object_id = $2
     UNION ALL
     SELECT 2, source_id, mjd, band, NULL, NULL, flux, flux_err, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, status, NULL, band
     FROM forced_photometry WHERE survey = $1 AND object_id = $2
     UNION ALL
     SELECT 3, NULL, mjd, band, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, limiting_mag, band
     FROM upper_limits WHERE survey = $1 AND object_id = $2
     ORDER BY kind, mjd, band_order, source_id";

pub async fn light_curve(
    pool: &PgPool,
    survey: Survey,
    object_id: &ObjectId,
) -> Result<Option<LightCurve>, StoreError> {
    let rows = sqlx::query(LIGHT_CURVE)
        .bind(survey.as_str())
        .bind(object_id.as_str())
        .fetch_all(pool)
        .await?;
    let mut exists = false;
    let (mut detections, mut forced_photometry, mut upper_limits) =
        (Vec::new(), Vec::new(), Vec::new());
    for row in &rows {
        match row.try_get::<i32, _>("kind")? {
            0 => exists = true,
            1 => detections.push(DetectionRow::from_row(row)?.try_into()?),
            2 => forced_photometry.push(ForcedRow::from_row(row)?.try_into()?),
            3 => upper_limits.push(UpperLimitRow::from_row(row)?.try_into()?),
            other => {
                return Err(StoreError::Corrupt(format!(
                    "light curve row of unknown kind {other}"
                )));
            }
        }
    }
    if !exists {
        return Ok(None);
    }
    Ok(Some(LightCurve {
        survey,
        object_id: object_id.clone(),
        detections,
        forced_photometry,
        upper_limits,
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
