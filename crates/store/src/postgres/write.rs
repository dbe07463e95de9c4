//! Writes: batched alert upserts and classification records.
//!
//! Concurrency: two processes may write alerts of the same object at once (architecture.md,
//! "Scale"). Each batch first creates and then locks its object rows (`FOR UPDATE`, in sorted key
//! order, so two batches never wait on each other in a cycle), inserts measurements with
//! `ON CONFLICT DO NOTHING`, and updates the object's aggregates while still holding the lock:
//! by the rows this batch inserted (`RETURNING`) for an object that already had detections, by
//! recomputing from the measurement tables for a new object. Because every writer holds the row
//! lock from before its inserts until it commits, the rows a batch inserted are exactly what the
//! object gained since the row it locked, and no count can be lost.

use std::collections::{HashMap, HashSet};

use alert_model::{Alert, Band, Detection, ForcedPhotometry, ObjectId, Survey, UpperLimit};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};

use crate::{NewClassification, StoreError, UpsertOutcome};

type ObjectKey<'a> = (Survey, &'a ObjectId);

fn sort_key<'a>((survey, id): &ObjectKey<'a>) -> (&'static str, &'a str) {
    // Byte order of the text, as the `COLLATE "C"` columns order it in Postgres.
    (survey.as_str(), id.as_str())
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum ForcedKey<'a> {
    Source(Survey, i64),
    Epoch(Survey, &'a str, u64, Band),
}

/// The rows a batch writes, each measurement once (the first alert carrying it owns it), every
/// list sorted by its unique key.
struct Plan<'a> {
    /// Distinct objects with the detection that gives their provisional position and what the
    /// object row would hold if the object is new (every planned row of the object inserted).
    objects: Vec<(ObjectKey<'a>, &'a Detection, Delta)>,
    detections: Vec<(usize, ObjectKey<'a>, &'a Detection)>,
    forced: Vec<(usize, ObjectKey<'a>, &'a ForcedPhotometry)>,
    limits: Vec<(usize, ObjectKey<'a>, &'a UpperLimit)>,
}

impl<'a> Plan<'a> {
    fn new(alerts: &'a [Alert]) -> Self {
        let mut objects: HashMap<ObjectKey<'a>, &'a Detection> = HashMap::new();
        let mut seen_det = HashSet::new();
        let mut seen_forced = HashSet::new();
        let mut seen_limits = HashSet::new();
        let mut plan = Plan {
            objects: Vec::new(),
            detections: Vec::new(),
            forced: Vec::new(),
            limits: Vec::new(),
        };
        for (i, alert) in alerts.iter().enumerate() {
            let key = (alert.survey, &alert.object_id);
            objects.entry(key).or_insert(&alert.candidate);
            for d in alert.detections() {
                if seen_det.insert((alert.survey, d.source_id.0)) {
                    plan.detections.push((i, key, d));
                }
            }
            for f in &alert.forced_photometry {
                if seen_forced.insert(forced_key(key, f)) {
                    plan.forced.push((i, key, f));
                }
            }
            for u in &alert.upper_limits {
                if seen_limits.insert((key, u.mjd.0.to_bits(), u.band)) {
                    plan.limits.push((i, key, u));
                }
            }
        }
        let mut planned: HashMap<ObjectKey<'a>, Delta> = HashMap::new();
        for (_, key, d) in &plan.detections {
            planned.entry(*key).or_default().add_detection(d);
        }
        for (_, key, _) in &plan.forced {
            planned.entry(*key).or_default().forced += 1;
        }
        for (_, key, _) in &plan.limits {
            planned.entry(*key).or_default().limits += 1;
        }
        plan.objects = objects
            .into_iter()
            .map(|(key, d)| (key, d, planned.remove(&key).unwrap_or_default()))
            .collect();
        plan.objects
            .sort_by(|a, b| sort_key(&a.0).cmp(&sort_key(&b.0)));
        plan.detections
            .sort_by_key(|(_, (s, _), d)| (s.as_str(), d.source_id.0));
        plan.forced.sort_by(|a, b| {
            sort_key(&a.1)
                .cmp(&sort_key(&b.1))
                .then(a.2.mjd.0.total_cmp(&b.2.mjd.0))
        });
        plan.limits.sort_by(|a, b| {
            sort_key(&a.1)
                .cmp(&sort_key(&b.1))
                .then(a.2.mjd.0.total_cmp(&b.2.mjd.0))
        });
        plan
    }
}

