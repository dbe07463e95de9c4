//! Photometric bands and their effective wavelengths: the one table the whole project reads.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::Survey;

/// A photometric band. ZTF observes g, r, i (`fid` 1, 2, 3); Rubin u, g, r, i, z, y.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Band {
    U,
    G,
    R,
    I,
    Z,
    Y,
}

impl Band {
    pub const ALL: [Band; 6] = [Band::U, Band::G, Band::R, Band::I, Band::Z, Band::Y];

    pub fn as_str(self) -> &'static str {
        match self {
            Band::U => "u",
            Band::G => "g",
            Band::R => "r",
            Band::I => "i",
            Band::Z => "z",
            Band::Y => "y",
        }
    }

    /// Parses a band name as the surveys write it (`g`, `r`, ELAsTiCC's `Y`, `ztfg`, `lsstr`, and
    /// IRSA's ZTF filter codes `zg`, `zr`, `zi`).
    pub fn parse(name: &str) -> Option<Band> {
        let name = name.trim();
        let short = name
            .strip_prefix("ztf")
            .or_else(|| name.strip_prefix("lsst"))
            .unwrap_or(name);
        match short.to_ascii_lowercase().as_str() {
            "zg" => Some(Band::G),
            "zr" => Some(Band::R),
            "zi" => Some(Band::I),
            "u" => Some(Band::U),
            "g" => Some(Band::G),
            "r" => Some(Band::R),
            "i" => Some(Band::I),
            "z" => Some(Band::Z),
            "y" => Some(Band::Y),
            _ => None,
        }
    }

    /// ZTF filter id: 1 = g, 2 = r, 3 = i (ZTF Avro schema, `fid`).
    pub fn from_ztf_fid(fid: i64) -> Option<Band> {
        match fid {
            1 => Some(Band::G),
            2 => Some(Band::R),
            3 => Some(Band::I),
            _ => None,
        }
    }

    /// Effective wavelength in Å of this band on the given survey's system.
    ///
    /// ZTF: Bellm et al. 2019 (PASP 131, 018002); Rubin: Ivezić et al. 2019 (ApJ 873, 111).
    /// `None` where the survey has no such band.
    pub fn effective_wavelength(self, survey: Survey) -> Option<f64> {
        match (survey, self) {
            (Survey::Ztf, Band::G) => Some(4800.0),
            (Survey::Ztf, Band::R) => Some(6400.0),
            (Survey::Ztf, Band::I) => Some(7900.0),
            (Survey::Ztf, _) => None,
            (Survey::Lsst, Band::U) => Some(3670.0),
            (Survey::Lsst, Band::G) => Some(4830.0),
            (Survey::Lsst, Band::R) => Some(6220.0),
            (Survey::Lsst, Band::I) => Some(7550.0),
            (Survey::Lsst, Band::Z) => Some(8690.0),
            (Survey::Lsst, Band::Y) => Some(9710.0),
        }
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_survey_spellings() {
        assert_eq!(Band::parse("Y"), Some(Band::Y));
        assert_eq!(Band::parse("ztfg"), Some(Band::G));
        assert_eq!(Band::parse("lsstr"), Some(Band::R));
        assert_eq!(Band::parse("zr"), Some(Band::R));
        assert_eq!(Band::parse("z"), Some(Band::Z));
        assert_eq!(Band::parse("V"), None);
        assert_eq!(Band::from_ztf_fid(2), Some(Band::R));
        assert_eq!(Band::from_ztf_fid(4), None);
    }

    #[test]
    fn ztf_has_no_u_band() {
        assert_eq!(Band::U.effective_wavelength(Survey::Ztf), None);
        assert_eq!(Band::U.effective_wavelength(Survey::Lsst), Some(3670.0));
    }
}
