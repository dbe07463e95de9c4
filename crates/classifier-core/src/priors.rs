//! Class priors of the reported probabilities. The network is trained and calibrated on equal
//! numbers of objects per class, so its probabilities are posteriors under a uniform prior. A
//! magnitude-limited alert stream holds supernova types at very unequal rates, and the posterior
//! for that population re-weights each class by its prior ratio (label-shift correction: Saerens,
//! Latinne & Decaestecker 2002, Neural Computation 14, 21).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::taxonomy::N_CLASSES;

/// Approximate fractions of SNIa, SNIbc, SNII and SLSN among spectroscopically classified supernovae
/// of a magnitude-limited survey (ZTF Bright Transient Survey, m < 18.5: Perley et al. 2020, ApJ 904,
/// 35; IIb and IIn counted as SNII). ALeRCE's labelled set has the same mix (1272 / 94 / 328 / 24:
/// Sánchez-Sáez et al. 2021, AJ 161, 141).
/// In taxonomy order: the transient group is classes 0–3 (`taxonomy::top_level_of`).
pub const SUPERNOVA_RATES: [f32; 4] = [0.72, 0.05, 0.21, 0.02];

/// Which class frequencies the reported probabilities assume.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassPriors {
    /// A real alert stream: within the transients, supernova types at their observed rates
    /// ([`SUPERNOVA_RATES`]). The top-level probabilities and the other classes are unchanged, as
    /// their rates depend on the field and the catalogue far more than the supernova mix does.
    #[default]
    Survey,
    /// Equal frequencies, as in training and the simulated test sets: the network's output as is.
    Balanced,
}

impl ClassPriors {
    /// Re-weights `probabilities` (15 classes, in taxonomy order) in place. The transient group
    /// keeps its total, so the top level does not move.
    pub fn apply(self, probabilities: &mut [f32]) {
        if self == ClassPriors::Balanced || probabilities.len() != N_CLASSES {
            return;
        }
        // Training prior within the group: uniform over the four supernova types.
        let uniform = 1.0 / SUPERNOVA_RATES.len() as f32;
        let supernovae = &mut probabilities[..SUPERNOVA_RATES.len()];
        let total: f32 = supernovae.iter().sum();
        let mut weighted = [0.0f32; 4];
        for ((w, p), rate) in weighted
            .iter_mut()
            .zip(supernovae.iter())
            .zip(SUPERNOVA_RATES)
        {
            *w = p * rate / uniform;
        }
        let norm: f32 = weighted.iter().sum();
        if !(norm > 0.0 && norm.is_finite()) {
            return;
        }
        for (p, w) in supernovae.iter_mut().zip(weighted) {
            *p = w / norm * total;
        }
    }
}

impl fmt::Display for ClassPriors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClassPriors::Survey => "survey",
            ClassPriors::Balanced => "balanced",
        })
    }
}

impl FromStr for ClassPriors {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "survey" => Ok(ClassPriors::Survey),
            "balanced" => Ok(ClassPriors::Balanced),
            other => Err(format!("unknown priors {other:?} (survey or balanced)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy::{TopLevel, top_level_of, top_level_probabilities};

    fn sample() -> Vec<f32> {
        // SLSN favoured 4:1 over SNIa by the network; some stochastic and periodic mass.
        let mut p = vec![0.0; N_CLASSES];
        p[0] = 0.1;
        p[3] = 0.4;
        p[4] = 0.3;
        p[12] = 0.2;
        p
    }

    #[test]
    fn the_rates_cover_exactly_the_transient_group() {
        let transients: Vec<usize> = (0..N_CLASSES)
            .filter(|&i| top_level_of(i) == TopLevel::Transient)
            .collect();
        assert_eq!(transients, (0..SUPERNOVA_RATES.len()).collect::<Vec<_>>());
        assert!((SUPERNOVA_RATES.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn balanced_leaves_the_network_output() {
        let mut p = sample();
        ClassPriors::Balanced.apply(&mut p);
        assert_eq!(p, sample());
    }

    #[test]
    fn survey_moves_mass_within_the_transients_only() {
        let mut p = sample();
        ClassPriors::Survey.apply(&mut p);
        let before = top_level_probabilities(&sample());
        let after = top_level_probabilities(&p);
        for (a, b) in before.iter().zip(after) {
            assert!((a - b).abs() < 1e-6, "{before:?} → {after:?}");
        }
        assert_eq!(p[4..], sample()[4..]);
        // Posterior odds SNIa : SLSN = (0.1 · 0.72) : (0.4 · 0.02) = 9 : 1.
        assert!((p[0] / p[3] - 9.0).abs() < 1e-3, "{p:?}");
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn no_transient_mass_stays_untouched() {
        let mut p = vec![0.0; N_CLASSES];
        p[9] = 1.0;
        let before = p.clone();
        ClassPriors::Survey.apply(&mut p);
        assert_eq!(p, before);
    }

    #[test]
    fn parses_its_names() {
        assert_eq!("survey".parse(), Ok(ClassPriors::Survey));
        assert_eq!("Balanced".parse(), Ok(ClassPriors::Balanced));
        assert!("flat".parse::<ClassPriors>().is_err());
        assert_eq!(ClassPriors::default().to_string(), "survey");
    }
}
