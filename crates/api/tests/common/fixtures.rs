//! Alerts and classifications with known contents.

use std::collections::BTreeMap;

use alert_model::{
    AbMagnitude, Alert, Band, Cutouts, Detection, DetectionQuality, FluxNjy, ForcedPhotometry, Mjd,
    ObjectId, SourceId, Survey, UpperLimit,
};
use store::NewClassification;

/// A valid ZTF object id numbered `n`: `ZTF24` + seven letters.
pub fn ztf_id(n: u32) -> ObjectId {
    let mut letters = [b'a'; 7];
    let mut rest = n;
    for slot in letters.iter_mut().rev() {
        *slot = b'a' + (rest % 26) as u8;
        rest /= 26;
    }
    let text = format!("ZTF24{}", String::from_utf8_lossy(&letters));
    ObjectId::parse(Survey::Ztf, &text).expect("valid id")
}

pub fn detection(source_id: i64, mjd: f64, band: Band, flux: f64) -> Detection {
    Detection {
        source_id: SourceId(source_id),
        mjd: Mjd(mjd),
        band,
        ra: 150.0 + source_id as f64 * 1e-6,
        dec: 2.0 - source_id as f64 * 1e-6,
        flux: FluxNjy(flux),
        flux_err: FluxNjy(flux.abs() * 0.05 + 10.0),
        mag: FluxNjy(flux)
            .ab_mag()
            .map(|mag| AbMagnitude { mag, err: 0.05 }),
        quality: DetectionQuality::default(),
    }
}

pub fn forced(mjd: f64, band: Band, flux: f64) -> ForcedPhotometry {
    ForcedPhotometry {
        source_id: None,
        mjd: Mjd(mjd),
        band,
        flux: FluxNjy(flux),
        flux_err: FluxNjy(25.0),
        status: Some("0".into()),
    }
}

pub fn limit(mjd: f64, band: Band, limiting_mag: f64) -> UpperLimit {
    UpperLimit {
        mjd: Mjd(mjd),
        band,
        limiting_mag,
    }
}

pub fn alert(
    survey: Survey,
    object_id: &ObjectId,
    candidate: Detection,
    previous_detections: Vec<Detection>,
    forced_photometry: Vec<ForcedPhotometry>,
    upper_limits: Vec<UpperLimit>,
) -> Alert {
    Alert {
        survey,
        object_id: object_id.clone(),
        schema_version: "test".into(),
        candidate,
        previous_detections,
        forced_photometry,
        upper_limits,
        cutouts: Cutouts::default(),
        solar_system: None,
    }
}

/// A classification with `class` at `probability` and the rest on a second class.
pub fn classification(
    survey: Survey,
    object_id: &ObjectId,
    source_id: i64,
    version: &str,
    class: &str,
    probability: f64,
    anomaly_score: f64,
) -> NewClassification {
    let probabilities: BTreeMap<String, f64> = [
        (class.to_owned(), probability),
        ("SNII".to_owned(), 1.0 - probability),
    ]
    .into();
    NewClassification {
        survey,
        object_id: object_id.clone(),
        source_id: SourceId(source_id),
        model_name: "transformer".into(),
        model_version: version.into(),
        probabilities,
        top_level_probabilities: [("Transient".to_owned(), 0.8), ("Periodic".to_owned(), 0.2)]
            .into(),
        predicted_class: class.into(),
        probability,
        uncertainty: 0.05,
        anomaly_score,
    }
}
