//! Turning true fluxes into what the survey measures: noise, detection, saturation.
//!
//! Noise model (documented in the README): with f5 = 10^(−0.4·(m5 − 31.4)) nJy the epoch's 5σ flux,
//! σ_sky = f5/5 (background-limited, science.md) and
//!
//!   σ² = σ_sky²·(1 + F⁺/F_sky) + (ε·F⁺)²,
//!
//! where F⁺ = max(total source flux, 0), F_sky = 6.3·f5 is the sky flux inside the PSF footprint
//! (sky ≈ 2 mag brighter than the 5σ point-source limit for ZTF-like seeing; the source's own
//! photon noise adds σ_sky²·F⁺/F_sky) and ε = 0.005 a calibration/subtraction floor. A measured
//! flux is a detection when |flux/σ| ≥ 5.

use alert_model::{AB_ZERO_POINT_NJY, Survey};
use rand_distr::StandardNormal;

use rand::Rng;

use crate::Observation;
use crate::models::{Model, SimRng};
use crate::survey::Epoch;

/// Detection threshold in |S/N| (ZTF and Rubin alert rule, science.md).
pub const DETECTION_SNR: f64 = 5.0;
/// Sky flux in the PSF footprint in units of the 5σ flux.
const SKY_OVER_F5: f64 = 6.3;
/// Fractional systematic floor on the total flux.
const FLOOR: f64 = 0.005;

/// The 5σ flux (nJy) of a limiting magnitude.
#[inline]
pub fn flux_at_depth(m5: f64) -> f64 {
    10f64.powf(-0.4 * (m5 - AB_ZERO_POINT_NJY))
}

/// Flux uncertainty (nJy) of one epoch with limiting magnitude `m5` for a source of total flux
/// `total` (see the module docs).
#[inline]
pub fn flux_error(m5: f64, total: f64) -> f64 {
    let f5 = flux_at_depth(m5);
    let sky = f5 / DETECTION_SNR;
    let f = total.max(0.0);
    (sky * sky * (1.0 + f / (SKY_OVER_F5 * f5)) + (FLOOR * f).powi(2)).sqrt()
}

/// Observes `model` at `epochs`, appending to `out`; epochs brighter than `saturation_mag` (total
/// flux) are dropped. Returns the number of detections.
pub(crate) fn observe(
    model: &mut Model,
    survey: Survey,
    epochs: &[Epoch],
    saturation_mag: f64,
    rng: &mut SimRng,
    out: &mut Vec<Observation>,
) -> usize {
    let f_sat = flux_at_depth(saturation_mag);
    let mut detections = 0;
    for e in epochs {
        let Some(lambda) = e.band.effective_wavelength(survey) else {
            continue;
        };
        let truth = model.eval(e.mjd, lambda, rng);
        if truth.total > f_sat {
            continue;
        }
        let sigma = flux_error(e.m5, truth.total);
        let flux = truth.diff + sigma * rng.sample::<f64, _>(StandardNormal);
        let detected = (flux / sigma).abs() >= DETECTION_SNR;
        detections += usize::from(detected);
        out.push(Observation {
            mjd: e.mjd,
            band: e.band,
            flux_njy: flux,
            flux_err_njy: sigma,
            detected,
            limiting_mag: e.m5,
        });
    }
    detections
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faint_source_error_is_the_depth_over_five() {
        let f5 = flux_at_depth(20.5);
        assert!((f5 - 22_908.7).abs() < 1.0);
        assert!((flux_error(20.5, 0.0) - f5 / 5.0).abs() < 1e-9);
        // A 15th-mag star: photon noise raises σ, but σ_mag stays ~1 %.
        let total = flux_at_depth(15.0);
        let s = flux_error(20.5, total);
        assert!(s > f5 / 5.0);
        assert!(1.0857 * s / total < 0.02);
    }
}
