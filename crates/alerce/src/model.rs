//! The JSON the ALeRCE ZTF API v1 answers, as documented (api.alerce.online/ztf/v1 and the
//! `alerce` Python client's response models). Fields the broker does not read are ignored.
//!
//! The service is lenient in places: `candid` comes as a string or a number, `isdiffpos` as
//! 1/−1 or "t"/"f", and Python's JSON encoder may write `NaN`. These types accept all of those;
//! per-record problems (a missing magnitude) are left to [`crate::map_light_curve`] to report.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `GET /objects/{oid}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiObject {
    pub oid: String,
    #[serde(default, deserialize_with = "opt_f64")]
    pub meanra: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub meandec: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub firstmjd: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub lastmjd: Option<f64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub ndet: Option<i64>,
    /// Top class of the default classifier (`lc_classifier`, ranking 1).
    #[serde(default, rename = "class")]
    pub class_name: Option<String>,
    #[serde(default)]
    pub classifier: Option<String>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub probability: Option<f64>,
}

/// `GET /objects/{oid}/lightcurve`. Both lists must be present (`null` reads as empty), so an
/// answer of some other shape is an error rather than an empty light curve.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiLightCurve {
    #[serde(deserialize_with = "null_as_empty")]
    pub detections: Vec<ApiDetection>,
    #[serde(deserialize_with = "null_as_empty")]
    pub non_detections: Vec<ApiNonDetection>,
}

/// One detection (the alert `candidate` fields ALeRCE keeps).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiDetection {
    #[serde(default, deserialize_with = "opt_i64")]
    pub candid: Option<i64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub mjd: Option<f64>,
    #[serde(default, alias = "band", deserialize_with = "opt_i64")]
    pub fid: Option<i64>,
    /// Difference-image PSF magnitude (not the `magpsf_corr` of the total flux).
    #[serde(default, alias = "mag", deserialize_with = "opt_f64")]
    pub magpsf: Option<f64>,
    #[serde(default, alias = "e_mag", deserialize_with = "opt_f64")]
    pub sigmapsf: Option<f64>,
    /// True when the science image is brighter than the template.
    #[serde(default, deserialize_with = "opt_diffpos")]
    pub isdiffpos: Option<bool>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub ra: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub dec: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub rb: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub drb: Option<f64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub nbad: Option<i64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub fwhm: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub magzpsci: Option<f64>,
}

/// One non-detection: the 5σ limiting magnitude of a difference image without a source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiNonDetection {
    #[serde(default, deserialize_with = "opt_f64")]
    pub mjd: Option<f64>,
    #[serde(default, alias = "band", deserialize_with = "opt_i64")]
    pub fid: Option<i64>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub diffmaglim: Option<f64>,
}

/// One row of `GET /objects/{oid}/probabilities`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiProbability {
    pub classifier_name: String,
    #[serde(default)]
    pub classifier_version: Option<String>,
    pub class_name: String,
    #[serde(deserialize_with = "f64_lenient")]
    pub probability: f64,
    #[serde(default, deserialize_with = "opt_i64")]
    pub ranking: Option<i64>,
}

/// ALeRCE's light-curve classifier, whose taxonomy the broker's own classifier follows.
pub const LC_CLASSIFIER: &str = "lc_classifier";

/// The most probable class of `classifier` (ranking 1 where given, else the highest probability).
pub fn top_class<'a>(
    probabilities: &'a [ApiProbability],
    classifier: &str,
) -> Option<&'a ApiProbability> {
    probabilities
        .iter()
        .filter(|p| p.classifier_name == classifier && p.probability.is_finite())
        .max_by(|a, b| {
            let rank = |p: &ApiProbability| std::cmp::Reverse(p.ranking.unwrap_or(i64::MAX));
            rank(a)
                .cmp(&rank(b))
                .then(a.probability.total_cmp(&b.probability))
        })
}

/// Parses `body` as `T`; when that fails and the body holds bare `NaN`/`Infinity` tokens (Python's
/// encoder writes them), retries with those tokens read as `null`.
pub fn parse<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, serde_json::Error> {
    match serde_json::from_str(body) {
        Ok(v) => Ok(v),
        Err(first) => match non_finite_as_null(body) {
            Some(cleaned) => serde_json::from_str(&cleaned).map_err(|_| first),
            None => Err(first),
        },
    }
}

