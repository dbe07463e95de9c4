//! Mapping decoded Avro records of each survey onto the alert model: one file per survey.

pub(crate) mod lsst;
pub(crate) mod ztf;

use crate::DecodeError;
use crate::avro::Datum;

/// How strictly measured values are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Validation {
    /// Non-finite or implausible measurements (a NaN flux, an MJD that is not a survey epoch) are
    /// [`DecodeError::OutOfRange`]: the broker's default, so such packets reach the dead-letter topic.
    #[default]
    Strict,
    /// Measurements are kept as the packet states them (for inspecting test fixtures such as
    /// Rubin's simulated `fakeAlert`s); structure and identifiers are still checked.
    Permissive,
}

/// Reads fields of one record, naming the record path in every error.
pub(crate) struct Fields<'d, 'a> {
    pub datum: &'d Datum<'a>,
    pub path: &'d str,
    pub validation: Validation,
}

impl<'d, 'a> Fields<'d, 'a> {
    pub fn new(datum: &'d Datum<'a>, path: &'d str, validation: Validation) -> Self {
        Fields {
            datum,
            path,
            validation,
        }
    }

    /// A nested record, checked the same way.
    pub fn child<'e>(&self, datum: &'e Datum<'a>, path: &'e str) -> Fields<'e, 'a> {
        Fields::new(datum, path, self.validation)
    }

    fn name(&self, field: &str) -> String {
        format!("{}.{field}", self.path)
    }

    /// The first present, non-null field among `names`.
    pub fn get(&self, names: &[&str]) -> Option<&'d Datum<'a>> {
        self.datum.field_any(names)
    }

    pub fn f64(&self, names: &[&str]) -> Result<f64, DecodeError> {
        let d = self
            .get(names)
            .ok_or_else(|| DecodeError::missing(self.name(names[0])))?;
        let v = d
            .as_f64()
            .ok_or_else(|| DecodeError::out_of_range(self.name(names[0]), "not a number"))?;
        if !v.is_finite() && self.validation == Validation::Strict {
            return Err(DecodeError::out_of_range(self.name(names[0]), v));
        }
        Ok(v)
    }

    /// A finite number, or `None` when absent, null or not finite (quality fields).
    pub fn opt_f64(&self, names: &[&str]) -> Option<f64> {
        self.get(names)?.as_f64().filter(|v| v.is_finite())
    }

    pub fn i64(&self, names: &[&str]) -> Result<i64, DecodeError> {
        self.get(names)
            .ok_or_else(|| DecodeError::missing(self.name(names[0])))?
            .as_i64()
            .ok_or_else(|| DecodeError::out_of_range(self.name(names[0]), "not an integer"))
    }

    pub fn opt_i64(&self, names: &[&str]) -> Option<i64> {
        self.get(names)?.as_i64()
    }

    pub fn str(&self, names: &[&str]) -> Result<&'a str, DecodeError> {
        self.get(names)
            .ok_or_else(|| DecodeError::missing(self.name(names[0])))?
            .as_str()
            .ok_or_else(|| DecodeError::out_of_range(self.name(names[0]), "not a string"))
    }

    pub fn opt_str(&self, names: &[&str]) -> Option<&'a str> {
        self.get(names)?.as_str()
    }

    pub fn opt_bool(&self, names: &[&str]) -> Option<bool> {
        self.get(names)?.as_bool()
    }

    /// Checks a value lies in `[lo, hi]`.
    pub fn in_range(&self, field: &str, v: f64, lo: f64, hi: f64) -> Result<f64, DecodeError> {
        if (lo..=hi).contains(&v) || self.validation == Validation::Permissive {
            Ok(v)
        } else {
            Err(DecodeError::out_of_range(self.name(field), v))
        }
    }
}

/// MJDs outside this window are not survey epochs (1858 to ~2132): a unit mistake (JD) or garbage.
pub(crate) const MJD_RANGE: (f64, f64) = (0.0, 100_000.0);
