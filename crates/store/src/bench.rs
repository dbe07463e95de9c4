//! `deeprubin bench-store`: load synthetic ZTF-like objects and measure write throughput,
//! light-curve read latency and size on disk.
//!
//! Run it against an empty database: sizes are those of the whole store.

use std::fmt;
use std::time::{Duration, Instant};

use alert_model::{
    AbMagnitude, Alert, Band, Cutouts, Detection, DetectionQuality, FluxNjy, Mjd, ObjectId,
    SourceId, Survey, UpperLimit,
};
use serde::Serialize;

use crate::{StateStore, StoreError};

/// What to generate and how to load it.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchConfig {
    pub objects: usize,
    /// Detections per object, all carried by the object's one alert.
    pub points_per_object: usize,
    /// Non-detections before the first detection.
    pub upper_limits_per_object: usize,
    /// Alerts per `upsert_alerts` call.
    pub batch_size: usize,
    /// `light_curve` calls timed after loading.
    pub light_curve_samples: usize,
    /// Changes every id and value; the same seed generates the same data.
    pub seed: u64,
}

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            objects: 50_000,
            points_per_object: 30,
            upper_limits_per_object: 3,
            batch_size: 500,
            light_curve_samples: 2_000,
            seed: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    pub backend: &'static str,
    pub objects: usize,
    pub alerts: u64,
    pub new_detections: u64,
    pub load_seconds: f64,
    pub alerts_per_second: f64,
    pub detections_per_second: f64,
    pub light_curve_samples: usize,
    pub light_curve_p50: Duration,
    pub light_curve_p99: Duration,
    /// Whole store on disk after loading; `None` for the in-process store.
    pub total_bytes: Option<u64>,
    pub detections_in_store: u64,
    pub bytes_per_million_detections: Option<f64>,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "store benchmark ({}): {} objects, {} alerts, {} new detections",
            self.backend, self.objects, self.alerts, self.new_detections
        )?;
        writeln!(
            f,
            "  load:        {:.1} s, {:.0} alerts/s, {:.0} detections/s",
            self.load_seconds, self.alerts_per_second, self.detections_per_second
        )?;
        writeln!(
            f,
            "  light_curve: p50 {:.3} ms, p99 {:.3} ms ({} calls)",
            self.light_curve_p50.as_secs_f64() * 1e3,
            self.light_curve_p99.as_secs_f64() * 1e3,
            self.light_curve_samples
        )?;
        match (self.total_bytes, self.bytes_per_million_detections) {
            (Some(total), Some(per_million)) => write!(
                f,
                "  size:        {:.1} MiB for {} detections, {:.0} MiB per million detections",
                total as f64 / 1_048_576.0,
                self.detections_in_store,
                per_million / 1_048_576.0
            ),
            _ => write!(f, "  size:        not measured (in-process store)"),
        }
    }
}

/// Loads `config.objects` generated alerts in batches, then times random `light_curve` reads.
pub async fn run(store: &dyn StateStore, config: &BenchConfig) -> Result<BenchReport, StoreError> {
    let generator = Generator::new(config);
    let batch_size = config.batch_size.max(1);
    let (mut alerts, mut new_detections) = (0u64, 0u64);
    let started = Instant::now();
    let mut start = 0;
    while start < config.objects {
        let end = (start + batch_size).min(config.objects);
        let batch: Vec<Alert> = (start..end).map(|i| generator.alert(i)).collect();
        for outcome in store.upsert_alerts(&batch).await? {
            alerts += 1;
            new_detections += u64::from(outcome.new_detections);
        }
        start = end;
    }
    let load_seconds = started.elapsed().as_secs_f64().max(1e-9);

    let mut rng = SplitMix64(config.seed ^ 0x5eed);
    let mut latencies = Vec::with_capacity(config.light_curve_samples);
    if config.objects > 0 {
        for _ in 0..config.light_curve_samples {
            let id = generator.object_id(rng.below(config.objects as u64) as usize);
            let t = Instant::now();
            store.light_curve(Survey::Ztf, &id).await?;
            latencies.push(t.elapsed());
        }
    }
    latencies.sort();
    let stats = store.stats().await?;
    Ok(BenchReport {
        backend: store.backend(),
        objects: config.objects,
        alerts,
        new_detections,
        load_seconds,
        alerts_per_second: alerts as f64 / load_seconds,
        detections_per_second: new_detections as f64 / load_seconds,
        light_curve_samples: latencies.len(),
        light_curve_p50: percentile(&latencies, 0.50),
        light_curve_p99: percentile(&latencies, 0.99),
        total_bytes: stats.total_bytes,
        detections_in_store: stats.detections,
        bytes_per_million_detections: stats
            .total_bytes
            .filter(|_| stats.detections > 0)
            .map(|b| b as f64 * 1e6 / stats.detections as f64),
    })
}