fn forced_key<'a>((survey, id): ObjectKey<'a>, f: &ForcedPhotometry) -> ForcedKey<'a> {
    match f.source_id {
        Some(s) => ForcedKey::Source(survey, s.0),
        None => ForcedKey::Epoch(survey, id.as_str(), f.mjd.0.to_bits(), f.band),
    }
}

/// The survey column of object keys, for `UNNEST` binds.
fn surveys(objects: &[ObjectKey<'_>]) -> Vec<&'static str> {
    objects.iter().map(|(s, _)| s.as_str()).collect()
}

/// The object-id column of object keys, for `UNNEST` binds.
fn object_ids<'a>(objects: &[ObjectKey<'a>]) -> Vec<&'a str> {
    objects.iter().map(|(_, id)| id.as_str()).collect()
}

fn survey_of(text: &str) -> Result<Survey, StoreError> {
    text.parse()
        .map_err(|e: String| StoreError::Corrupt(format!("survey returned by insert: {e}")))
}

fn band_of(text: &str) -> Result<Band, StoreError> {
    Band::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("band returned by insert: {text:?}")))
}

pub async fn upsert_alerts(
    pool: &PgPool,
    alerts: &[Alert],
) -> Result<Vec<UpsertOutcome>, StoreError> {
    if alerts.is_empty() {
        return Ok(Vec::new());
    }
    let mut plan = Plan::new(alerts);
    let mut counts = vec![(0u32, 0u32, 0u32); alerts.len()];
    let mut tx = pool.begin().await?;
    let (locked, created) = lock_objects(&mut tx, &plan).await?;
    // A live stream re-sends most of an object's history with every alert: leave out what is
    // already stored (one index-only probe per row, two narrow arrays) before the wide inserts.
    // Rows stored meanwhile by another writer are still caught by `ON CONFLICT DO NOTHING`.
    // Objects this batch created have nothing stored: their rows are not probed.
    skip_stored(&mut tx, &mut plan, &created).await?;
    let mut deltas: HashMap<ObjectKey<'_>, Delta> = HashMap::new();

    let owners: HashMap<(Survey, i64), (usize, &Detection)> = plan
        .detections
        .iter()
        .map(|(i, (s, _), d)| ((*s, d.source_id.0), (*i, *d)))
        .collect();
    let inserted = insert_detections(&mut tx, &plan).await?;
    for (survey, source_id) in inserted {
        if let Some(&(i, d)) = owners.get(&(survey_of(&survey)?, source_id)) {
            counts[i].0 += 1;
            deltas
                .entry((alerts[i].survey, &alerts[i].object_id))
                .or_default()
                .add_detection(d);
        }
    }

    let owners: HashMap<ForcedKey<'_>, usize> = plan
        .forced
        .iter()
        .map(|(i, key, f)| (forced_key(*key, f), *i))
        .collect();
    for (survey, object_id, source_id, mjd, band) in insert_forced(&mut tx, &plan).await? {
        let survey = survey_of(&survey)?;
        let key = match source_id {
            Some(s) => ForcedKey::Source(survey, s),
            None => ForcedKey::Epoch(survey, &object_id, mjd.to_bits(), band_of(&band)?),
        };
        if let Some(&i) = owners.get(&key) {
            counts[i].1 += 1;
            deltas
                .entry((alerts[i].survey, &alerts[i].object_id))
                .or_default()
                .forced += 1;
        }
    }

    let owners: HashMap<(Survey, &str, u64, Band), usize> = plan
        .limits
        .iter()
        .map(|(i, (s, id), u)| ((*s, id.as_str(), u.mjd.0.to_bits(), u.band), *i))
        .collect();
    for (survey, object_id, mjd, band) in insert_limits(&mut tx, &plan).await? {
        let key = (
            survey_of(&survey)?,
            object_id.as_str(),
            mjd.to_bits(),
            band_of(&band)?,
        );
        if let Some(&i) = owners.get(&key) {
            counts[i].2 += 1;
            deltas
                .entry((alerts[i].survey, &alerts[i].object_id))
                .or_default()
                .limits += 1;
        }
    }

    // Only objects that gained rows change, so a replay leaves the object row as it was. An
    // object row we hold locked can take the new rows as increments (every writer locks it
    // before inserting, so no other rows can have arrived); a new object, or one whose latest
    // epoch gains another detection (the position tie is broken by source id, which the row does
    // not keep), is recomputed from its measurements instead.
    //
    // An object this batch created was inserted with the aggregates of all its planned rows; it
    // is final when every one of them was inserted (else some row was already stored under
    // another object's id — bad input — and the object is recomputed from the tables).
    let mut recompute: Vec<ObjectKey<'_>> = Vec::new();
    let mut increments: Vec<(ObjectKey<'_>, Delta)> = Vec::new();
    let planned: HashMap<ObjectKey<'_>, &Delta> =
        plan.objects.iter().map(|(key, _, p)| (*key, p)).collect();
    for (key, _, _) in &plan.objects {
        if created.contains(key) && !deltas.contains_key(key) {
            recompute.push(*key);
        }
    }
    for (key, delta) in deltas {
        if created.contains(&key) {
            if planned.get(&key).is_none_or(|p| !p.same_counts(&delta)) {
                recompute.push(key);
            }
            continue;
        }
        let stored = locked.get(&(key.0, key.1.as_str().to_owned()));
        match stored {
            Some(&(n, last)) if n > 0 && delta.last.is_none_or(|l| l.mjd != last) => {
                increments.push((key, delta));
            }
            _ => recompute.push(key),
        }
    }
    recompute.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    increments.sort_by(|a, b| sort_key(&a.0).cmp(&sort_key(&b.0)));
    refresh_objects(&mut tx, &recompute).await?;
    increment_objects(&mut tx, &increments).await?;
    tx.commit().await?;
    Ok(counts
        .into_iter()
        .map(|(d, f, u)| UpsertOutcome::new(d, f, u))
        .collect())
}

/// The latest of an object's new detections: by MJD, then source id.
#[derive(Clone, Copy)]
struct Latest {
    mjd: f64,
    source_id: i64,
    ra: f64,
    dec: f64,
}

/// What an object gains from one batch.
#[derive(Default, Clone)]
struct Delta {
    detections: i32,
    per_band: [i32; 6],
    first_mjd: Option<f64>,
    last: Option<Latest>,
    forced: i32,
    limits: i32,
}

impl Delta {
    fn same_counts(&self, other: &Delta) -> bool {
        self.detections == other.detections
            && self.forced == other.forced
            && self.limits == other.limits
    }

    fn add_detection(&mut self, d: &Detection) {
        self.detections += 1;
        self.per_band[band_slot(d.band)] += 1;
        self.first_mjd = Some(self.first_mjd.map_or(d.mjd.0, |m| m.min(d.mjd.0)));
        let newer = self.last.is_none_or(|l| {
            d.mjd
                .0
                .total_cmp(&l.mjd)
                .then(d.source_id.0.cmp(&l.source_id))
                == std::cmp::Ordering::Greater
        });
        if newer {
            self.last = Some(Latest {
                mjd: d.mjd.0,
                source_id: d.source_id.0,
                ra: d.ra,
                dec: d.dec,
            });
        }
    }
}

/// Index of a band in the objects table's per-band detection counts (u g r i z y).
pub(crate) fn band_slot(band: Band) -> usize {
    match band {
        Band::U => 0,
        Band::G => 1,
        Band::R => 2,
        Band::I => 3,
        Band::Z => 4,
        Band::Y => 5,
    }
}

const KNOWN_DETECTIONS: &str = "SELECT d.survey, d.source_id FROM detections d
     JOIN UNNEST($1::text[], $2::int8[]) AS k(survey, source_id)
       ON d.survey = k.survey AND d.source_id = k.source_id";
const KNOWN_LIMITS: &str = "SELECT u.survey, u.object_id, u.mjd, u.band FROM upper_limits u
     JOIN UNNEST($1::text[], $2::text[]) AS k(survey, object_id)
       ON u.survey = k.survey AND u.object_id = k.object_id";

/// Drops from the plan the detections and upper limits that are already stored.
async fn skip_stored(
    tx: &mut Transaction<'_, Postgres>,
    plan: &mut Plan<'_>,
    created: &HashSet<ObjectKey<'_>>,
) -> Result<(), StoreError> {
    let probed: Vec<_> = plan
        .detections
        .iter()
        .filter(|(_, key, _)| !created.contains(key))
        .collect();
    if !probed.is_empty() {
        let rows: Vec<(String, i64)> = sqlx::query_as(KNOWN_DETECTIONS)
            .bind(
                probed
                    .iter()
                    .map(|(_, (s, _), _)| s.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                probed
                    .iter()
                    .map(|(_, _, d)| d.source_id.0)
                    .collect::<Vec<_>>(),
            )
            .fetch_all(&mut **tx)
            .await?;
        let known: HashSet<(String, i64)> = rows.into_iter().collect();
        plan.detections
            .retain(|(_, (s, _), d)| !known.contains(&(s.as_str().to_owned(), d.source_id.0)));
    }
    let mut objects: Vec<ObjectKey<'_>> = plan
        .limits
        .iter()
        .map(|(_, k, _)| *k)
        .filter(|k| !created.contains(k))
        .collect();
    objects.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    objects.dedup();
    if !objects.is_empty() {
        let rows: Vec<(String, String, f64, String)> = sqlx::query_as(KNOWN_LIMITS)
            .bind(surveys(&objects))
            .bind(object_ids(&objects))
            .fetch_all(&mut **tx)
            .await?;
        let known: HashSet<(String, String, u64, String)> = rows
            .into_iter()
            .map(|(s, o, m, b)| (s, o, m.to_bits(), b))
            .collect();
        plan.limits.retain(|(_, (s, id), u)| {
            !known.contains(&(
                s.as_str().to_owned(),
                id.as_str().to_owned(),
                u.mjd.0.to_bits(),
                u.band.as_str().to_owned(),
            ))
        });
    }
    Ok(())
}

// A new object's row is inserted with the aggregates of the batch's rows for it; an existing one
// conflicts and is left as it is until it is locked and incremented.
const INSERT_OBJECTS: &str = "INSERT INTO objects (survey, object_id, ra, dec, first_mjd, last_mjd,
         n_detections, n_det_u, n_det_g, n_det_r, n_det_i, n_det_z, n_det_y,
         n_forced_photometry, n_upper_limits)
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::float8[], $4::float8[], $5::float8[],
         $6::float8[], $7::int4[], $8::int4[], $9::int4[], $10::int4[], $11::int4[], $12::int4[],
         $13::int4[], $14::int4[], $15::int4[])
     ON CONFLICT DO NOTHING
     RETURNING survey, object_id";
