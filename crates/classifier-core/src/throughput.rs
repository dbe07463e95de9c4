//! Batched inference throughput on the classifier's device, for benchmarks and the model card.

use std::time::Instant;

use serde::Serialize;

use crate::{Classifier, LightCurve};

/// Light curves per second for one set of curves.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    pub curves: usize,
    pub mean_points: f64,
    /// GP fits and features alone, on every core (what the network waits for end to end).
    pub features: f64,
    /// The network alone on precomputed features (batches of 256, sorted by length).
    pub network: f64,
    /// The network with 10 MC-dropout samples of the heads.
    pub network_mc10: f64,
    /// GP fit, features and the network.
    pub end_to_end: f64,
}

/// Measures each mode for about `seconds` after one warm-up pass (kernel compilation on GPUs).
pub fn measure(classifier: &Classifier, curves: &[LightCurve], seconds: f64) -> Throughput {
    let ids: Vec<&str> = curves.iter().map(|c| c.object_id.as_str()).collect();
    let features = classifier.featurize(curves);
    let _ = classifier.classify_features(&features, &ids, 0);
    let rate = |pass: &dyn Fn() -> usize| {
        let t = Instant::now();
        let mut n = 0usize;
        loop {
            n += pass();
            if t.elapsed().as_secs_f64() >= seconds || n == 0 {
                break;
            }
        }
        n as f64 / t.elapsed().as_secs_f64()
    };
    let features_rate = rate(&|| classifier.featurize(curves).len());
    let network = rate(&|| classifier.classify_features(&features, &ids, 0).len());
    let network_mc10 = rate(&|| classifier.classify_features(&features, &ids, 10).len());
    let t = Instant::now();
    let n = classifier.classify(curves, 0).len();
    Throughput {
        curves: curves.len(),
        mean_points: curves.iter().map(|c| c.points.len()).sum::<usize>() as f64
            / curves.len().max(1) as f64,
        features: features_rate,
        network,
        network_mc10,
        end_to_end: n as f64 / t.elapsed().as_secs_f64(),
    }
}
