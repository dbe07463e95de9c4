//! Mapping decoded Avro records of each survey onto the alert model: one file per survey.

pub(crate) mod lsst;
pub(crate) mod ztf;

use crate::DecodeError;
use crate::avro::Datum;

/// Reads fields of one record, naming the record path in every error.
pub(crate) struct Fields<'d, 'a> {
    pub datum: &'d Datum<'a>,
    pub path: &'d str,
}

impl<'d, 'a> Fields<'d, 'a> {
    pub fn new(datum: &'d Datum<'a>, path: &'d str) -> Self {
        Fields { datum, path }
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
        if !v.is_finite() {
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
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(DecodeError::out_of_range(self.name(field), v))
        }
    }
}

/// MJDs outside this window are not survey epochs (1858 to ~2132): a unit mistake (JD) or garbage.
pub(crate) const MJD_RANGE: (f64, f64) = (0.0, 100_000.0);