const LOCK_OBJECTS: &str = "SELECT o.survey, o.object_id, o.n_detections, o.last_mjd FROM objects o
     JOIN UNNEST($1::text[], $2::text[]) AS t(survey, object_id)
       ON o.survey = t.survey AND o.object_id = t.object_id
     ORDER BY o.survey, o.object_id FOR UPDATE OF o";

/// Object rows as locked: (survey, object id) → (detections, last MJD).
type Locked = HashMap<(Survey, String), (i32, f64)>;

/// Creates the batch's new objects and locks every object row of the batch; returns the locked
/// rows and the objects this transaction created.
async fn lock_objects<'a>(
    tx: &mut Transaction<'_, Postgres>,
    plan: &Plan<'a>,
) -> Result<(Locked, HashSet<ObjectKey<'a>>), StoreError> {
    let n = plan.objects.len();
    let (mut surveys, mut ids) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut ras, mut decs) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut firsts, mut lasts) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut counts: [Vec<i32>; 9] = Default::default();
    for ((survey, id), candidate, p) in &plan.objects {
        surveys.push(survey.as_str());
        ids.push(id.as_str());
        // The latest planned detection gives the position; the candidate stands in when every
        // detection of the object was deduplicated into another object's rows.
        let last = p.last.unwrap_or(Latest {
            mjd: candidate.mjd.0,
            source_id: candidate.source_id.0,
            ra: candidate.ra,
            dec: candidate.dec,
        });
        ras.push(last.ra);
        decs.push(last.dec);
        firsts.push(p.first_mjd.unwrap_or(last.mjd));
        lasts.push(last.mjd);
        counts[0].push(p.detections);
        for (slot, n) in p.per_band.iter().enumerate() {
            counts[1 + slot].push(*n);
        }
        counts[7].push(p.forced);
        counts[8].push(p.limits);
    }
    let mut insert = sqlx::query_as::<_, (String, String)>(INSERT_OBJECTS)
        .bind(&surveys)
        .bind(&ids)
        .bind(&ras)
        .bind(&decs)
        .bind(&firsts)
        .bind(&lasts);
    for column in &counts {
        insert = insert.bind(column);
    }
    let inserted = insert.fetch_all(&mut **tx).await?;
    let inserted: HashSet<(String, String)> = inserted.into_iter().collect();
    let created = plan
        .objects
        .iter()
        .map(|(key, _, _)| *key)
        .filter(|(s, id)| inserted.contains(&(s.as_str().to_owned(), id.as_str().to_owned())))
        .collect();
    let rows: Vec<(String, String, i32, f64)> = sqlx::query_as(LOCK_OBJECTS)
        .bind(&surveys)
        .bind(&ids)
        .fetch_all(&mut **tx)
        .await?;
    let locked = rows
        .into_iter()
        .map(|(s, o, n, last)| Ok(((survey_of(&s)?, o), (n, last))))
        .collect::<Result<Locked, StoreError>>()?;
    Ok((locked, created))
}

