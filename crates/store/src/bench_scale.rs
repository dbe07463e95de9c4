//! The store benchmark at scale (issue 3): a Postgres store holding 1,000,000 generated objects,
//! measured for `light_curve` latency, size on disk and write throughput while it is that full.
//!
//! The store is filled once with `COPY` (the bulk path; every row is what `upsert_alerts` would
//! have written for the object's one 30-detection alert, aggregates included) and kept, so later
//! runs reuse it: a run loads only the objects that are missing. Each run then writes two kinds
//! of alerts through the normal `upsert_alerts` path, with several concurrent writers:
//!
//! * steady state: alerts of objects already stored, each carrying the object's last 30
//!   detections of which 29 are stored and 1 is new (what the live stream does);
//! * new objects: alerts of objects never seen, 30 new detections and 3 upper limits each.
//!
//! Every run grows the store a little (one detection per steady-state alert, the new objects).

use std::fmt;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use alert_model::{Alert, Survey};
use serde::Serialize;
use sqlx::PgPool;

use crate::bench::{BenchConfig, Generator, SplitMix64, percentile};
use crate::postgres::write::band_slot;
use crate::{PgStore, StateStore, StoreError};

/// What to load and measure.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleConfig {
    /// Objects the store must hold before measuring (loaded by `COPY` when missing).
    pub objects: usize,
    /// Alerts written in each write phase (steady state, new objects).
    pub write_alerts: usize,
    /// Alerts per `upsert_alerts` call.
    pub batch_size: usize,
    /// Concurrent writer tasks (the consumer runs one per partition).
    pub writers: usize,
    /// `light_curve` calls timed on random stored objects.
    pub light_curve_samples: usize,
    /// Also load one classification per object (and its latest columns), as the stream would.
    pub classify: bool,
    /// Objects per `COPY` transaction while loading, and parallel loaders.
    pub load_chunk: usize,
    pub load_streams: usize,
    pub seed: u64,
}

impl Default for ScaleConfig {
    fn default() -> Self {
        Self {
            objects: 1_000_000,
            write_alerts: 50_000,
            batch_size: 500,
            writers: 4,
            light_curve_samples: 5_000,
            classify: true,
            load_chunk: 5_000,
            load_streams: 2,
            seed: 1,
        }
    }
}

/// One write phase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WritePhase {
    pub alerts: u64,
    pub detections_sent: u64,
    pub new_detections: u64,
    pub seconds: f64,
    pub alerts_per_second: f64,
    /// Time of one `upsert_alerts` call.
    pub batch_p50: Duration,
    pub batch_p99: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaleReport {
    pub objects_loaded: usize,
    pub load_seconds: f64,
    pub objects_in_store: u64,
    pub detections_in_store: u64,
    pub total_bytes: u64,
    pub bytes_per_million_detections: f64,
    pub table_bytes: Vec<(String, u64)>,
    pub light_curve_samples: usize,
    pub light_curve_p50: Duration,
    pub light_curve_p99: Duration,
    pub writers: usize,
    pub batch_size: usize,
    pub steady_state: WritePhase,
    pub new_objects: WritePhase,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl fmt::Display for WritePhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} alerts ({} detections sent, {} new) in {:.1} s: {:.0} alerts/s; \
             upsert_alerts p50 {:.1} ms, p99 {:.1} ms",
            self.alerts,
            self.detections_sent,
            self.new_detections,
            self.seconds,
            self.alerts_per_second,
            ms(self.batch_p50),
            ms(self.batch_p99)
        )
    }
}

