//! One object as fetched: ALeRCE's summary and probabilities beside the mapped light curve.

use alert_model::{Alert, ObjectId};
use serde::Serialize;

use crate::mapping::{MappedLightCurve, to_alert};
use crate::model::{ApiObject, ApiProbability, LC_CLASSIFIER, top_class};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FetchedObject {
    pub object_id: ObjectId,
    pub summary: ApiObject,
    pub light_curve: MappedLightCurve,
    pub probabilities: Vec<ApiProbability>,
}

impl FetchedObject {
    /// The alert to store (`None` when ALeRCE lists no usable detection).
    pub fn alert(&self) -> Option<Alert> {
        to_alert(&self.object_id, &self.light_curve)
    }

    /// ALeRCE's top light-curve-classifier class, the label to compare the broker's model with.
    pub fn alerce_class(&self) -> Option<&ApiProbability> {
        top_class(&self.probabilities, LC_CLASSIFIER)
    }
}
