//! Physical quantities as newtypes, so that a magnitude cannot be stored where a flux belongs.
//!
//! Conventions (architecture.md, "Units and conventions"): fluxes are difference-image fluxes in nJy on
//! the AB system, `mag = −2.5·log10(flux_nJy) + 31.4` (Oke & Gunn 1983: 3631 Jy at AB = 0); times are MJD.

use serde::{Deserialize, Serialize};

/// AB zero point for fluxes in nJy: 2.5·log10(3631 Jy / 1 nJy) = 31.4.
pub const AB_ZERO_POINT_NJY: f64 = 31.4;

/// 0.4·ln(10): d(flux)/flux per unit magnitude, for propagating σ_mag to σ_flux.
const MAG_TO_FRACTIONAL_FLUX: f64 = 0.4 * std::f64::consts::LN_10;

/// Modified Julian Date (days), MJD = JD − 2400000.5.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Mjd(pub f64);

impl Mjd {
    /// Offset between Julian Date and Modified Julian Date (IAU 1973).
    pub const JD_OFFSET: f64 = 2_400_000.5;

    pub fn from_jd(jd: f64) -> Self {
        Mjd(jd - Self::JD_OFFSET)
    }

    pub fn to_jd(self) -> f64 {
        self.0 + Self::JD_OFFSET
    }
}

/// Flux density in nanojansky (difference flux: may be negative).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FluxNjy(pub f64);

impl FluxNjy {
    /// Flux of an AB magnitude.
    pub fn from_ab_mag(mag: f64) -> Self {
        FluxNjy(10f64.powf(-0.4 * (mag - AB_ZERO_POINT_NJY)))
    }

    /// AB magnitude of |flux|; `None` when the flux is zero or not finite.
    pub fn ab_mag(self) -> Option<f64> {
        let f = self.0.abs();
        (f > 0.0 && f.is_finite()).then(|| -2.5 * f.log10() + AB_ZERO_POINT_NJY)
    }

    /// σ_mag of a flux measurement: σ_mag = σ_flux / (0.4·ln10·|flux|).
    pub fn mag_error(self, flux_err: FluxNjy) -> Option<f64> {
        let f = self.0.abs();
        (f > 0.0).then(|| flux_err.0 / (MAG_TO_FRACTIONAL_FLUX * f))
    }
}

/// A magnitude measurement as the survey reported it (AB).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AbMagnitude {
    pub mag: f64,
    pub err: f64,
}

impl AbMagnitude {
    /// Signed difference flux and its error from a difference-image magnitude.
    ///
    /// ZTF reports |difference flux| as `magpsf` and its sign in `isdiffpos` (ZTF Avro schema,
    /// candidate.avsc). σ_flux = 0.4·ln(10)·|flux|·σ_mag (first-order error propagation).
    pub fn to_difference_flux(self, positive: bool) -> (FluxNjy, FluxNjy) {
        let magnitude = FluxNjy::from_ab_mag(self.mag).0;
        let flux = if positive { magnitude } else { -magnitude };
        (
            FluxNjy(flux),
            FluxNjy(MAG_TO_FRACTIONAL_FLUX * magnitude * self.err),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ab_zero_point_is_3631_jy() {
        // 3631 Jy = 3.631e12 nJy has AB magnitude 0.
        assert!((FluxNjy(3.631e12).ab_mag().unwrap()).abs() < 1e-3);
    }

    #[test]
    fn magnitude_round_trips_through_flux() {
        for mag in [12.0, 18.3, 20.5, 24.7] {
            let back = FluxNjy::from_ab_mag(mag).ab_mag().unwrap();
            assert!((back - mag).abs() < 1e-12);
        }
    }

    #[test]
    fn negative_difference_keeps_magnitude_and_flips_sign() {
        let m = AbMagnitude {
            mag: 19.0,
            err: 0.1,
        };
        let (pos, err_pos) = m.to_difference_flux(true);
        let (neg, err_neg) = m.to_difference_flux(false);
        assert_eq!(pos.0, -neg.0);
        assert_eq!(err_pos, err_neg);
        // 19 mag = 10^(0.4·12.4) nJy ≈ 91201 nJy; σ ≈ 0.921·0.1·flux.
        assert!((pos.0 - 91_201.08).abs() < 0.1);
        assert!((err_pos.0 / pos.0 - 0.092_103_4).abs() < 1e-6);
    }

    #[test]
    fn jd_to_mjd() {
        assert_eq!(Mjd::from_jd(2_459_000.5).0, 59_000.0);
        assert_eq!(Mjd(59_000.0).to_jd(), 2_459_000.5);
    }
}