impl fmt::Display for ScaleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "store at scale (postgres): {} objects, {} detections",
            self.objects_in_store, self.detections_in_store
        )?;
        if self.objects_loaded > 0 {
            writeln!(
                f,
                "  bulk load:    {} objects in {:.0} s (COPY)",
                self.objects_loaded, self.load_seconds
            )?;
        }
        writeln!(
            f,
            "  size:         {:.2} GiB, {:.0} MiB per million detections",
            self.total_bytes as f64 / (1u64 << 30) as f64,
            self.bytes_per_million_detections / 1_048_576.0
        )?;
        for (table, bytes) in &self.table_bytes {
            writeln!(
                f,
                "    {table:<18} {:>8.0} MiB",
                *bytes as f64 / 1_048_576.0
            )?;
        }
        writeln!(
            f,
            "  light_curve:  p50 {:.3} ms, p99 {:.3} ms ({} random objects)",
            ms(self.light_curve_p50),
            ms(self.light_curve_p99),
            self.light_curve_samples
        )?;
        writeln!(
            f,
            "  writes ({} writers, batches of {}):",
            self.writers, self.batch_size
        )?;
        writeln!(f, "    steady state: {}", self.steady_state)?;
        write!(f, "    new objects:  {}", self.new_objects)
    }
}

/// Loads what is missing, then measures. The database must hold only this benchmark's objects.
pub async fn run(store: &PgStore, config: &ScaleConfig) -> Result<ScaleReport, StoreError> {
    let generator = Arc::new(Generator::new(&BenchConfig {
        seed: config.seed,
        ..BenchConfig::default()
    }));
    let stored = stored_objects(store.pool(), &generator).await?;
    let mut load_seconds = 0.0;
    let mut objects_loaded = 0;
    if stored < config.objects {
        let started = Instant::now();
        bulk_load(store.pool(), &generator, stored..config.objects, config).await?;
        load_seconds = started.elapsed().as_secs_f64();
        objects_loaded = config.objects - stored;
    }
    let stored = stored_objects(store.pool(), &generator).await?.max(1);

    let mut rng = SplitMix64(config.seed ^ 0x1_5ca1e);
    let mut latencies = Vec::with_capacity(config.light_curve_samples);
    for _ in 0..config.light_curve_samples {
        let id = generator.object_id(rng.below(config.objects.min(stored) as u64) as usize);
        let t = Instant::now();
        store.light_curve(Survey::Ztf, &id).await?;
        latencies.push(t.elapsed());
    }
    latencies.sort();

    let steady = steady_state_batches(store.pool(), &generator, config, &mut rng).await?;
    let steady_state = write_phase(store, steady, config.writers).await?;
    let fresh = stored_objects(store.pool(), &generator).await?;
    let new: Vec<Alert> = (fresh..fresh + config.write_alerts)
        .map(|i| generator.alert(i))
        .collect();
    let new = new
        .chunks(config.batch_size.max(1))
        .map(<[Alert]>::to_vec)
        .collect();
    let new_objects = write_phase(store, new, config.writers).await?;

    let stats = store.stats().await?;
    let total_bytes = stats.total_bytes.unwrap_or(0);
    Ok(ScaleReport {
        objects_loaded,
        load_seconds,
        objects_in_store: stats.objects,
        detections_in_store: stats.detections,
        total_bytes,
        bytes_per_million_detections: total_bytes as f64 * 1e6 / stats.detections.max(1) as f64,
        table_bytes: table_bytes(store.pool()).await?,
        light_curve_samples: latencies.len(),
        light_curve_p50: percentile(&latencies, 0.50),
        light_curve_p99: percentile(&latencies, 0.99),
        writers: config.writers,
        batch_size: config.batch_size,
        steady_state,
        new_objects,
    })
}

/// How many of the generator's objects are stored; they must be indices `0..n` (a load that
/// was interrupted part-way leaves a gap and is refused).
async fn stored_objects(pool: &PgPool, generator: &Generator) -> Result<usize, StoreError> {
    let prefix = generator.id_prefix();
    let upper = format!("{prefix}~");
    let (count, last): (i64, Option<String>) = sqlx::query_as(
        "SELECT count(*), max(object_id) FROM objects
         WHERE survey = 'ztf' AND object_id > $1 AND object_id < $2",
    )
    .bind(&prefix)
    .bind(&upper)
    .fetch_one(pool)
    .await?;
    let count = usize::try_from(count).unwrap_or(0);
    let next = last
        .as_deref()
        .and_then(|id| generator.index_of(id))
        .map_or(0, |i| i + 1);
    if next != count {
        return Err(StoreError::Config(format!(
            "the benchmark's objects are not contiguous ({count} stored, highest index {next}): \
             an interrupted load? drop the database and run again"
        )));
    }
    Ok(count)
}