/// Nearest-rank percentile of sorted values.
pub(crate) fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast, and deterministic across platforms.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(f64::MIN_POSITIVE);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.unit()).cos()
    }
}

/// ZTF-like objects: g/r epochs 2–3 days apart, a supernova-like rise and decline on top of
/// ZTF's noise floor (σ ≈ 4000 nJy ≈ a 5σ depth of 20.5 mag), so faint epochs go negative.
pub struct Generator {
    seed: u64,
    points: usize,
    limits: usize,
}

/// Noise floor of a ZTF difference image: 5σ = 20.5 mag ≈ 23 000 nJy (Bellm et al. 2019).
const NOISE_FLOOR_NJY: f64 = 4_000.0;

impl Generator {
    pub fn new(config: &BenchConfig) -> Self {
        Self {
            seed: config.seed,
            points: config.points_per_object.max(1),
            limits: config.upper_limits_per_object,
        }
    }

    /// `ZTF` + a year from the seed + the index in seven letters (26⁷ ≈ 8·10⁹ objects).
    pub fn object_id(&self, index: usize) -> ObjectId {
        let mut letters = [b'a'; 7];
        let mut rest = index as u64;
        for slot in letters.iter_mut().rev() {
            *slot = b'a' + (rest % 26) as u8;
            rest /= 26;
        }
        let text = format!("{}{}", self.id_prefix(), String::from_utf8_lossy(&letters));
        ObjectId::parse(Survey::Ztf, &text)
            .expect("ZTF, two digits and seven lower-case letters form a valid id")
    }

    /// The id prefix shared by every object of this seed (`ZTF` and two digits).
    pub fn id_prefix(&self) -> String {
        format!("ZTF{:02}", 50 + self.seed % 50)
    }

