//! The class taxonomy: ALeRCE's light-curve classifier (Sánchez-Sáez et al. 2021, AJ 161, 141), 15
//! classes under three top-level groups.

use serde::{Deserialize, Serialize};

/// Number of classes the model predicts.
pub const N_CLASSES: usize = 15;
/// Number of top-level groups.
pub const N_TOP: usize = 3;

/// Class names in model output order (the order of [`crate::Prediction::probabilities`]).
pub const CLASS_NAMES: [&str; N_CLASSES] = [
    "SNIa",
    "SNIbc",
    "SNII",
    "SLSN",
    "QSO",
    "AGN",
    "Blazar",
    "YSO",
    "CV/Nova",
    "LPV",
    "E",
    "DSCT",
    "RRL",
    "CEP",
    "Periodic-Other",
];

/// Top level of the hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TopLevel {
    Transient,
    Stochastic,
    Periodic,
}

impl TopLevel {
    pub const ALL: [TopLevel; N_TOP] = [
        TopLevel::Transient,
        TopLevel::Stochastic,
        TopLevel::Periodic,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TopLevel::Transient => "Transient",
            TopLevel::Stochastic => "Stochastic",
            TopLevel::Periodic => "Periodic",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Index of a class name in [`CLASS_NAMES`]: exact, then case-insensitive, then on letters and
/// digits alone, so `SN Ia`, `cv-nova` or `Periodic Other` from a catalogue match too.
pub fn class_index(name: &str) -> Option<usize> {
    let name = name.trim();
    let letters_and_digits = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    CLASS_NAMES
        .iter()
        .position(|c| *c == name)
        .or_else(|| {
            CLASS_NAMES
                .iter()
                .position(|c| c.eq_ignore_ascii_case(name))
        })
        .or_else(|| {
            let bare = letters_and_digits(name);
            CLASS_NAMES
                .iter()
                .position(|c| !bare.is_empty() && letters_and_digits(c) == bare)
        })
}

/// Top-level group of the class at `index` (transients 0–3, stochastic 4–8, periodic 9–14).
pub fn top_level_of(index: usize) -> TopLevel {
    match index {
        0..=3 => TopLevel::Transient,
        4..=8 => TopLevel::Stochastic,
        _ => TopLevel::Periodic,
    }
}

/// Sums class probabilities into the three top-level groups.
pub fn top_level_probabilities(probabilities: &[f32]) -> [f32; N_TOP] {
    let mut out = [0.0; N_TOP];
    for (i, p) in probabilities.iter().enumerate().take(N_CLASSES) {
        out[top_level_of(i).index()] += p;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_groups() {
        assert_eq!(class_index("CV/Nova"), Some(8));
        assert_eq!(class_index("periodic-other"), Some(14));
        assert_eq!(class_index("TDE"), None);
        assert_eq!(class_index("SN Ia"), Some(0));
        assert_eq!(class_index("Periodic Other"), Some(14));
        assert_eq!(class_index("cv nova"), Some(8));
        assert_eq!(class_index("--"), None);
        let count = |t| (0..N_CLASSES).filter(|&i| top_level_of(i) == t).count();
        assert_eq!(count(TopLevel::Transient), 4);
        assert_eq!(count(TopLevel::Stochastic), 5);
        assert_eq!(count(TopLevel::Periodic), 6);
        // The simulator spells the classes the same way.
        for c in simulator::Class::ALL_TRAINING {
            let i = class_index(c.name()).expect("simulator class is in the taxonomy");
            assert_eq!(top_level_of(i).name(), c.top_level().name());
        }
    }
}