const INSERT_DETECTIONS: &str = "INSERT INTO detections (survey, source_id, object_id, mjd, band,
         ra, dec, flux, flux_err, mag, mag_err, real_bogus, deep_real_bogus, reliability,
         n_bad_pixels, fwhm, zero_point, program_id, snr, flagged)
     SELECT * FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::float8[], $5::text[],
         $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::float8[],
         $12::float8[], $13::float8[], $14::float8[], $15::int8[], $16::float8[], $17::float8[],
         $18::int8[], $19::float8[], $20::bool[])
     ON CONFLICT (survey, source_id) DO NOTHING
     RETURNING survey, source_id";

async fn insert_detections(
    tx: &mut Transaction<'_, Postgres>,
    plan: &Plan<'_>,
) -> Result<Vec<(String, i64)>, StoreError> {
    if plan.detections.is_empty() {
        return Ok(Vec::new());
    }
    let rows = &plan.detections;
    let col = |f: fn(&Detection) -> f64| rows.iter().map(|(_, _, d)| f(d)).collect::<Vec<f64>>();
    let opt = |f: fn(&Detection) -> Option<f64>| {
        rows.iter()
            .map(|(_, _, d)| f(d))
            .collect::<Vec<Option<f64>>>()
    };
    let opt_int = |f: fn(&Detection) -> Option<i64>| {
        rows.iter()
            .map(|(_, _, d)| f(d))
            .collect::<Vec<Option<i64>>>()
    };
    let returned: Vec<(String, i64)> = sqlx::query_as(INSERT_DETECTIONS)
        .bind(
            rows.iter()
                .map(|(_, (s, _), _)| s.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, _, d)| d.source_id.0)
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, (_, id), _)| id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(col(|d| d.mjd.0))
        .bind(
            rows.iter()
                .map(|(_, _, d)| d.band.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(col(|d| d.ra))
        .bind(col(|d| d.dec))
        .bind(col(|d| d.flux.0))
        .bind(col(|d| d.flux_err.0))
        .bind(opt(|d| d.mag.map(|m| m.mag)))
        .bind(opt(|d| d.mag.map(|m| m.err)))
        .bind(opt(|d| d.quality.real_bogus))
        .bind(opt(|d| d.quality.deep_real_bogus))
        .bind(opt(|d| d.quality.reliability))
        .bind(opt_int(|d| d.quality.n_bad_pixels))
        .bind(opt(|d| d.quality.fwhm))
        .bind(opt(|d| d.quality.zero_point))
        .bind(opt_int(|d| d.quality.program_id))
        .bind(opt(|d| d.quality.snr))
        .bind(
            rows.iter()
                .map(|(_, _, d)| d.quality.flagged)
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut **tx)
        .await?;
    Ok(returned)
}

// No conflict target: either partial unique index (by source id, or by epoch when there is no
// id) makes a point a duplicate.
const INSERT_FORCED: &str = "INSERT INTO forced_photometry (survey, object_id, source_id, mjd,
         band, flux, flux_err, status)
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::float8[], $5::text[],
         $6::float8[], $7::float8[], $8::text[])
     ON CONFLICT DO NOTHING
     RETURNING survey, object_id, source_id, mjd, band";

