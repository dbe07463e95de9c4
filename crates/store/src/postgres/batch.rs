//! Batched reads and writes for the stream: one round trip per batch of objects, not per alert.

use std::collections::BTreeMap;

use alert_model::{ObjectId, Survey};
use sqlx::{FromRow, PgPool, Row};

use super::rows::{DetectionRow, ForcedRow, UpperLimitRow};
use crate::{LightCurve, NewClassification, StoreError};

/// Measurements of many objects, keyed by the (survey, object id) pairs passed as two arrays.
const DETECTIONS: &str = "SELECT d.survey, d.object_id, source_id, mjd, band, ra, dec, flux, \
     flux_err, mag, mag_err, real_bogus, deep_real_bogus, reliability, n_bad_pixels, fwhm, \
     zero_point, program_id, snr, flagged \
     FROM detections d JOIN UNNEST($1::text[], $2::text[]) AS k(survey, object_id) \
     ON d.survey = k.survey AND d.object_id = k.object_id \
     ORDER BY d.survey, d.object_id, mjd, source_id";
const FORCED: &str = "SELECT f.survey, f.object_id, source_id, mjd, band, flux, flux_err, status \
     FROM forced_photometry f JOIN UNNEST($1::text[], $2::text[]) AS k(survey, object_id) \
     ON f.survey = k.survey AND f.object_id = k.object_id \
     ORDER BY f.survey, f.object_id, mjd, band, source_id";
const UPPER_LIMITS: &str = "SELECT u.survey, u.object_id, mjd, band, limiting_mag \
     FROM upper_limits u JOIN UNNEST($1::text[], $2::text[]) AS k(survey, object_id) \
     ON u.survey = k.survey AND u.object_id = k.object_id \
     ORDER BY u.survey, u.object_id, mjd, band";

type Key = (String, String);

fn key(row: &sqlx::postgres::PgRow) -> Result<Key, StoreError> {
    Ok((row.try_get("survey")?, row.try_get("object_id")?))
}

/// Light curves of the objects that exist, in one snapshot; missing objects are left out.
pub async fn light_curves(
    pool: &PgPool,
    objects: &[(Survey, ObjectId)],
) -> Result<Vec<LightCurve>, StoreError> {
    let surveys: Vec<&str> = objects.iter().map(|(s, _)| s.as_str()).collect();
    let ids: Vec<&str> = objects.iter().map(|(_, o)| o.as_str()).collect();
    let mut curves: BTreeMap<Key, LightCurve> = objects
        .iter()
        .map(|(s, o)| {
            (
                (s.as_str().to_owned(), o.as_str().to_owned()),
                LightCurve {
                    survey: *s,
                    object_id: o.clone(),
                    detections: Vec::new(),
                    forced_photometry: Vec::new(),
                    upper_limits: Vec::new(),
                },
            )
        })
        .collect();
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    for row in sqlx::query(DETECTIONS)
        .bind(&surveys)
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?
    {
        let k = key(&row)?;
        let detection = DetectionRow::from_row(&row)?.try_into()?;
        if let Some(c) = curves.get_mut(&k) {
            c.detections.push(detection);
        }
    }
    for row in sqlx::query(FORCED)
        .bind(&surveys)
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?
    {
        let k = key(&row)?;
        let point = ForcedRow::from_row(&row)?.try_into()?;
        if let Some(c) = curves.get_mut(&k) {
            c.forced_photometry.push(point);
        }
    }
    for row in sqlx::query(UPPER_LIMITS)
        .bind(&surveys)
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?
    {
        let k = key(&row)?;
        let limit = UpperLimitRow::from_row(&row)?.try_into()?;
        if let Some(c) = curves.get_mut(&k) {
            c.upper_limits.push(limit);
        }
    }
    tx.commit().await?;
    Ok(curves
        .into_values()
        .filter(|c| !c.detections.is_empty() || !c.forced_photometry.is_empty())
        .collect())
}

