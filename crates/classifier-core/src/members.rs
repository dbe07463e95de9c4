//! A seed ensemble: further pairs of networks, trained by the model's own recipe with other
//! training seeds, whose served class probabilities and anomaly scores are averaged with the
//! model's own — a deep ensemble (Lakshminarayanan et al. 2017, NeurIPS), which holds up better
//! off the training distribution than any one member (Ovadia et al. 2019, NeurIPS). Pairs of one
//! recipe that differ only in their training seed score alike on the simulated test set but apart
//! on real alerts (`models/default/MODEL_CARD.md`, "Training-seed spread"): the average does not
//! rest on one seed's luck.
//!
//! Each member is a whole model directory under [`MEMBERS_DIR`]. The averaged anomaly score is
//! turned into its quantile among calibration views of similar length, as each member's own is,
//! so that a threshold keeps its meaning (the share of normal curves scoring below it).

use serde::{Deserialize, Serialize};

use crate::features::Features;
use crate::inference::{BATCH_SIZE, Classifier, ModelError};
use crate::outlier_energy::LengthQuantiles;

/// Folder of a model directory holding its members, one model directory each.
pub const MEMBERS_DIR: &str = "members";

/// The members of a model's seed ensemble, saved in `classifier.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Members {
    /// Folder names of the members under [`MEMBERS_DIR`], in averaging order.
    pub names: Vec<String>,
    /// Calibration of the averaged anomaly score on views of normal curves.
    pub anomaly: LengthQuantiles,
}

/// A member's folder name, refused unless it is one plain path component: a model directory
/// cannot point outside itself.
pub(crate) fn check_name(name: &str) -> Result<(), ModelError> {
    let plain = !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\']);
    if plain {
        Ok(())
    } else {
        Err(ModelError::Incompatible(format!(
            "member name {name:?} is not a plain folder name"
        )))
    }
}

/// Makes `members` (name, classifier) the seed ensemble of `classifier` and calibrates the
/// averaged anomaly score on `calibration`, features of normal curves new to every member (a
/// simulation of its own seed). Every member must read the same features as `classifier` and be
/// a single model, not an ensemble itself.
pub fn attach_members(
    classifier: &mut Classifier,
    members: Vec<(String, Classifier)>,
    calibration: &[Features],
) -> Result<(), ModelError> {
    for (name, member) in &members {
        check_member(classifier, name, member)?;
    }
    let names: Vec<String> = members.iter().map(|(name, _)| name.clone()).collect();
    classifier.members = members.into_iter().map(|(_, member)| member).collect();
    let mut averaged = Vec::with_capacity(calibration.len());
    for chunk in calibration.chunks(BATCH_SIZE) {
        let chunk: Vec<&Features> = chunk.iter().collect();
        averaged.extend(
            classifier
                .served_by_ensemble(&chunk, classifier.meta.mc_samples)
                .anomaly_scores
                .into_iter()
                .map(f64::from),
        );
    }
    let n_tokens: Vec<usize> = calibration.iter().map(|f| f.n_tokens).collect();
    classifier.meta.members = Some(Members {
        names,
        anomaly: LengthQuantiles::fit(&averaged, &n_tokens),
    });
    Ok(())
}

/// Why `member` cannot join `classifier`'s ensemble under `name`, if it cannot.
pub(crate) fn check_member(
    classifier: &Classifier,
    name: &str,
    member: &Classifier,
) -> Result<(), ModelError> {
    check_name(name)?;
    if member.meta.features != classifier.meta.features {
        return Err(ModelError::Incompatible(format!(
            "member {name} reads other features than the model"
        )));
    }
    if member.meta.members.is_some() {
        return Err(ModelError::Incompatible(format!(
            "member {name} is an ensemble itself"
        )));
    }
    Ok(())
}