type ForcedReturn = (String, String, Option<i64>, f64, String);

async fn insert_forced(
    tx: &mut Transaction<'_, Postgres>,
    plan: &Plan<'_>,
) -> Result<Vec<ForcedReturn>, StoreError> {
    if plan.forced.is_empty() {
        return Ok(Vec::new());
    }
    let rows = &plan.forced;
    let returned: Vec<ForcedReturn> = sqlx::query_as(INSERT_FORCED)
        .bind(
            rows.iter()
                .map(|(_, (s, _), _)| s.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, (_, id), _)| id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, _, f)| f.source_id.map(|s| s.0))
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|(_, _, f)| f.mjd.0).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|(_, _, f)| f.band.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|(_, _, f)| f.flux.0).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|(_, _, f)| f.flux_err.0)
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, _, f)| f.status.as_deref())
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut **tx)
        .await?;
    Ok(returned)
}

const INSERT_LIMITS: &str = "INSERT INTO upper_limits (survey, object_id, mjd, band, limiting_mag)
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::float8[], $4::text[], $5::float8[])
     ON CONFLICT DO NOTHING
     RETURNING survey, object_id, mjd, band";

async fn insert_limits(
    tx: &mut Transaction<'_, Postgres>,
    plan: &Plan<'_>,
) -> Result<Vec<(String, String, f64, String)>, StoreError> {
    if plan.limits.is_empty() {
        return Ok(Vec::new());
    }
    let rows = &plan.limits;
    let returned = sqlx::query_as(INSERT_LIMITS)
        .bind(
            rows.iter()
                .map(|(_, (s, _), _)| s.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, (_, id), _)| id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|(_, _, u)| u.mjd.0).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|(_, _, u)| u.band.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, _, u)| u.limiting_mag)
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut **tx)
        .await?;
    Ok(returned)
}