    /// The index [`Generator::object_id`] made `id` from; `None` for another seed's ids.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        let letters = id.strip_prefix(&self.id_prefix())?;
        if letters.len() != 7 {
            return None;
        }
        letters.bytes().try_fold(0usize, |acc, b| {
            b.is_ascii_lowercase()
                .then(|| acc * 26 + usize::from(b - b'a'))
        })
    }

    /// The one alert of object `index`: its full history, the last detection as candidate.
    pub fn alert(&self, index: usize) -> Alert {
        self.alert_window(index, self.points)
    }

    /// Detections an object can have: source ids leave room for 64 per object.
    pub const MAX_POINTS: usize = 64;

    /// The alert that brings object `index` its detection number `end` (1-based): it carries the
    /// last `points_per_object` detections up to that one (the survey re-sends the recent history
    /// with every alert), the first ones being exactly those of [`Generator::alert`].
    /// `end` is clamped to 1..=[`Generator::MAX_POINTS`].
    pub fn alert_window(&self, index: usize, end: usize) -> Alert {
        let end = end.clamp(1, Self::MAX_POINTS);
        let mut rng = SplitMix64(self.seed.wrapping_mul(0x1000_0000_01b3) ^ index as u64);
        let ra = 360.0 * rng.unit();
        let dec = (rng.unit() * 1.5 - 0.5).asin().to_degrees(); // ZTF sky: δ > −30°
        let start = 58_300.0 + 2_000.0 * rng.unit();
        let peak_mag = 17.5 + 3.0 * rng.unit();
        let peak_flux = FluxNjy::from_ab_mag(peak_mag).0;
        let (rise, fall) = (3.0 + 5.0 * rng.unit(), 15.0 + 40.0 * rng.unit());
        let t_peak = start + 8.0 + 10.0 * rng.unit();
        // Candids are 18-digit numbers; keep ours unique per (seed, object, epoch).
        let base = 1_000_000_000_000_000_000i64
            + ((self.seed % 1000) as i64) * 1_000_000_000_000_000
            + index as i64 * 64;

        let mut upper_limits = Vec::with_capacity(self.limits);
        let mut mjd = start - 2.5 * self.limits as f64;
        for _ in 0..self.limits {
            upper_limits.push(UpperLimit {
                mjd: Mjd(mjd),
                band: if rng.unit() < 0.5 { Band::G } else { Band::R },
                limiting_mag: 20.0 + 0.8 * rng.unit(),
            });
            mjd += 2.0 + rng.unit();
        }

        let mut detections = Vec::with_capacity(end);
        let mut mjd = start;
        for k in 0..end {
            let band = if rng.unit() < 0.5 { Band::G } else { Band::R };
            let dt = mjd - t_peak;
            let shape = (-dt / fall).exp() / (1.0 + (-dt / rise).exp());
            let colour = if band == Band::G { 1.0 } else { 0.8 };
            let sigma = NOISE_FLOOR_NJY + 0.03 * peak_flux * shape;
            let flux = peak_flux * colour * shape + sigma * rng.normal();
            let mag = FluxNjy(flux).ab_mag().map(|m| AbMagnitude {
                mag: m,
                err: FluxNjy(flux).mag_error(FluxNjy(sigma)).unwrap_or(1.0),
            });
            detections.push(Detection {
                source_id: SourceId(base + k as i64),
                mjd: Mjd(mjd),
                band,
                ra: ra + 1e-5 * rng.normal(),
                dec: dec + 1e-5 * rng.normal(),
                flux: FluxNjy(flux),
                flux_err: FluxNjy(sigma),
                mag,
                quality: DetectionQuality {
                    real_bogus: Some(0.5 + 0.5 * rng.unit()),
                    deep_real_bogus: Some(rng.unit()),
                    fwhm: Some(1.5 + 2.0 * rng.unit()),
                    program_id: Some(1),
                    ..DetectionQuality::default()
                },
            });
            mjd += 2.0 + rng.unit();
        }
        let candidate = detections.pop().expect("end is at least 1");
        detections.drain(..detections.len().saturating_sub(self.points - 1));
        Alert {
            survey: Survey::Ztf,
            object_id: self.object_id(index),
            schema_version: "bench".into(),
            candidate,
            previous_detections: detections,
            forced_photometry: Vec::new(),
            upper_limits,
            cutouts: Cutouts::default(),
            solar_system: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_is_deterministic_and_realistic() {
        let g = Generator::new(&BenchConfig::default());
        let (a, b) = (g.alert(7), g.alert(7));
        assert_eq!(a, b);
        assert_ne!(g.alert(8).object_id, a.object_id);
        assert_eq!(a.n_detections(), 30);
        let mjds: Vec<f64> = a.detections().map(|d| d.mjd.0).collect();
        assert!(
            mjds.windows(2)
                .all(|w| (2.0..=3.0).contains(&(w[1] - w[0])))
        );
        assert!(a.detections().all(|d| matches!(d.band, Band::G | Band::R)));
    }

    #[test]
    fn later_alerts_extend_the_same_history() {
        let g = Generator::new(&BenchConfig::default());
        let first = g.alert(3);
        let next = g.alert_window(3, 31);
        assert_eq!(next.n_detections(), 30);
        let old: Vec<_> = first.detections().skip(1).cloned().collect();
        let carried: Vec<_> = next.detections().take(29).cloned().collect();
        assert_eq!(old, carried);
        assert!(next.candidate.mjd.0 > first.candidate.mjd.0);
        assert_eq!(next.upper_limits, first.upper_limits);
        assert_eq!(g.index_of(g.object_id(123_456).as_str()), Some(123_456));
        assert_eq!(g.index_of("ZTF18adoojej"), None);
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&v, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }
}