/// Steady-state alerts: distinct random stored objects, each alert bringing the object's next
/// detection along with its 29 predecessors.
async fn steady_state_batches(
    pool: &PgPool,
    generator: &Generator,
    config: &ScaleConfig,
    rng: &mut SplitMix64,
) -> Result<Vec<Vec<Alert>>, StoreError> {
    let mut chosen = std::collections::HashSet::new();
    let want = config.write_alerts.min(config.objects);
    while chosen.len() < want {
        chosen.insert(rng.below(config.objects as u64) as usize);
    }
    let mut indices: Vec<usize> = chosen.into_iter().collect();
    // Random order, so batches hit random parts of the tables.
    for i in (1..indices.len()).rev() {
        indices.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let ids: Vec<String> = indices
        .iter()
        .map(|&i| generator.object_id(i).as_str().to_owned())
        .collect();
    let counts: Vec<(String, i32)> = sqlx::query_as(
        "SELECT object_id, n_detections FROM objects
         WHERE survey = 'ztf' AND object_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let counts: std::collections::HashMap<String, i32> = counts.into_iter().collect();
    let alerts: Vec<Alert> = indices
        .iter()
        .zip(&ids)
        .filter_map(|(&i, id)| {
            let n = usize::try_from(*counts.get(id)?).ok()?;
            (n < Generator::MAX_POINTS).then(|| generator.alert_window(i, n + 1))
        })
        .collect();
    Ok(alerts
        .chunks(config.batch_size.max(1))
        .map(<[Alert]>::to_vec)
        .collect())
}

/// Writes the batches with `writers` concurrent tasks, each taking the next batch.
async fn write_phase(
    store: &PgStore,
    batches: Vec<Vec<Alert>>,
    writers: usize,
) -> Result<WritePhase, StoreError> {
    let batches = Arc::new(batches);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..writers.max(1) {
        let (store, batches, next) = (store.clone(), batches.clone(), next.clone());
        tasks.spawn(async move {
            let (mut alerts, mut sent, mut new) = (0u64, 0u64, 0u64);
            let mut times = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(batch) = batches.get(i) else { break };
                let t = Instant::now();
                let outcomes = store.upsert_alerts(batch).await?;
                times.push(t.elapsed());
                alerts += batch.len() as u64;
                sent += batch.iter().map(|a| a.n_detections() as u64).sum::<u64>();
                new += outcomes
                    .iter()
                    .map(|o| u64::from(o.new_detections))
                    .sum::<u64>();
            }
            Ok::<_, StoreError>((alerts, sent, new, times))
        });
    }
    let (mut alerts, mut sent, mut new, mut times) = (0, 0, 0, Vec::new());
    while let Some(joined) = tasks.join_next().await {
        let (a, s, n, t) =
            joined.map_err(|e| StoreError::Config(format!("writer task failed: {e}")))??;
        alerts += a;
        sent += s;
        new += n;
        times.extend(t);
    }
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    times.sort();
    Ok(WritePhase {
        alerts,
        detections_sent: sent,
        new_detections: new,
        seconds,
        alerts_per_second: alerts as f64 / seconds,
        batch_p50: percentile(&times, 0.50),
        batch_p99: percentile(&times, 0.99),
    })
}

async fn table_bytes(pool: &PgPool) -> Result<Vec<(String, u64)>, StoreError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT t::text, pg_total_relation_size(t) FROM unnest(ARRAY['objects', 'detections',
             'forced_photometry', 'upper_limits', 'classifications']::regclass[]) AS t",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(t, b)| (t, u64::try_from(b).unwrap_or(0)))
        .collect())
}

/// Classes and their top-level group, as the shipped model names them.
const CLASSES: [(&str, &str); 15] = [
    ("SNIa", "Transient"),
    ("SNIbc", "Transient"),
    ("SNII", "Transient"),
    ("SLSN", "Transient"),
    ("QSO", "Stochastic"),
    ("AGN", "Stochastic"),
    ("Blazar", "Stochastic"),
    ("CV/Nova", "Stochastic"),
    ("YSO", "Stochastic"),
    ("LPV", "Periodic"),
    ("E", "Periodic"),
    ("DSCT", "Periodic"),
    ("RRL", "Periodic"),
    ("CEP", "Periodic"),
    ("Periodic-Other", "Periodic"),
];

