//! The classification step: the trained model on a dedicated inference thread, so Kafka polling
//! and database I/O never wait behind a forward pass.

use std::path::{Path, PathBuf};

use alert_model::{Alert, Band, Survey};
use classifier_core::{Classifier, LightCurve, Point, Prediction};
use store::NewClassification;
use tokio::sync::{mpsc, oneshot};

/// |S/N| at which a forced measurement counts as a detection (the alert threshold).
const DETECTION_SNR: f64 = 5.0;

#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error("no model at {0}: train one with `deeprubin train` or pass --model DIR")]
    NoModel(PathBuf),
    #[error("device {0:?} is not available: {1}")]
    Device(String, &'static str),
    #[error("loading the model: {0}")]
    Load(String),
    #[error("the inference thread stopped")]
    Stopped,
}

struct Request {
    curves: Vec<LightCurve>,
    reply: oneshot::Sender<Vec<Prediction>>,
}

/// A loaded model behind its inference thread. Cheap to clone.
#[derive(Clone)]
pub struct ModelHandle {
    pub name: String,
    pub version: String,
    pub mc_samples: usize,
    requests: mpsc::Sender<Request>,
}

/// Where the shipped model is looked for when no `--model` is given, in order.
pub fn default_model_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("DEEPRUBIN_MODEL_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    dirs.push(PathBuf::from("models/default"));
    if let Ok(exe) = std::env::current_exe()
        && let Some(bin) = exe.parent()
    {
        dirs.push(bin.join("../share/deeprubin/models/default"));
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/default"));
    dirs
}

/// The model directory to use: the given one, or the first default that exists.
pub fn resolve_model_dir(given: Option<&Path>) -> Result<PathBuf, ClassifyError> {
    match given {
        Some(dir) if dir.join(classifier_core::inference::META_FILE).is_file() => {
            Ok(dir.to_path_buf())
        }
        Some(dir) => Err(ClassifyError::NoModel(dir.to_path_buf())),
        None => default_model_dirs()
            .into_iter()
            .find(|d| d.join(classifier_core::inference::META_FILE).is_file())
            .ok_or_else(|| ClassifyError::NoModel(PathBuf::from("models/default"))),
    }
}

/// The model's identity: a content hash of its files, so every row and event names exactly the
/// weights that produced it.
fn model_version(dir: &Path) -> Result<String, ClassifyError> {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hash_model_files(&mut hasher, dir)?;
    Ok(format!("{:016x}", hasher.digest()))
}

/// Feeds a model directory's metadata and weights to `hasher`, then its seed ensemble's members
/// (each a model directory) in name order.
fn hash_model_files(hasher: &mut xxhash_rust::xxh3::Xxh3, dir: &Path) -> Result<(), ClassifyError> {
    for file in [
        classifier_core::inference::META_FILE,
        classifier_core::inference::WEIGHTS_FILE,
    ] {
        let bytes = std::fs::read(dir.join(file))
            .map_err(|e| ClassifyError::Load(format!("{file}: {e}")))?;
        hasher.update(&bytes);
    }
    // The outlier-exposed network of the anomaly score, in models that have one.
    if let Ok(bytes) =
        std::fs::read(dir.join(classifier_core::outlier_energy::OUTLIER_WEIGHTS_FILE))
    {
        hasher.update(&bytes);
    }
    let Ok(entries) = std::fs::read_dir(dir.join(classifier_core::members::MEMBERS_DIR)) else {
        return Ok(());
    };
    let mut members: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    members.sort();
    for member in members {
        hash_model_files(hasher, &member)?;
    }
    Ok(())
}

impl ModelHandle {
    /// Loads the model on its own thread; `device` is `cpu` (the default CPU backend) or `cuda`.
    pub fn load(
        dir: &Path,
        device: &str,
        mc_samples: usize,
        max_batch: usize,
    ) -> Result<Self, ClassifyError> {
        let device = match device {
            "cpu" | "default" => classifier_core::default_device(),
            "cuda" => {
                if !cfg!(feature = "cuda") {
                    return Err(ClassifyError::Device(
                        device.to_owned(),
                        "this build has no CUDA support: rebuild with `--features cuda`",
                    ));
                }
                classifier_core::device_by_name("cuda")
                    .ok_or(ClassifyError::Device(device.to_owned(), "no CUDA device"))?
            }
            other => classifier_core::device_by_name(other).ok_or(ClassifyError::Device(
                other.to_owned(),
                "unknown device (cpu or cuda)",
            ))?,
        };
        let name = dir
            .canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "default".into());
        let version = model_version(dir)?;
        let mut classifier =
            Classifier::load(dir, &device).map_err(|e| ClassifyError::Load(e.to_string()))?;
        classifier.max_batch = max_batch.max(1);
        let (tx, mut rx) = mpsc::channel::<Request>(4);
        std::thread::Builder::new()
            .name("deeprubin-inference".into())
            .spawn(move || {
                while let Some(request) = rx.blocking_recv() {
                    // The whole request at once: the classifier cuts it into forward passes of
                    // at most `max_batch` curves and spreads them over the cores.
                    let _ = request
                        .reply
                        .send(classifier.classify(&request.curves, mc_samples));
                }
            })
            .map_err(|e| ClassifyError::Load(format!("starting the inference thread: {e}")))?;
        Ok(ModelHandle {
            name: format!("deeprubin-{name}"),
            version,
            mc_samples,
            requests: tx,
        })
    }

    /// Classifies the curves in forward passes of at most `max_batch` curves; identical curves
    /// (the same object at the same state, e.g. a message delivered twice in one batch) are
    /// classified once and share the prediction.
    pub async fn classify(
        &self,
        curves: Vec<LightCurve>,
    ) -> Result<Vec<Prediction>, ClassifyError> {
        let (curves, index) = dedup_curves(curves);
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { curves, reply })
            .await
            .map_err(|_| ClassifyError::Stopped)?;
        let unique = answer.await.map_err(|_| ClassifyError::Stopped)?;
        index
            .into_iter()
            .map(|i| unique.get(i).cloned().ok_or(ClassifyError::Stopped))
            .collect()
    }
}

