//! Alerts as a broker receives them: one per detection, carrying the history the survey sends
//! (ZTF: 30 days of detections and upper limits; Rubin: 12 months of detections and forced
//! photometry; science.md "alert rule").

use alert_model::{
    AbMagnitude, Alert, Cutouts, Detection, DetectionQuality, FluxNjy, ForcedPhotometry,
    InvalidObjectId, Mjd, ObjectId, SourceId, Survey, UpperLimit,
};
use rand::{Rng, SeedableRng};

use crate::models::SimRng;
use crate::{Observation, SimulatedObject};

/// Days of history a ZTF alert carries (prv_candidates).
pub const ZTF_HISTORY_DAYS: f64 = 30.0;
/// Days of history a Rubin alert carries (prvDiaSources, prvDiaForcedSources).
pub const LSST_HISTORY_DAYS: f64 = 365.0;
/// Schema versions written into simulated alerts.
const ZTF_SCHEMA_VERSION: &str = "4.02";
const LSST_SCHEMA_VERSION: &str = "7.4";
/// Bit set in forced-photometry source ids, to keep them apart from difference-image sources.
const FORCED_BIT: i64 = 1 << 62;

/// 26^7: the number of seven-letter ZTF id suffixes.
const LETTER_SPACE: u64 = 8_031_810_176;
/// Odd and not a multiple of 13, so `index ↦ (offset + index·STRIDE) mod 26^7` is a bijection.
const STRIDE: u64 = 1_234_567_891;

/// A survey object id for the `index`-th object of a run with mixed seed `seed_mix`.
/// ZTF: `ZTF` + two-digit year of `first_mjd` + seven lower-case letters, unique within a run.
/// Rubin: a positive 62-bit `diaObjectId`.
pub(crate) fn object_id(survey: Survey, seed_mix: u64, index: u64, first_mjd: f64) -> String {
    match survey {
        Survey::Ztf => {
            // MJD 51544 is 2000-01-01.
            let year = 2000 + ((first_mjd - 51_544.0) / 365.2425).floor() as i64;
            let mut n = (seed_mix % LETTER_SPACE + (index % LETTER_SPACE) * STRIDE) % LETTER_SPACE;
            let mut letters = [b'a'; 7];
            for slot in letters.iter_mut().rev() {
                *slot = b'a' + (n % 26) as u8;
                n /= 26;
            }
            let letters: String = letters.iter().map(|b| char::from(*b)).collect();
            format!("ZTF{:02}{letters}", year.rem_euclid(100))
        }
        Survey::Lsst => (((seed_mix & 0x3F_FFFF) << 40) | (index & 0xFF_FFFF_FFFF)).to_string(),
    }
}

/// Base of the source ids of one object: 11 seed bits, 31 object bits, 20 epoch bits.
pub(crate) fn source_id_base(seed_mix: u64, index: u64, survey_bit: u64) -> i64 {
    let seed_bits = ((seed_mix >> 22) ^ survey_bit) & 0x7FF;
    ((seed_bits << 51) | ((index & 0x7FFF_FFFF) << 20)) as i64
}