/// Rows of one chunk of objects in `COPY … (FORMAT text)` form, one buffer per table.
#[derive(Default)]
struct ChunkRows {
    objects: Vec<u8>,
    detections: Vec<u8>,
    limits: Vec<u8>,
    classifications: Vec<u8>,
}

fn opt<T: fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "\\N".to_owned(), |v| v.to_string())
}

impl ChunkRows {
    fn add(&mut self, alert: &Alert, classify: bool, rng: &mut SplitMix64) -> std::io::Result<()> {
        let id = alert.object_id.as_str();
        let mut per_band = [0u32; 6];
        let (mut first, mut last) = (f64::INFINITY, f64::NEG_INFINITY);
        for d in alert.detections() {
            let q = &d.quality;
            writeln!(
                self.detections,
                "ztf\t{}\t{id}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                d.source_id.0,
                d.mjd.0,
                d.band.as_str(),
                d.ra,
                d.dec,
                d.flux.0,
                d.flux_err.0,
                opt(d.mag.map(|m| m.mag)),
                opt(d.mag.map(|m| m.err)),
                opt(q.real_bogus),
                opt(q.deep_real_bogus),
                opt(q.reliability),
                opt(q.n_bad_pixels),
                opt(q.fwhm),
                opt(q.zero_point),
                opt(q.program_id),
                opt(q.snr),
                opt(q.flagged.map(|f| if f { "t" } else { "f" })),
            )?;
            per_band[band_slot(d.band)] += 1;
            first = first.min(d.mjd.0);
            last = last.max(d.mjd.0);
        }
        for u in &alert.upper_limits {
            writeln!(
                self.limits,
                "ztf\t{id}\t{}\t{}\t{}",
                u.mjd.0,
                u.band.as_str(),
                u.limiting_mag
            )?;
        }
        // The candidate is the latest detection: its position is the object's.
        let c = &alert.candidate;
        let latest = if classify {
            let weights: Vec<f64> = CLASSES.iter().map(|_| rng.unit().powi(4)).collect();
            let total: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
            let probs: Vec<f64> = weights.iter().map(|w| w / total).collect();
            let (best, p) =
                probs.iter().enumerate().fold(
                    (0, 0.0),
                    |acc, (i, &p)| if p > acc.1 { (i, p) } else { acc },
                );
            let json = |pairs: Vec<(&str, f64)>| {
                let body: Vec<String> = pairs
                    .iter()
                    .map(|(k, v)| format!("\"{k}\":{v:.6}"))
                    .collect();
                format!("{{{}}}", body.join(","))
            };
            let mut top = [("Periodic", 0.0), ("Stochastic", 0.0), ("Transient", 0.0)];
            for ((_, group), p) in CLASSES.iter().zip(&probs) {
                if let Some(slot) = top.iter_mut().find(|(g, _)| g == group) {
                    slot.1 += p;
                }
            }
            let anomaly = rng.unit().powi(3);
            writeln!(
                self.classifications,
                "ztf\t{id}\t{}\tbench\t1\t{}\t{}\t{}\t{p}\t{}\t{anomaly}",
                c.source_id.0,
                json(CLASSES.iter().map(|(k, _)| *k).zip(probs.clone()).collect()),
                json(top.to_vec()),
                CLASSES[best].0,
                1.0 - p,
            )?;
            format!(
                "{}\t{p}\t{anomaly}\tbench\t1\t2025-01-01 00:00:00+00",
                CLASSES[best].0
            )
        } else {
            "\\N\t\\N\t\\N\t\\N\t\\N\t\\N".to_owned()
        };
        writeln!(
            self.objects,
            "ztf\t{id}\t{}\t{}\t{first}\t{last}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t0\t{}\t{latest}",
            c.ra,
            c.dec,
            alert.n_detections(),
            per_band[0],
            per_band[1],
            per_band[2],
            per_band[3],
            per_band[4],
            per_band[5],
            alert.upper_limits.len(),
        )
    }
}

