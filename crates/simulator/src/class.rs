//! The class taxonomy: ALeRCE's 15 light-curve classes (Sánchez-Sáez et al. 2021, AJ 161, 141) plus
//! anomaly classes that are kept out of training and used to validate the anomaly score.

use std::fmt;
use std::str::FromStr;

/// Top level of the ALeRCE hierarchy. Anomaly classes keep their physical group (all are one-off
/// transients) and are flagged by [`Class::is_anomaly`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TopLevel {
    Transient,
    Stochastic,
    Periodic,
}

impl TopLevel {
    pub fn name(self) -> &'static str {
        match self {
            TopLevel::Transient => "Transient",
            TopLevel::Stochastic => "Stochastic",
            TopLevel::Periodic => "Periodic",
        }
    }
}

/// A simulated class of astrophysical source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    SnIa,
    SnIbc,
    SnII,
    Slsn,
    Qso,
    Agn,
    Blazar,
    Yso,
    CvNova,
    Lpv,
    E,
    Dsct,
    Rrl,
    Cep,
    PeriodicOther,
    /// Tidal disruption event (anomaly class).
    Tde,
    /// Kilonova (anomaly class).
    Kilonova,
    /// Point-lens microlensing (anomaly class).
    Microlensing,
    /// Pair-instability / slow luminous supernova (anomaly class).
    Pisn,
}

impl Class {
    /// ALeRCE's 15 training classes, in taxonomy order.
    pub const ALL_TRAINING: [Class; 15] = [
        Class::SnIa,
        Class::SnIbc,
        Class::SnII,
        Class::Slsn,
        Class::Qso,
        Class::Agn,
        Class::Blazar,
        Class::Yso,
        Class::CvNova,
        Class::Lpv,
        Class::E,
        Class::Dsct,
        Class::Rrl,
        Class::Cep,
        Class::PeriodicOther,
    ];

    /// Classes never shown to the classifier in training.
    pub const ANOMALIES: [Class; 4] = [
        Class::Tde,
        Class::Kilonova,
        Class::Microlensing,
        Class::Pisn,
    ];

    /// Every class, training classes first.
    pub const ALL: [Class; 19] = [
        Class::SnIa,
        Class::SnIbc,
        Class::SnII,
        Class::Slsn,
        Class::Qso,
        Class::Agn,
        Class::Blazar,
        Class::Yso,
        Class::CvNova,
        Class::Lpv,
        Class::E,
        Class::Dsct,
        Class::Rrl,
        Class::Cep,
        Class::PeriodicOther,
        Class::Tde,
        Class::Kilonova,
        Class::Microlensing,
        Class::Pisn,
    ];

    /// The label as written in `labels.csv` (ALeRCE's spelling for the training classes).
    pub fn name(self) -> &'static str {
        match self {
            Class::SnIa => "SNIa",
            Class::SnIbc => "SNIbc",
            Class::SnII => "SNII",
            Class::Slsn => "SLSN",
            Class::Qso => "QSO",
            Class::Agn => "AGN",
            Class::Blazar => "Blazar",
            Class::Yso => "YSO",
            Class::CvNova => "CV/Nova",
            Class::Lpv => "LPV",
            Class::E => "E",
            Class::Dsct => "DSCT",
            Class::Rrl => "RRL",
            Class::Cep => "CEP",
            Class::PeriodicOther => "Periodic-Other",
            Class::Tde => "TDE",
            Class::Kilonova => "Kilonova",
            Class::Microlensing => "Microlensing",
            Class::Pisn => "PISN",
        }
    }

    pub fn top_level(self) -> TopLevel {
        match self {
            Class::SnIa | Class::SnIbc | Class::SnII | Class::Slsn => TopLevel::Transient,
            Class::Qso | Class::Agn | Class::Blazar | Class::Yso | Class::CvNova => {
                TopLevel::Stochastic
            }
            Class::Lpv
            | Class::E
            | Class::Dsct
            | Class::Rrl
            | Class::Cep
            | Class::PeriodicOther => TopLevel::Periodic,
            Class::Tde | Class::Kilonova | Class::Microlensing | Class::Pisn => TopLevel::Transient,
        }
    }

    pub fn is_anomaly(self) -> bool {
        Class::ANOMALIES.contains(&self)
    }

    /// Position in [`Class::ALL`] (stable: used to derive per-object random streams).
    pub fn index(self) -> usize {
        Class::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A class name that is not one of [`Class::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown class {0:?}")]
pub struct UnknownClass(pub String);

impl FromStr for Class {
    type Err = UnknownClass;

    /// Parses [`Class::name`] exactly, or case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Class::ALL
            .iter()
            .copied()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownClass(s.chars().take(64).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_groups() {
        for c in Class::ALL {
            assert_eq!(c.name().parse::<Class>(), Ok(c));
            assert_eq!(Class::ALL[c.index()], c);
        }
        assert_eq!(Class::CvNova.name(), "CV/Nova");
        assert_eq!(Class::PeriodicOther.name(), "Periodic-Other");
        assert!(Class::ALL_TRAINING.iter().all(|c| !c.is_anomaly()));
        assert!(Class::ANOMALIES.iter().all(|c| c.is_anomaly()));
        let count = |t| {
            Class::ALL_TRAINING
                .iter()
                .filter(|c| c.top_level() == t)
                .count()
        };
        assert_eq!(count(TopLevel::Transient), 4);
        assert_eq!(count(TopLevel::Stochastic), 5);
        assert_eq!(count(TopLevel::Periodic), 6);
        assert!("Nope".parse::<Class>().is_err());
    }
}