/// One alert per detection of `object`, in time order, each carrying the history the survey
/// would send with it. ZTF alerts fill `mag` (AB of |flux|, σ_mag = 1.0857·σ/|flux|) and a high
/// real-bogus score; Rubin alerts carry forced photometry on every earlier epoch.
pub fn alerts_for(object: &SimulatedObject) -> Result<Vec<Alert>, InvalidObjectId> {
    let object_id = ObjectId::parse(object.survey, &object.object_id)?;
    let mut rng = SimRng::seed_from_u64(object.source_id_base as u64 ^ 0xA1E7);
    // Per-epoch quantities drawn once so that an epoch looks the same in every alert.
    let extras: Vec<Extras> = object
        .observations
        .iter()
        .map(|_| Extras::draw(object, &mut rng))
        .collect();
    let history = match object.survey {
        Survey::Ztf => ZTF_HISTORY_DAYS,
        Survey::Lsst => LSST_HISTORY_DAYS,
    };
    let mut alerts = Vec::new();
    for (k, obs) in object.observations.iter().enumerate() {
        if !obs.detected {
            continue;
        }
        let earlier = object.observations[..k]
            .iter()
            .enumerate()
            .filter(|(_, o)| o.mjd >= obs.mjd - history);
        let mut previous_detections = Vec::new();
        let mut upper_limits = Vec::new();
        let mut forced_photometry = Vec::new();
        for (j, o) in earlier {
            if o.detected {
                previous_detections.push(detection(object, j, o, &extras[j]));
            }
            match object.survey {
                Survey::Ztf if !o.detected => upper_limits.push(UpperLimit {
                    mjd: Mjd(o.mjd),
                    band: o.band,
                    limiting_mag: o.limiting_mag,
                }),
                Survey::Lsst => forced_photometry.push(ForcedPhotometry {
                    source_id: Some(SourceId((object.source_id_base + j as i64) | FORCED_BIT)),
                    mjd: Mjd(o.mjd),
                    band: o.band,
                    flux: FluxNjy(o.flux_njy),
                    flux_err: FluxNjy(o.flux_err_njy),
                    status: None,
                }),
                Survey::Ztf => {}
            }
        }
        alerts.push(Alert {
            survey: object.survey,
            object_id: object_id.clone(),
            schema_version: match object.survey {
                Survey::Ztf => ZTF_SCHEMA_VERSION,
                Survey::Lsst => LSST_SCHEMA_VERSION,
            }
            .to_owned(),
            candidate: detection(object, k, obs, &extras[k]),
            previous_detections,
            forced_photometry,
            upper_limits,
            cutouts: Cutouts::default(),
            solar_system: None,
        });
    }
    Ok(alerts)
}

/// Astrometric scatter, image quality and real-bogus scores of one epoch.
struct Extras {
    dra: f64,
    ddec: f64,
    real_bogus: f64,
    deep_real_bogus: f64,
    fwhm: f64,
    zero_point: f64,
}

impl Extras {
    fn draw(object: &SimulatedObject, rng: &mut SimRng) -> Self {
        // 0.1″ astrometric scatter; rb as in real packets (p10 0.46, median 0.71, p90 0.93;
        // Mahabal et al. 2019, PASP 131, 038002), drb close to 1 (Duev et al. 2019, MNRAS 489, 3582).
        let scatter = 0.1 / 3600.0;
        let cos_dec = object.dec.to_radians().cos().max(1e-3);
        let u: f64 = rng.random();
        let v: f64 = rng.random();
        Extras {
            dra: scatter * (rng.random::<f64>() - 0.5) * 2.0 / cos_dec,
            ddec: scatter * (rng.random::<f64>() - 0.5) * 2.0,
            real_bogus: 0.3 + 0.68 * u.powf(0.8),
            deep_real_bogus: 1.0 - 0.1 * v * v * v,
            fwhm: 1.8 + 1.7 * rng.random::<f64>(),
            zero_point: 26.0 + 0.4 * rng.random::<f64>(),
        }
    }
}

fn detection(object: &SimulatedObject, k: usize, o: &Observation, x: &Extras) -> Detection {
    let flux = FluxNjy(o.flux_njy);
    let flux_err = FluxNjy(o.flux_err_njy);
    let quality = match object.survey {
        Survey::Ztf => DetectionQuality {
            real_bogus: Some(x.real_bogus),
            deep_real_bogus: Some(x.deep_real_bogus),
            n_bad_pixels: Some(0),
            fwhm: Some(x.fwhm),
            zero_point: Some(x.zero_point),
            program_id: Some(1),
            ..DetectionQuality::default()
        },
        Survey::Lsst => DetectionQuality {
            reliability: Some(x.deep_real_bogus),
            snr: Some((o.flux_njy / o.flux_err_njy).abs()),
            flagged: Some(false),
            ..DetectionQuality::default()
        },
    };
    let mag = match object.survey {
        Survey::Ztf => flux
            .ab_mag()
            .and_then(|mag| flux.mag_error(flux_err).map(|err| AbMagnitude { mag, err })),
        Survey::Lsst => None,
    };
    Detection {
        source_id: SourceId(object.source_id_base + k as i64),
        mjd: Mjd(o.mjd),
        band: o.band,
        ra: (object.ra + x.dra).rem_euclid(360.0),
        dec: (object.dec + x.ddec).clamp(-90.0, 90.0),
        flux,
        flux_err,
        mag,
        quality,
    }
}
