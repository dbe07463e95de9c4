//! Parsing of path and query parameters into domain types; every failure is a 400 naming the
//! parameter and the value.

use std::collections::HashMap;

use alert_model::{ObjectId, Survey};
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::spec::{Param, query_names};

/// Longest parameter value echoed back in an error.
const ECHO_CHARS: usize = 80;

fn echo(value: &str) -> String {
    value.chars().take(ECHO_CHARS).collect()
}

/// The query string as name → value (the last wins), restricted to known names.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Accepts only the query parameters of `spec`, so a misspelt filter is an error, not
    /// ignored.
    pub fn from_query(
        query: Result<Query<HashMap<String, String>>, QueryRejection>,
        spec: &[Param],
    ) -> ApiResult<Self> {
        let allowed = query_names(spec);
        let Query(map) = query
            .map_err(|e| ApiError::bad_request("malformed query string", json!(e.body_text())))?;
        let mut unknown: Vec<&str> = map
            .keys()
            .map(String::as_str)
            .filter(|k| !allowed.contains(k))
            .collect();
        if !unknown.is_empty() {
            unknown.sort_unstable();
            return Err(ApiError::bad_request(
                "unknown query parameter",
                json!({ "unknown": unknown, "allowed": allowed }),
            ));
        }
        Ok(Params(map))
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A finite float, optionally within `[min, max]`.
    pub fn f64(&self, name: &str, range: Option<(f64, f64)>) -> ApiResult<Option<f64>> {
        let Some(text) = self.str(name) else {
            return Ok(None);
        };
        let bad = |why: &str| {
            ApiError::bad_request(
                format!("invalid {name}"),
                json!({ "parameter": name, "value": echo(text), "expected": why }),
            )
        };
        let value: f64 = text.trim().parse().map_err(|_| bad("a number"))?;
        if !value.is_finite() {
            return Err(bad("a finite number"));
        }
        if let Some((min, max)) = range
            && !(min..=max).contains(&value)
        {
            return Err(bad(&format!("a number in [{min}, {max}]")));
        }
        Ok(Some(value))
    }

    /// `limit`: 1..=max, `default` when absent.
    pub fn limit(&self, default: u32, max: u32) -> ApiResult<u32> {
        let Some(text) = self.str("limit") else {
            return Ok(default.min(max));
        };
        match text.trim().parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(
                "invalid limit",
                json!({ "parameter": "limit", "value": echo(text), "expected": format!("an integer in [1, {max}]") }),
            )),
        }
    }

    pub fn survey(&self) -> ApiResult<Option<Survey>> {
        self.str("survey").map(parse_survey).transpose()
    }
}

pub fn parse_survey(text: &str) -> ApiResult<Survey> {
    text.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid survey",
            json!({ "parameter": "survey", "value": echo(text), "expected": ["ztf", "lsst"] }),
        )
    })
}

/// An object id with its survey: given, or inferred from the id's shape (`ZTF…` is ZTF, digits or
/// `ss` + digits are Rubin).
pub fn object_id(oid: &str, survey: Option<Survey>) -> ApiResult<(Survey, ObjectId)> {
    let survey = match survey {
        Some(s) => s,
        None if oid.starts_with("ZTF") => Survey::Ztf,
        None if !oid.is_empty()
            && oid
                .strip_prefix("ss")
                .unwrap_or(oid)
                .bytes()
                .all(|b| b.is_ascii_digit()) =>
        {
            Survey::Lsst
        }
        None => {
            return Err(ApiError::bad_request(
                "malformed object id",
                json!({
                    "object_id": echo(oid),
                    "expected": "a ZTF objectId (ZTF18adoojej) or a Rubin diaObjectId (integer)",
                }),
            ));
        }
    };
    let id = ObjectId::parse(survey, oid).map_err(|e| {
        ApiError::bad_request(
            "malformed object id",
            json!({ "object_id": echo(oid), "survey": survey, "reason": e.reason }),
        )
    })?;
    Ok((survey, id))
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass through).
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_survey_from_shape() {
        assert_eq!(object_id("ZTF18adoojej", None).unwrap().0, Survey::Ztf);
        assert_eq!(
            object_id("3068394670028488705", None).unwrap().0,
            Survey::Lsst
        );
        assert_eq!(object_id("ss12", None).unwrap().0, Survey::Lsst);
        assert!(object_id("ZTF18ADOOJEJ", None).is_err());
        assert!(object_id("", None).is_err());
        assert!(object_id("hello", None).is_err());
        assert!(object_id("ZTF18adoojej", Some(Survey::Lsst)).is_err());
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(encode_query_value("CV/Nova"), "CV%2FNova");
        assert_eq!(encode_query_value("a b&c"), "a%20b%26c");
    }
}
