//! ALeRCE's light-curve classifier taxonomy (Sánchez-Sáez et al. 2021, AJ 161, 141): 15 leaf
//! classes under three top-level groups. The names are the ones the classifier records.

/// A top-level group and its leaf classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopLevel {
    pub name: &'static str,
    pub classes: &'static [&'static str],
}

pub const TAXONOMY: [TopLevel; 3] = [
    TopLevel {
        name: "Transient",
        classes: &["SNIa", "SNIbc", "SNII", "SLSN"],
    },
    TopLevel {
        name: "Stochastic",
        classes: &["QSO", "AGN", "Blazar", "YSO", "CV/Nova"],
    },
    TopLevel {
        name: "Periodic",
        classes: &["LPV", "E", "DSCT", "RRL", "CEP", "Periodic-Other"],
    },
];

/// Every leaf class, in taxonomy order.
pub fn classes() -> impl Iterator<Item = &'static str> {
    TAXONOMY.iter().flat_map(|t| t.classes.iter().copied())
}

/// The canonical spelling of a class name given in any letter case; `None` if unknown.
pub fn canonical_class(name: &str) -> Option<&'static str> {
    classes().find(|c| c.eq_ignore_ascii_case(name))
}

/// The top-level group of a leaf class.
pub fn top_level_of(class: &str) -> Option<&'static str> {
    TAXONOMY
        .iter()
        .find(|t| t.classes.iter().any(|c| c.eq_ignore_ascii_case(class)))
        .map(|t| t.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifteen_classes_each_in_one_group() {
        assert_eq!(classes().count(), 15);
        assert_eq!(canonical_class("snia"), Some("SNIa"));
        assert_eq!(canonical_class("cv/nova"), Some("CV/Nova"));
        assert_eq!(canonical_class("TDE"), None);
        assert_eq!(top_level_of("RRL"), Some("Periodic"));
        assert_eq!(top_level_of("QSO"), Some("Stochastic"));
    }
}
