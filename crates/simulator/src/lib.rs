//! Labelled light curves and alert packets from physical models, sampled on survey cadences.
//!
//! [`simulate`] draws objects of each [`Class`] on ZTF or Rubin cadences, depths and noise;
//! [`write_csv`] writes them for training; [`alerts_for`] turns one into the alerts a broker sees
//! and [`write_packets`] writes those as ZTF / Rubin Avro packets.

mod alerts;
mod class;
pub mod cosmology;
pub(crate) mod models;
pub mod observe;
mod output;
pub mod survey;

use alert_model::{Band, Survey};
use rand::SeedableRng;

/// Version of the simulated populations, logged with every training run: bumped whenever a prior
/// or a physical model changes what the simulator draws (2: nearby, bright supernovae; 3 was an
/// unmerged experiment; 4: periodic and cataclysmic variables against references co-added from
/// the frames of a few weeks to months; 5: YSOs too, with slow variability over months to years;
/// 6: quasars, AGN and blazars too; 7 was an unmerged experiment; 8: SN II plateaus decline alike
/// in all bands, LPVs redder with amplitudes that grow less towards g; 9 was an unmerged
/// experiment, `docs/experiments/`; 10: quasar and AGN walks smooth below a few weeks).
pub const POPULATION_VERSION: &str = "10";

pub use alerts::alerts_for;
pub use class::{Class, TopLevel, UnknownClass};
pub use output::{
    CsvPaths, LABELS_HEADER, LIGHTCURVES_HEADER, OutputError, UPPER_LIMITS_HEADER, write_csv,
    write_packets,
};
pub use survey::CadenceConfig;

use models::{Context, SimRng};

/// One epoch as the survey measured it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// Time of the visit (MJD).
    pub mjd: f64,
    pub band: Band,
    /// Measured difference flux (nJy, AB): true difference flux + N(0, σ).
    pub flux_njy: f64,
    /// 1σ flux uncertainty (nJy); see [`observe`] for the noise model.
    pub flux_err_njy: f64,
    /// |flux/σ| ≥ 5 (positive or negative).
    pub detected: bool,
    /// The epoch's 5σ limiting magnitude (AB), the upper limit of a non-detection.
    pub limiting_mag: f64,
}

/// A labelled simulated light curve.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedObject {
    /// Survey object id: ZTF `objectId` (`ZTF` + year + 7 letters) or Rubin `diaObjectId`.
    pub object_id: String,
    pub class: Class,
    pub survey: Survey,
    /// Redshift of extragalactic classes; `None` for Galactic ones.
    pub redshift: Option<f64>,
    /// Sky position (degrees, ICRS).
    pub ra: f64,
    pub dec: f64,
    /// Unsaturated epochs in time order, detections and non-detections.
    pub observations: Vec<Observation>,
    /// Source ids (ZTF `candid`, Rubin `diaSourceId`) of this object are `source_id_base + k` for
    /// its k-th observation; unique within a run, and across runs with high probability.
    pub source_id_base: i64,
}

impl SimulatedObject {
    pub fn detections(&self) -> impl Iterator<Item = &Observation> {
        self.observations.iter().filter(|o| o.detected)
    }

    pub fn n_detections(&self) -> usize {
        self.detections().count()
    }
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationConfig {
    /// Seed of every random draw: the same config gives the same objects, bit for bit.
    pub seed: u64,
    /// Surveys to simulate; each gets `objects_per_class` objects of each class.
    pub surveys: Vec<Survey>,
    pub objects_per_class: usize,
    /// Classes to draw (default: the 15 training classes; add [`Class::ANOMALIES`] for
    /// anomaly-detection validation sets).
    pub classes: Vec<Class>,
    /// First MJD of the observed window; `None`: a random start per object (ZTF 2018–2024,
    /// Rubin 2026–2034), which also spreads the years in ZTF ids.
    pub start_mjd: Option<f64>,
    /// Length of the observed window (days).
    pub duration_days: f64,
    /// When set, each light curve is cut to the `truncate_days` days up to and including one
    /// of its detections chosen at random: the view of a single alert packet (ZTF: 30 days).
    pub truncate_days: Option<f64>,
    /// Objects with fewer detections are re-drawn (up to 50 times), as only detected objects
    /// produce alerts.
    pub min_detections: usize,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        SimulationConfig {
            seed: 0,
            surveys: vec![Survey::Ztf],
            objects_per_class: 100,
            classes: Class::ALL_TRAINING.to_vec(),
            start_mjd: None,
            duration_days: 365.0,
            truncate_days: None,
            min_detections: 1,
        }
    }
}

impl SimulationConfig {
    /// The default configuration with this seed.
    pub fn with_seed(seed: u64) -> Self {
        SimulationConfig {
            seed,
            ..Self::default()
        }
    }