/// Inserts many classifications at once (replays insert nothing) and points each object's latest
/// columns at its last classification of the batch. Returns, per input, whether it was new.
const RECORD_CLASSIFICATIONS: &str = "WITH input AS (
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[],
             $6::text[], $7::text[], $8::text[], $9::float8[], $10::float8[], $11::float8[])
             WITH ORDINALITY AS t(survey, object_id, source_id, model_name, model_version,
                 probabilities, top_level_probabilities, predicted_class, probability,
                 uncertainty, anomaly_score, ord)
     ), ins AS (
         INSERT INTO classifications (survey, object_id, source_id, model_name, model_version,
             probabilities, top_level_probabilities, predicted_class, probability, uncertainty,
             anomaly_score)
         SELECT survey, object_id, source_id, model_name, model_version, probabilities::jsonb,
             top_level_probabilities::jsonb, predicted_class, probability, uncertainty,
             anomaly_score
         FROM input ORDER BY survey, object_id, ord
         ON CONFLICT (survey, object_id, source_id, model_name, model_version) DO NOTHING
         RETURNING survey, object_id, source_id, model_name, model_version, predicted_class,
             probability, anomaly_score, created_at
     ), latest AS (
         SELECT DISTINCT ON (ins.survey, ins.object_id) ins.*
         FROM ins JOIN input USING (survey, object_id, source_id, model_name, model_version)
         ORDER BY ins.survey, ins.object_id, input.ord DESC
     ), upd AS (
         UPDATE objects o SET latest_class = latest.predicted_class,
             latest_probability = latest.probability, latest_anomaly_score = latest.anomaly_score,
             latest_model_name = latest.model_name, latest_model_version = latest.model_version,
             classified_at = latest.created_at, updated_at = latest.created_at
         FROM latest WHERE o.survey = latest.survey AND o.object_id = latest.object_id
         RETURNING 1
     )
     SELECT input.ord, ins.source_id IS NOT NULL AS inserted
     FROM input LEFT JOIN ins USING (survey, object_id, source_id, model_name, model_version)
     ORDER BY input.ord";

pub async fn record_classifications(
    pool: &PgPool,
    batch: &[NewClassification],
) -> Result<Vec<bool>, StoreError> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let json = |m: &BTreeMap<String, f64>| serde_json::to_string(m).unwrap_or_else(|_| "{}".into());
    let rows = sqlx::query(RECORD_CLASSIFICATIONS)
        .bind(batch.iter().map(|c| c.survey.as_str()).collect::<Vec<_>>())
        .bind(
            batch
                .iter()
                .map(|c| c.object_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(batch.iter().map(|c| c.source_id.0).collect::<Vec<_>>())
        .bind(
            batch
                .iter()
                .map(|c| c.model_name.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            batch
                .iter()
                .map(|c| c.model_version.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            batch
                .iter()
                .map(|c| json(&c.probabilities))
                .collect::<Vec<_>>(),
        )
        .bind(
            batch
                .iter()
                .map(|c| json(&c.top_level_probabilities))
                .collect::<Vec<_>>(),
        )
        .bind(
            batch
                .iter()
                .map(|c| c.predicted_class.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(batch.iter().map(|c| c.probability).collect::<Vec<_>>())
        .bind(batch.iter().map(|c| c.uncertainty).collect::<Vec<_>>())
        .bind(batch.iter().map(|c| c.anomaly_score).collect::<Vec<_>>())
        .fetch_all(pool)
        .await;
    match rows {
        Ok(rows) => rows
            .iter()
            .map(|r| Ok(r.try_get::<bool, _>("inserted")?))
            .collect(),
        // 23503 foreign_key_violation: some object has no stored alert.
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("23503") => {
            Err(StoreError::Corrupt(format!(
                "classification of an object without stored alerts: {}",
                db.message()
            )))
        }
        Err(e) => Err(e.into()),
    }
}