// Aggregates come from the measurement tables, never from increments, so they are right whatever
// order concurrent writers committed in. The position is the latest detection's.
const REFRESH_OBJECTS: &str = "WITH touched AS (
         SELECT * FROM UNNEST($1::text[], $2::text[]) AS t(survey, object_id)
     ), det AS (
         SELECT d.survey, d.object_id, count(*)::int AS n,
             count(*) FILTER (WHERE d.band = 'u')::int AS nu,
             count(*) FILTER (WHERE d.band = 'g')::int AS ng,
             count(*) FILTER (WHERE d.band = 'r')::int AS nr,
             count(*) FILTER (WHERE d.band = 'i')::int AS ni,
             count(*) FILTER (WHERE d.band = 'z')::int AS nz,
             count(*) FILTER (WHERE d.band = 'y')::int AS ny,
             min(d.mjd) AS first_mjd, max(d.mjd) AS last_mjd,
             (array_agg(d.ra ORDER BY d.mjd DESC, d.source_id DESC))[1] AS ra,
             (array_agg(d.dec ORDER BY d.mjd DESC, d.source_id DESC))[1] AS dec
         FROM detections d JOIN touched t ON d.survey = t.survey AND d.object_id = t.object_id
         GROUP BY d.survey, d.object_id
     ), fp AS (
         SELECT f.survey, f.object_id, count(*)::int AS n
         FROM forced_photometry f JOIN touched t ON f.survey = t.survey AND f.object_id = t.object_id
         GROUP BY f.survey, f.object_id
     ), ul AS (
         SELECT u.survey, u.object_id, count(*)::int AS n
         FROM upper_limits u JOIN touched t ON u.survey = t.survey AND u.object_id = t.object_id
         GROUP BY u.survey, u.object_id
     )
     UPDATE objects o SET
         ra = coalesce(det.ra, o.ra), dec = coalesce(det.dec, o.dec),
         first_mjd = coalesce(det.first_mjd, o.first_mjd),
         last_mjd = coalesce(det.last_mjd, o.last_mjd),
         n_detections = coalesce(det.n, 0),
         n_det_u = coalesce(det.nu, 0), n_det_g = coalesce(det.ng, 0),
         n_det_r = coalesce(det.nr, 0), n_det_i = coalesce(det.ni, 0),
         n_det_z = coalesce(det.nz, 0), n_det_y = coalesce(det.ny, 0),
         n_forced_photometry = coalesce(fp.n, 0),
         n_upper_limits = coalesce(ul.n, 0),
         updated_at = now()
     FROM touched t
         LEFT JOIN det ON det.survey = t.survey AND det.object_id = t.object_id
         LEFT JOIN fp ON fp.survey = t.survey AND fp.object_id = t.object_id
         LEFT JOIN ul ON ul.survey = t.survey AND ul.object_id = t.object_id
     WHERE o.survey = t.survey AND o.object_id = t.object_id";