/// The distinct curves, and for each input curve the index of its equal among them. Two alerts
/// of one object at different epochs have different curves (each is cut at its alert's epoch), so
/// only true repeats are merged.
pub fn dedup_curves(curves: Vec<LightCurve>) -> (Vec<LightCurve>, Vec<usize>) {
    use std::hash::{Hash, Hasher};
    let mut unique: Vec<LightCurve> = Vec::with_capacity(curves.len());
    let mut index = Vec::with_capacity(curves.len());
    let mut seen: std::collections::HashMap<u64, Vec<usize>> = std::collections::HashMap::new();
    for curve in curves {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        curve.object_id.hash(&mut hasher);
        curve.survey.hash(&mut hasher);
        for p in &curve.points {
            p.mjd.to_bits().hash(&mut hasher);
            p.band.hash(&mut hasher);
            p.flux_njy.to_bits().hash(&mut hasher);
            p.flux_err_njy.to_bits().hash(&mut hasher);
            p.detected.hash(&mut hasher);
        }
        let slots = seen.entry(hasher.finish()).or_default();
        match slots
            .iter()
            .copied()
            .find(|&u| unique.get(u) == Some(&curve))
        {
            Some(u) => index.push(u),
            None => {
                slots.push(unique.len());
                index.push(unique.len());
                unique.push(curve);
            }
        }
    }
    (unique, index)
}