const COPY_OBJECTS: &str = "COPY objects (survey, object_id, ra, dec, first_mjd, last_mjd, \
     n_detections, n_det_u, n_det_g, n_det_r, n_det_i, n_det_z, n_det_y, n_forced_photometry, \
     n_upper_limits, latest_class, latest_probability, latest_anomaly_score, latest_model_name, \
     latest_model_version, classified_at) FROM STDIN";
const COPY_DETECTIONS: &str = "COPY detections (survey, source_id, object_id, mjd, band, ra, \
     dec, flux, flux_err, mag, mag_err, real_bogus, deep_real_bogus, reliability, n_bad_pixels, \
     fwhm, zero_point, program_id, snr, flagged) FROM STDIN";
const COPY_LIMITS: &str =
    "COPY upper_limits (survey, object_id, mjd, band, limiting_mag) FROM STDIN";
const COPY_CLASSIFICATIONS: &str = "COPY classifications (survey, object_id, source_id, \
     model_name, model_version, probabilities, top_level_probabilities, predicted_class, \
     probability, uncertainty, anomaly_score) FROM STDIN";

/// Loads objects `range` with `COPY`, one transaction per chunk, `load_streams` chunks at once.
/// As a superuser it skips the per-row foreign-key triggers (`session_replication_role`): the
/// generated rows satisfy them by construction.
async fn bulk_load(
    pool: &PgPool,
    generator: &Arc<Generator>,
    range: std::ops::Range<usize>,
    config: &ScaleConfig,
) -> Result<(), StoreError> {
    let superuser: String = sqlx::query_scalar("SHOW is_superuser")
        .fetch_one(pool)
        .await?;
    let skip_triggers = superuser == "on";
    let chunk = config.load_chunk.max(1);
    let starts: Vec<usize> = range.clone().step_by(chunk).collect();
    let total = starts.len();
    let starts = Arc::new(starts);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..config.load_streams.max(1) {
        let (pool, generator, starts, next) = (
            pool.clone(),
            generator.clone(),
            starts.clone(),
            next.clone(),
        );
        let (end, classify, seed) = (range.end, config.classify, config.seed);
        tasks.spawn(async move {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&from) = starts.get(k) else {
                    return Ok::<_, StoreError>(());
                };
                let to = (from + chunk).min(end);
                let mut rows = ChunkRows::default();
                let mut rng = SplitMix64(seed ^ (from as u64).wrapping_mul(0x9e37));
                for i in from..to {
                    rows.add(&generator.alert(i), classify, &mut rng)
                        .map_err(|e| StoreError::Config(format!("formatting rows: {e}")))?;
                }
                let mut tx = pool.begin().await?;
                if skip_triggers {
                    sqlx::query("SET LOCAL session_replication_role = replica")
                        .execute(&mut *tx)
                        .await?;
                }
                for (statement, data) in [
                    (COPY_OBJECTS, &rows.objects),
                    (COPY_DETECTIONS, &rows.detections),
                    (COPY_LIMITS, &rows.limits),
                    (COPY_CLASSIFICATIONS, &rows.classifications),
                ] {
                    if data.is_empty() {
                        continue;
                    }
                    let mut copy = tx.copy_in_raw(statement).await?;
                    for piece in data.chunks(1 << 20) {
                        copy.send(piece).await?;
                    }
                    copy.finish().await?;
                }
                tx.commit().await?;
                if k % 20 == 0 {
                    eprintln!(
                        "loaded chunk {}/{total} (objects {from}..{to}), {:.0} s",
                        k + 1,
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|e| StoreError::Config(format!("loader task failed: {e}")))??;
    }
    eprintln!(
        "loaded {} objects in {:.0} s; VACUUM ANALYZE …",
        range.len(),
        started.elapsed().as_secs_f64()
    );
    // Fresh statistics for the planner and a visibility map, as autovacuum would leave them.
    sqlx::query("VACUUM (ANALYZE) objects, detections, upper_limits, classifications")
        .execute(pool)
        .await?;
    Ok(())
}