async fn refresh_objects(
    tx: &mut Transaction<'_, Postgres>,
    objects: &[ObjectKey<'_>],
) -> Result<(), StoreError> {
    if objects.is_empty() {
        return Ok(());
    }
    sqlx::query(REFRESH_OBJECTS)
        .bind(surveys(objects))
        .bind(object_ids(objects))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

// Increments under the row lock taken by `lock_objects`. SET expressions read the row as it was,
// so the position moves only when a detection newer than the stored last epoch arrived.
const INCREMENT_OBJECTS: &str = "UPDATE objects o SET
         n_detections = o.n_detections + t.n,
         n_det_u = o.n_det_u + t.nu, n_det_g = o.n_det_g + t.ng, n_det_r = o.n_det_r + t.nr,
         n_det_i = o.n_det_i + t.ni, n_det_z = o.n_det_z + t.nz, n_det_y = o.n_det_y + t.ny,
         first_mjd = least(o.first_mjd, t.first_mjd),
         last_mjd = greatest(o.last_mjd, t.last_mjd),
         ra = CASE WHEN t.last_mjd > o.last_mjd THEN t.ra ELSE o.ra END,
         dec = CASE WHEN t.last_mjd > o.last_mjd THEN t.dec ELSE o.dec END,
         n_forced_photometry = o.n_forced_photometry + t.nf,
         n_upper_limits = o.n_upper_limits + t.nl,
         updated_at = now()
     FROM UNNEST($1::text[], $2::text[], $3::int4[], $4::int4[], $5::int4[], $6::int4[],
         $7::int4[], $8::int4[], $9::int4[], $10::float8[], $11::float8[], $12::float8[],
         $13::float8[], $14::int4[], $15::int4[])
         AS t(survey, object_id, n, nu, ng, nr, ni, nz, ny, first_mjd, last_mjd, ra, dec, nf, nl)
     WHERE o.survey = t.survey AND o.object_id = t.object_id";

async fn increment_objects(
    tx: &mut Transaction<'_, Postgres>,
    objects: &[(ObjectKey<'_>, Delta)],
) -> Result<(), StoreError> {
    if objects.is_empty() {
        return Ok(());
    }
    let band = |b: usize| {
        objects
            .iter()
            .map(|(_, d)| d.per_band[b])
            .collect::<Vec<_>>()
    };
    let last = |f: fn(&Latest) -> f64| {
        objects
            .iter()
            .map(|(_, d)| d.last.as_ref().map(f))
            .collect::<Vec<_>>()
    };
    sqlx::query(INCREMENT_OBJECTS)
        .bind(
            objects
                .iter()
                .map(|((s, _), _)| s.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            objects
                .iter()
                .map(|((_, id), _)| id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            objects
                .iter()
                .map(|(_, d)| d.detections)
                .collect::<Vec<_>>(),
        )
        .bind(band(0))
        .bind(band(1))
        .bind(band(2))
        .bind(band(3))
        .bind(band(4))
        .bind(band(5))
        .bind(objects.iter().map(|(_, d)| d.first_mjd).collect::<Vec<_>>())
        .bind(last(|l| l.mjd))
        .bind(last(|l| l.ra))
        .bind(last(|l| l.dec))
        .bind(objects.iter().map(|(_, d)| d.forced).collect::<Vec<_>>())
        .bind(objects.iter().map(|(_, d)| d.limits).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

// The insert and the object's "latest" columns change together in one statement; a replay
// inserts nothing and so updates nothing.
const RECORD_CLASSIFICATION: &str = "WITH ins AS (
         INSERT INTO classifications (survey, object_id, source_id, model_name, model_version,
             probabilities, top_level_probabilities, predicted_class, probability, uncertainty,
             anomaly_score)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (survey, object_id, source_id, model_name, model_version) DO NOTHING
         RETURNING survey, object_id, predicted_class, probability, anomaly_score, model_name,
             model_version, created_at
     ), upd AS (
         UPDATE objects o SET latest_class = ins.predicted_class,
             latest_probability = ins.probability, latest_anomaly_score = ins.anomaly_score,
             latest_model_name = ins.model_name, latest_model_version = ins.model_version,
             classified_at = ins.created_at, updated_at = ins.created_at
         FROM ins WHERE o.survey = ins.survey AND o.object_id = ins.object_id
         RETURNING 1
     )
     SELECT count(*) FROM ins";

pub async fn record_classification(
    pool: &PgPool,
    c: &NewClassification,
) -> Result<bool, StoreError> {
    let result: Result<i64, sqlx::Error> = sqlx::query_scalar(RECORD_CLASSIFICATION)
        .bind(c.survey.as_str())
        .bind(c.object_id.as_str())
        .bind(c.source_id.0)
        .bind(&c.model_name)
        .bind(&c.model_version)
        .bind(Json(&c.probabilities))
        .bind(Json(&c.top_level_probabilities))
        .bind(&c.predicted_class)
        .bind(c.probability)
        .bind(c.uncertainty)
        .bind(c.anomaly_score)
        .fetch_one(pool)
        .await;
    match result {
        Ok(inserted) => Ok(inserted > 0),
        // 23503 foreign_key_violation: the object has no stored alert.
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("23503") => {
            Err(StoreError::UnknownObject {
                survey: c.survey,
                object_id: c.object_id.clone(),
            })
        }
        Err(e) => Err(e.into()),
    }
}