/// `body` with `NaN`, `Infinity` and `-Infinity` outside strings replaced by `null`; `None`
/// when there is none.
fn non_finite_as_null(body: &str) -> Option<String> {
    let bytes = body.as_bytes();
    let mut out = String::with_capacity(body.len());
    let (mut i, mut in_string, mut changed, mut copied) = (0, false, false, 0);
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        let token = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|t| bytes[i..].starts_with(t.as_bytes()));
        if let Some(t) = token {
            out.push_str(&body[copied..i]);
            out.push_str("null");
            i += t.len();
            copied = i;
            changed = true;
        } else {
            i += 1;
        }
    }
    changed.then(|| {
        out.push_str(&body[copied..]);
        out
    })
}

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64()),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected a number, got {s:?}"))),
        other => Err(de::Error::custom(format!("expected a number, got {other}"))),
    }
}

fn f64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    opt_f64(d)?.ok_or_else(|| de::Error::custom("expected a number, got null"))
}

fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let integral = |x: f64| (x.fract() == 0.0 && x.abs() < 9.0e15).then_some(x as i64);
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => match n.as_i64().or_else(|| n.as_f64().and_then(integral)) {
            Some(v) => Ok(Some(v)),
            None => Err(de::Error::custom(format!("expected an integer, got {n}"))),
        },
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected an integer, got {s:?}"))),
        other => Err(de::Error::custom(format!(
            "expected an integer, got {other}"
        ))),
    }
}

/// `isdiffpos`: 1 / −1 (ALeRCE), "t" / "f" / "1" / "0" (ZTF packets), or a boolean.
fn opt_diffpos<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let bad = |v: &dyn std::fmt::Display| de::Error::custom(format!("isdiffpos: unexpected {v}"));
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(b)),
        Value::Number(n) => match n.as_f64() {
            Some(x) if x > 0.0 => Ok(Some(true)),
            Some(x) if x <= 0.0 => Ok(Some(false)),
            _ => Err(bad(&n)),
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "t" | "true" | "1" => Ok(Some(true)),
            "f" | "false" | "0" | "-1" => Ok(Some(false)),
            _ => Err(bad(&format!("{s:?}"))),
        },
        other => Err(bad(&other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detections_accept_both_spellings() {
        let d: ApiDetection = parse(
            r#"{"candid":"1234","mjd":59000.5,"fid":2,"magpsf":19.1,"sigmapsf":0.1,
                "isdiffpos":-1,"ra":10.0,"dec":-5.0,"rb":0.9,"drb":null}"#,
        )
        .unwrap();
        assert_eq!(d.candid, Some(1234));
        assert_eq!(d.isdiffpos, Some(false));
        assert_eq!(d.drb, None);
        let d: ApiDetection = parse(r#"{"candid":1234,"isdiffpos":"t","mag":18.0}"#).unwrap();
        assert_eq!(
            (d.candid, d.isdiffpos, d.magpsf),
            (Some(1234), Some(true), Some(18.0))
        );
    }

    #[test]
    fn python_nan_reads_as_null() {
        let d: ApiDetection =
            parse(r#"{"candid":1,"drb":NaN,"rb":-Infinity,"note":"NaN stays"}"#).unwrap();
        assert_eq!((d.drb, d.rb), (None, None));
        assert!(parse::<ApiDetection>(r#"{"candid":1,"drb":NaN"#).is_err());
    }

    #[test]
    fn light_curve_requires_its_lists() {
        assert!(parse::<ApiLightCurve>(r#"{"items":[]}"#).is_err());
        let lc: ApiLightCurve = parse(r#"{"detections":[],"non_detections":null}"#).unwrap();
        assert!(lc.non_detections.is_empty());
    }

    #[test]
    fn top_class_prefers_ranking_one() {
        let p = |name: &str, class: &str, prob: f64, rank: i64| ApiProbability {
            classifier_name: name.into(),
            classifier_version: None,
            class_name: class.into(),
            probability: prob,
            ranking: Some(rank),
        };
        let probs = [
            p("lc_classifier", "SNII", 0.3, 2),
            p("lc_classifier", "SNIa", 0.6, 1),
            p("stamp_classifier", "AGN", 0.9, 1),
        ];
        assert_eq!(top_class(&probs, LC_CLASSIFIER).unwrap().class_name, "SNIa");
        assert!(top_class(&probs, "nope").is_none());
    }
}