    /// Adds the anomaly classes (TDE, kilonova, microlensing, PISN) to `classes`.
    pub fn with_anomalies(mut self) -> Self {
        for c in Class::ANOMALIES {
            if !self.classes.contains(&c) {
                self.classes.push(c);
            }
        }
        self
    }
}

/// Re-draws allowed for an object with too few detections.
const MAX_ATTEMPTS: usize = 50;
/// Objects per class are numbered below this (it keeps ids and random streams disjoint).
const MAX_PER_CLASS: u64 = 1 << 26;

/// Simulates `objects_per_class` objects of every class on every survey of `config`, in the
/// order survey → class → object. Deterministic for a config.
pub fn simulate(config: &SimulationConfig) -> Vec<SimulatedObject> {
    let mut out =
        Vec::with_capacity(config.surveys.len() * config.classes.len() * config.objects_per_class);
    let mut scratch = Vec::with_capacity(512);
    for &survey in &config.surveys {
        for &class in &config.classes {
            for i in 0..config.objects_per_class {
                out.push(simulate_one(config, survey, class, i as u64, &mut scratch));
            }
        }
    }
    out
}

/// The `index`-th object of `class` on `survey` under `config`: the same object [`simulate`]
/// returns, without simulating the others (for streaming or parallel use).
pub fn simulate_object(
    config: &SimulationConfig,
    survey: Survey,
    class: Class,
    index: u64,
) -> SimulatedObject {
    simulate_one(config, survey, class, index, &mut Vec::new())
}

/// SplitMix64 finaliser (Steele et al. 2014): spreads a seed over 64 bits.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn simulate_one(
    config: &SimulationConfig,
    survey: Survey,
    class: Class,
    index: u64,
    scratch: &mut Vec<survey::Epoch>,
) -> SimulatedObject {
    let survey_bit = match survey {
        Survey::Ztf => 0,
        Survey::Lsst => 1,
    };
    let id_index = class.index() as u64 * MAX_PER_CLASS + index % MAX_PER_CLASS;
    let mut rng = SimRng::seed_from_u64(config.seed);
    rng.set_stream((survey_bit << 40) | id_index);

    let (first, last) = match survey {
        Survey::Ztf => (58_300.0, 60_500.0),
        Survey::Lsst => (61_000.0, 64_000.0),
    };
    let cadence = CadenceConfig::for_survey(survey);
    let mut observations = Vec::new();
    let mut redshift = None;
    for _ in 0..MAX_ATTEMPTS {
        let t_start = config
            .start_mjd
            .unwrap_or_else(|| models::uniform(&mut rng, first, last).floor());
        let ctx = Context {
            survey,
            t_start,
            t_end: t_start + config.duration_days.max(0.0),
        };
        let (mut model, z) = models::sample(class, &ctx, &mut rng);
        redshift = z;
        scratch.clear();
        survey::schedule(survey, &cadence, ctx.t_start, ctx.t_end, &mut rng, scratch);
        let saturation = survey::saturation_mag(survey, &mut rng);
        observations.clear();
        observations.reserve(scratch.len());
        let n = observe::observe(
            &mut model,
            survey,
            scratch,
            saturation,
            &mut rng,
            &mut observations,
        );
        if n >= config
            .min_detections
            .max(usize::from(config.truncate_days.is_some()))
        {
            break;
        }
    }
    if let Some(days) = config.truncate_days {
        truncate(&mut observations, days, &mut rng);
    }
    let (ra, dec) = sky_position(survey, &mut rng);
    let seed_mix = mix(config.seed);
    let first_mjd = observations.first().map_or(first, |o| o.mjd);
    SimulatedObject {
        object_id: alerts::object_id(survey, seed_mix, id_index, first_mjd),
        class,
        survey,
        redshift,
        ra,
        dec,
        observations,
        source_id_base: alerts::source_id_base(seed_mix, id_index, survey_bit),
    }
}

/// Keeps the `days` up to a randomly chosen detection (inclusive).
fn truncate(observations: &mut Vec<Observation>, days: f64, rng: &mut SimRng) {
    use rand::Rng;
    let n = observations.iter().filter(|o| o.detected).count();
    if n == 0 {
        return;
    }
    let pick = rng.random_range(0..n);
    let Some(t_alert) = observations
        .iter()
        .filter(|o| o.detected)
        .nth(pick)
        .map(|o| o.mjd)
    else {
        return;
    };
    observations.retain(|o| o.mjd <= t_alert && o.mjd >= t_alert - days);
}

/// A position uniform on the sky the survey sees: ZTF dec > −30°, Rubin dec < +10°.
fn sky_position(survey: Survey, rng: &mut SimRng) -> (f64, f64) {
    let (lo, hi) = match survey {
        Survey::Ztf => (-30f64, 90f64),
        Survey::Lsst => (-90f64, 10f64),
    };
    let s = models::uniform(rng, lo.to_radians().sin(), hi.to_radians().sin());
    (models::uniform(rng, 0.0, 360.0), s.asin().to_degrees())
}
