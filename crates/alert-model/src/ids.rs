//! Identifiers: a survey beside every object id, because ZTF and Rubin ids live in different spaces.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The survey an alert came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Survey {
    Ztf,
    Lsst,
}

impl Survey {
    pub fn as_str(self) -> &'static str {
        match self {
            Survey::Ztf => "ztf",
            Survey::Lsst => "lsst",
        }
    }
}

impl fmt::Display for Survey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Survey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ztf" => Ok(Survey::Ztf),
            "lsst" | "rubin" => Ok(Survey::Lsst),
            other => Err(format!("unknown survey {other:?} (expected ztf or lsst)")),
        }
    }
}

/// An object identifier as the survey writes it: ZTF `objectId` (`ZTF18adoojej`) or Rubin
/// `diaObjectId` (a decimal integer).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ObjectId(String);

/// Why a string is not an object id of a survey.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {survey} object id: {reason}")]
pub struct InvalidObjectId {
    pub survey: Survey,
    pub value: String,
    pub reason: &'static str,
}

impl ObjectId {
    /// Parses an id for a survey: ZTF ids are `ZTF` + two-digit year + seven lower-case letters
    /// (ZTF alert schema, `objectId`); Rubin ids are non-negative 64-bit integers.
    pub fn parse(survey: Survey, value: &str) -> Result<Self, InvalidObjectId> {
        let invalid = |reason| InvalidObjectId {
            survey,
            value: value.chars().take(64).collect(),
            reason,
        };
        match survey {
            Survey::Ztf => {
                let rest = value
                    .strip_prefix("ZTF")
                    .ok_or_else(|| invalid("must start with ZTF"))?;
                let rest = rest.as_bytes();
                let ok = rest.len() == 9
                    && rest[..2].iter().all(u8::is_ascii_digit)
                    && rest[2..].iter().all(u8::is_ascii_lowercase);
                if ok {
                    Ok(ObjectId(value.to_owned()))
                } else {
                    Err(invalid(
                        "expected ZTF, a two-digit year and seven lower-case letters",
                    ))
                }
            }
            Survey::Lsst => {
                let digits = value.strip_prefix("ss").unwrap_or(value);
                let ok = !digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && digits.parse::<i64>().is_ok();
                if ok {
                    Ok(ObjectId(value.to_owned()))
                } else {
                    Err(invalid(
                        "expected a diaObjectId (integer) or ss<ssObjectId>",
                    ))
                }
            }
        }
    }

    /// A Rubin object id from the integer `diaObjectId`.
    pub fn from_lsst(dia_object_id: i64) -> Result<Self, InvalidObjectId> {
        if dia_object_id < 0 {
            return Err(InvalidObjectId {
                survey: Survey::Lsst,
                value: dia_object_id.to_string(),
                reason: "diaObjectId is negative",
            });
        }
        Ok(ObjectId(dia_object_id.to_string()))
    }

    /// A Rubin solar-system object (`ssObjectId`), for sources with no `diaObjectId`.
    pub fn from_lsst_solar_system(ss_object_id: i64) -> Result<Self, InvalidObjectId> {
        if ss_object_id < 0 {
            return Err(InvalidObjectId {
                survey: Survey::Lsst,
                value: ss_object_id.to_string(),
                reason: "ssObjectId is negative",
            });
        }
        Ok(ObjectId(format!("ss{ss_object_id}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The survey's id of one measurement: ZTF `candid`, Rubin `diaSourceId` / `diaForcedSourceId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SourceId(pub i64);

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ztf_ids() {
        assert!(ObjectId::parse(Survey::Ztf, "ZTF18adoojej").is_ok());
        assert!(ObjectId::parse(Survey::Ztf, "ZTF18adoojeJ").is_err());
        assert!(ObjectId::parse(Survey::Ztf, "ZTF18adooje").is_err());
        assert!(ObjectId::parse(Survey::Ztf, "ZTF1éadoojej").is_err());
        assert!(ObjectId::parse(Survey::Ztf, "").is_err());
        // A multi-byte character across the year/letters boundary must not panic.
        assert!(ObjectId::parse(Survey::Ztf, "ZTF1éoojeja").is_err());
    }

    #[test]
    fn lsst_ids() {
        assert!(ObjectId::parse(Survey::Lsst, "3527242430321524769").is_ok());
        assert!(ObjectId::parse(Survey::Lsst, "-1").is_err());
        assert!(ObjectId::parse(Survey::Lsst, "+1").is_err());
        assert!(ObjectId::parse(Survey::Lsst, "ss17").is_ok());
        assert!(ObjectId::from_lsst(-5).is_err());
        assert_eq!(ObjectId::from_lsst(42).unwrap().as_str(), "42");
    }
}