/// The light curve the model sees for an alert: the stored detections and forced photometry of
/// its object up to the alert's epoch (so an alert's classification does not depend on alerts
/// that came after it in the same batch).
pub fn curve_for_alert(alert: &Alert, stored: Option<&store::LightCurve>) -> LightCurve {
    let until = alert.candidate.mjd.0;
    let mut points: Vec<Point> = Vec::new();
    let mut push = |mjd: f64, band: Band, flux: f64, err: f64, detected: bool| {
        if mjd <= until {
            points.push(Point {
                mjd,
                band,
                flux_njy: flux,
                flux_err_njy: err,
                detected,
            });
        }
    };
    match stored {
        Some(curve) => {
            for d in &curve.detections {
                push(d.mjd.0, d.band, d.flux.0, d.flux_err.0, true);
            }
            for f in &curve.forced_photometry {
                let detected =
                    f.flux_err.0 > 0.0 && (f.flux.0 / f.flux_err.0).abs() >= DETECTION_SNR;
                push(f.mjd.0, f.band, f.flux.0, f.flux_err.0, detected);
            }
        }
        // Not stored (cannot happen after a successful upsert): the packet's own history.
        None => {
            for d in alert.detections() {
                push(d.mjd.0, d.band, d.flux.0, d.flux_err.0, true);
            }
        }
    }
    // A forced measurement at a detection's epoch duplicates it: `LightCurve::new` keeps the
    // detection.
    LightCurve::new(alert.object_id.as_str(), alert.survey, points)
}

/// The model inputs for alerts whose objects' stored light curves are `stored` (one batched read).
pub fn curves_for_alerts<'a>(
    alerts: impl Iterator<Item = &'a Alert>,
    stored: &[store::LightCurve],
) -> Vec<LightCurve> {
    let by_object: std::collections::HashMap<(Survey, &str), &store::LightCurve> = stored
        .iter()
        .map(|c| ((c.survey, c.object_id.as_str()), c))
        .collect();
    alerts
        .map(|a| curve_for_alert(a, by_object.get(&(a.survey, a.object_id.as_str())).copied()))
        .collect()
}

/// The store row for an alert's prediction.
pub fn new_classification(
    alert: &Alert,
    model: &ModelHandle,
    prediction: &Prediction,
) -> NewClassification {
    NewClassification {
        survey: alert.survey,
        object_id: alert.object_id.clone(),
        source_id: alert.candidate.source_id,
        model_name: model.name.clone(),
        model_version: model.version.clone(),
        probabilities: prediction.probability_map(),
        top_level_probabilities: prediction.top_level_map(),
        predicted_class: prediction.class.clone(),
        probability: f64::from(prediction.probability()),
        uncertainty: f64::from(prediction.uncertainty),
        anomaly_score: f64::from(prediction.anomaly_score),
    }
}

/// Unique (survey, object) keys of the alerts, in first-seen order.
pub fn object_keys<'a>(
    alerts: impl Iterator<Item = &'a Alert>,
) -> Vec<(Survey, alert_model::ObjectId)> {
    let mut seen = std::collections::BTreeSet::new();
    alerts
        .filter(|a| seen.insert((a.survey, a.object_id.clone())))
        .map(|a| (a.survey, a.object_id.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, bytes: &[u8]) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, bytes).expect("write");
    }

    #[test]
    fn the_model_version_covers_the_seed_ensembles_members() {
        let dir = std::env::temp_dir().join(format!("model-version-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write(&dir.join("classifier.json"), b"{}");
        write(&dir.join("model.bpk"), b"weights");
        let single = model_version(&dir).expect("version");
        let member = dir.join("members").join("seed8");
        write(&member.join("classifier.json"), b"{}");
        write(&member.join("model.bpk"), b"member weights");
        let ensemble = model_version(&dir).expect("version");
        assert_ne!(single, ensemble);
        // Retraining a member alone gives another version.
        write(&member.join("model.bpk"), b"retrained member weights");
        assert_ne!(ensemble, model_version(&dir).expect("version"));
        // A member without its weights is not a model.
        std::fs::remove_file(member.join("model.bpk")).expect("remove");
        assert!(model_version(&dir).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
