//! Labelled light curves: from the simulator or from CSV, with the truncated views that teach the
//! model to classify early (alerts carry 30 days of history on ZTF).

use std::collections::HashMap;
use std::path::Path;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::csv::{self, CsvError};
use crate::features::{self, FeatureConfig, Features};
use crate::lightcurve::LightCurve;
use crate::taxonomy::class_index;

/// A light curve with its class index in [`crate::CLASS_NAMES`].
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledCurve {
    pub curve: LightCurve,
    pub label: usize,
}

/// A light curve with the label as written, which may be outside the taxonomy (anomalies).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedCurve {
    pub curve: LightCurve,
    pub label: String,
}

/// The simulation that training, evaluation and the benchmarks draw from: ZTF and Rubin,
/// `per_class` objects of each class per survey, objects with at least two detections.
pub fn simulation(seed: u64, per_class: usize) -> simulator::SimulationConfig {
    let mut c = simulator::SimulationConfig::with_seed(seed);
    c.surveys = vec![alert_model::Survey::Ztf, alert_model::Survey::Lsst];
    c.objects_per_class = per_class;
    c.min_detections = 2;
    c
}

/// Simulated training classes (the 15 of the taxonomy) as labelled curves.
pub fn simulated(config: &simulator::SimulationConfig) -> Vec<LabelledCurve> {
    simulator::simulate(config)
        .iter()
        .filter_map(|o| {
            Some(LabelledCurve {
                curve: LightCurve::from_simulated(o),
                label: class_index(o.class.name())?,
            })
        })
        .collect()
}

/// Simulated curves of any class (including the anomaly classes) with their names.
pub fn simulated_named(config: &simulator::SimulationConfig) -> Vec<NamedCurve> {
    simulator::simulate(config)
        .iter()
        .map(|o| NamedCurve {
            curve: LightCurve::from_simulated(o),
            label: o.class.name().to_string(),
        })
        .collect()
}

/// Curves of `lightcurves` joined with `labels` by object id; objects without a label are dropped.
pub fn load_csv(lightcurves: &Path, labels: &Path) -> Result<Vec<NamedCurve>, CsvError> {
    let parsed = csv::read_light_curves(lightcurves, None)?;
    if let Some(summary) = parsed.skipped_summary() {
        tracing::warn!(file = %lightcurves.display(), "{summary}");
    }
    let curves = parsed.curves;
    let labels: HashMap<String, String> = csv::read_labels(labels)?.into_iter().collect();
    Ok(curves
        .into_iter()
        .filter_map(|curve| {
            let label = labels.get(&curve.object_id)?.clone();
            Some(NamedCurve { curve, label })
        })
        .collect())
}

/// Splits named curves into those in the taxonomy and a count of the unknown labels.
pub fn split_known(curves: Vec<NamedCurve>) -> (Vec<LabelledCurve>, Vec<NamedCurve>) {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for c in curves {
        match class_index(&c.label) {
            Some(label) => known.push(LabelledCurve {
                curve: c.curve,
                label,
            }),
            None => unknown.push(c),
        }
    }
    (known, unknown)
}

/// How training views are drawn from each object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugmentConfig {
    /// Truncated views per object: the history of `days` (log-uniform in the range below) up to a
    /// random detection, as an alert at that time would show it.
    pub truncated_views: usize,
    pub min_days: f64,
    pub max_days: f64,
    /// Probability that a view keeps detections only (as `lightcurves.csv` and many alert
    /// histories do) rather than forced photometry too.
    pub detections_only_probability: f64,
    /// Alert views per object: what one alert shows at a random detection. ZTF alerts carry the
    /// detections of the previous 30 days (Masci et al. 2019; the `prv_candidates` window), Rubin
    /// alerts 12 months of sources and forced photometry (LSE-163, DPDD §3.5.1).
    #[serde(default)]
    pub alert_views: usize,
    /// How the alert views are spread over a class's objects (configs written before this
    /// field: per object).
    #[serde(default)]
    pub alert_sampling: AlertSampling,
}

/// How alert views are spread over the objects of a class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertSampling {
    /// `alert_views` views of every object, whatever the number of alerts it raises.
    #[default]
    PerObject,
    /// `alert_views` × objects views per class and survey, each at a detection drawn from all of
    /// theirs: an object is seen as often as it raises alerts, as in the stream and in any sample
    /// of its alerts. An object with 30 detections in a month raises 30 alerts, one near the
    /// threshold 2; per object, simulated 30-day ZTF views hold a median of 2–9 detections by
    /// class, per alert 6–12 (the labelled real alerts of the Fink sample: 5–18).
    PerAlert,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        AugmentConfig {
            truncated_views: 2,
            min_days: 8.0,
            max_days: 120.0,
            detections_only_probability: 0.3,
            alert_views: 3,
            alert_sampling: AlertSampling::PerAlert,
        }
    }
}

/// The views with every flux redrawn as `flux + scale·σ·z`, z ~ N(0, 1), each point from its own
/// error. Training on a fresh draw each epoch makes the loss an average over the measurement
/// errors, so the network cannot lean on differences smaller than the uncertainties allow. The
/// errors themselves and the detection flags (a survey's record) are kept.
pub fn resample_noise(views: &[LabelledCurve], scale: f64, seed: u64) -> Vec<LabelledCurve> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    views
        .iter()
        .map(|v| {
            let mut curve = v.curve.clone();
            for p in &mut curve.points {
                p.flux_njy += scale * p.flux_err_njy * standard_normal(&mut rng);
            }
            LabelledCurve {
                curve,
                label: v.label,
            }
        })
        .collect()
}

/// One N(0, 1) draw (Box–Muller).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random::<f64>();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// The full curve of each object plus its truncated views.
pub fn augment(curves: &[LabelledCurve], config: &AugmentConfig, seed: u64) -> Vec<LabelledCurve> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(curves.len() * (1 + config.truncated_views));
    for c in curves {
        let mut push = |curve: LightCurve, rng: &mut ChaCha8Rng| {
            let curve = if rng.random::<f64>() < config.detections_only_probability {
                curve.detections_only()
            } else {
                curve
            };
            out.push(LabelledCurve {
                curve,
                label: c.label,
            });
        };
        push(c.curve.clone(), &mut rng);
        let detections: Vec<f64> = c
            .curve
            .points
            .iter()
            .filter(|p| p.detected)
            .map(|p| p.mjd)
            .collect();
        if detections.is_empty() {
            continue;
        }
        for _ in 0..config.truncated_views {
            let Some(&end) = detections.choose(&mut rng) else {
                continue;
            };
            let (lo, hi) = (config.min_days.max(0.1).ln(), config.max_days.max(0.2).ln());
            let days = rng.random_range(lo.min(hi)..=hi.max(lo)).exp();
            push(c.curve.truncated(end, days), &mut rng);
        }
        if config.alert_sampling == AlertSampling::PerObject {
            for _ in 0..config.alert_views {
                let Some(&end) = detections.choose(&mut rng) else {
                    continue;
                };
                out.push(LabelledCurve {
                    curve: alert_view(&c.curve, end),
                    label: c.label,
                });
            }
        }
    }
    if config.alert_sampling == AlertSampling::PerAlert {
        out.extend(alert_views_per_alert(curves, config.alert_views, &mut rng));
    }
    out
}

/// `per_object` × objects alert views for each class and survey, at detections drawn uniformly
/// from all the detections of its objects.
fn alert_views_per_alert(
    curves: &[LabelledCurve],
    per_object: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<LabelledCurve> {
    // (class, survey) → objects, and every (object, detection time) of them; ordered for a
    // deterministic draw.
    let mut pools: std::collections::BTreeMap<_, (usize, Vec<(usize, f64)>)> = Default::default();
    for (i, c) in curves.iter().enumerate() {
        let pool = pools.entry((c.label, c.curve.survey)).or_default();
        pool.0 += 1;
        pool.1.extend(
            c.curve
                .points
                .iter()
                .filter(|p| p.detected)
                .map(|p| (i, p.mjd)),
        );
    }
    let mut out = Vec::new();
    for (objects, alerts) in pools.values() {
        for _ in 0..objects * per_object {
            let Some(&(i, end)) = alerts.choose(rng) else {
                break;
            };
            out.push(LabelledCurve {
                curve: alert_view(&curves[i].curve, end),
                label: curves[i].label,
            });
        }
    }
    out
}

/// History window of a ZTF alert (days).
pub const ZTF_ALERT_HISTORY_DAYS: f64 = 30.0;
/// History window of a Rubin alert (days).
pub const LSST_ALERT_HISTORY_DAYS: f64 = 365.0;

/// The light curve an alert issued at `end_mjd` carries: ZTF detections of the last 30 days (its
/// upper limits have no flux), Rubin sources and forced photometry of the last 12 months.
pub fn alert_view(curve: &LightCurve, end_mjd: f64) -> LightCurve {
    match curve.survey {
        alert_model::Survey::Ztf => curve
            .truncated(end_mjd, ZTF_ALERT_HISTORY_DAYS)
            .detections_only(),
        alert_model::Survey::Lsst => curve.truncated(end_mjd, LSST_ALERT_HISTORY_DAYS),
    }
}

/// The alert views `days` after each object's first detection, keeping those with at least two
/// detections (a classification needs more than the alert's own point): the model card's
/// alert-view test sets.
pub fn alert_views_after(curves: &[NamedCurve], days: f64) -> Vec<NamedCurve> {
    curves
        .iter()
        .filter_map(|c| {
            let first = c.curve.points.iter().find(|p| p.detected)?.mjd;
            let curve = alert_view(&c.curve, first + days);
            (curve.points.iter().filter(|p| p.detected).count() >= 2).then(|| NamedCurve {
                curve,
                label: c.label.clone(),
            })
        })
        .collect()
}

/// `per_class` ZTF alert views of each class, at detections drawn without replacement from all
/// of the class's detections: the alerts a stream raises, and any sample of them with catalogue
/// labels, see an object as often as it raises alerts (the per-alert sampling of training), where
/// [`alert_views_after`] sees every object once.
pub fn ztf_alerts_as_streamed(
    curves: &[NamedCurve],
    per_class: usize,
    seed: u64,
) -> Vec<NamedCurve> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut alerts_by_class: std::collections::BTreeMap<&str, Vec<(usize, f64)>> =
        Default::default();
    for (i, c) in curves.iter().enumerate() {
        if c.curve.survey != alert_model::Survey::Ztf {
            continue;
        }
        alerts_by_class.entry(&c.label).or_default().extend(
            c.curve
                .points
                .iter()
                .filter(|p| p.detected)
                .map(|p| (i, p.mjd)),
        );
    }
    alerts_by_class
        .values()
        .flat_map(|alerts| {
            alerts
                .choose_multiple(&mut rng, per_class)
                .copied()
                .collect::<Vec<_>>()
        })
        .map(|(i, end)| NamedCurve {
            curve: alert_view(&curves[i].curve, end),
            label: curves[i].label.clone(),
        })
        .collect()
}

/// Features of every curve, computed on all available cores.
pub fn featurize(curves: &[&LightCurve], config: &FeatureConfig) -> Vec<Features> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(curves.len().max(1));
    if threads <= 1 || curves.len() < 16 {
        return curves
            .iter()
            .map(|c| features::extract(c, config))
            .collect();
    }
    let chunk = curves.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = curves
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|c| features::extract(c, config))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lightcurve::Point;
    use alert_model::{Band, Survey};

    fn curve(survey: Survey) -> LightCurve {
        // A point every 5 days for 100 days; every other one a detection.
        let points = (0..20)
            .map(|i| Point {
                mjd: 60000.0 + 5.0 * i as f64,
                band: Band::G,
                flux_njy: 1000.0,
                flux_err_njy: 100.0,
                detected: i % 2 == 0,
            })
            .collect();
        LightCurve::new("c", survey, points)
    }

    #[test]
    fn a_ztf_alert_shows_the_detections_of_the_last_30_days() {
        let view = alert_view(&curve(Survey::Ztf), 60080.0);
        let mjds: Vec<f64> = view.points.iter().map(|p| p.mjd).collect();
        assert_eq!(mjds, vec![60050.0, 60060.0, 60070.0, 60080.0]);
        assert!(view.points.iter().all(|p| p.detected));
    }

    #[test]
    fn a_rubin_alert_keeps_a_year_of_forced_photometry() {
        let view = alert_view(&curve(Survey::Lsst), 60080.0);
        assert_eq!(view.points.len(), 17);
        assert!(view.points.iter().any(|p| !p.detected));
    }

    #[test]
    fn resampled_noise_follows_each_points_error() {
        let view = LabelledCurve {
            curve: curve(Survey::Ztf),
            label: 3,
        };
        let draws = resample_noise(&vec![view.clone(); 400], 0.5, 9);
        assert_eq!(draws, resample_noise(&vec![view.clone(); 400], 0.5, 9));
        // Standardised shifts (flux′ − flux) / (0.5·σ) over all draws: mean 0, variance 1.
        let z: Vec<f64> = draws
            .iter()
            .flat_map(|d| d.curve.points.iter().zip(&view.curve.points))
            .map(|(a, b)| (a.flux_njy - b.flux_njy) / (0.5 * b.flux_err_njy))
            .collect();
        let mean = z.iter().sum::<f64>() / z.len() as f64;
        let var = z.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / z.len() as f64;
        assert!(
            mean.abs() < 0.05 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
        for d in &draws {
            assert_eq!(d.label, 3);
            for (a, b) in d.curve.points.iter().zip(&view.curve.points) {
                assert_eq!(
                    (a.mjd, a.flux_err_njy, a.detected),
                    (b.mjd, b.flux_err_njy, b.detected)
                );
            }
        }
    }

    #[test]
    fn augmentation_adds_alert_views() {
        let labelled = vec![LabelledCurve {
            curve: curve(Survey::Ztf),
            label: 0,
        }];
        let config = AugmentConfig {
            truncated_views: 1,
            alert_views: 2,
            ..AugmentConfig::default()
        };
        let views = augment(&labelled, &config, 1);
        assert_eq!(views.len(), 4);
        let last = &views[3].curve;
        assert!(last.span_days() <= ZTF_ALERT_HISTORY_DAYS);
        assert!(last.points.iter().all(|p| p.detected));
    }

    #[test]
    fn alert_views_follow_the_alerts_an_object_raises() {
        // Two objects of one class: 10 detections and 1 (the second's others are forced photometry).
        let mut sparse = curve(Survey::Ztf);
        sparse.object_id = "sparse".into();
        for p in sparse.points.iter_mut().skip(1) {
            p.detected = false;
        }
        let labelled: Vec<LabelledCurve> = [curve(Survey::Ztf), sparse]
            .into_iter()
            .map(|curve| LabelledCurve { curve, label: 3 })
            .collect();
        let views_of_the_sparse_one = |alert_sampling| {
            let config = AugmentConfig {
                truncated_views: 0,
                alert_views: 100,
                alert_sampling,
                ..AugmentConfig::default()
            };
            let views = augment(&labelled, &config, 7);
            assert_eq!(views.len(), 2 + 200);
            // Less its full curve.
            views
                .iter()
                .filter(|v| v.curve.object_id == "sparse")
                .count()
                - 1
        };
        assert_eq!(views_of_the_sparse_one(AlertSampling::PerObject), 100);
        // 1 of 11 alerts: binomial(200, 1/11) has mean 18 and σ 4.
        let per_alert = views_of_the_sparse_one(AlertSampling::PerAlert);
        assert!((4..=36).contains(&per_alert), "{per_alert} of 200");
    }

    #[test]
    fn streamed_alerts_are_ztf_views_per_class_at_detections() {
        let named = |survey, label: &str| NamedCurve {
            curve: curve(survey),
            label: label.into(),
        };
        // 10 detections each: A has 20 ZTF alerts, B 10 (its Rubin curve is left out).
        let curves = [
            named(Survey::Ztf, "A"),
            named(Survey::Ztf, "A"),
            named(Survey::Ztf, "B"),
            named(Survey::Lsst, "B"),
        ];
        let views = ztf_alerts_as_streamed(&curves, 15, 3);
        let count = |label: &str| views.iter().filter(|v| v.label == label).count();
        assert_eq!((count("A"), count("B")), (15, 10));
        let detections: Vec<f64> = curve(Survey::Ztf)
            .points
            .iter()
            .filter(|p| p.detected)
            .map(|p| p.mjd)
            .collect();
        for v in &views {
            assert_eq!(v.curve.survey, Survey::Ztf);
            let end = v
                .curve
                .points
                .last()
                .expect("a view ends at a detection")
                .mjd;
            assert!(detections.contains(&end));
            assert!(v.curve.span_days() <= ZTF_ALERT_HISTORY_DAYS);
        }
        // B's ten alerts are drawn once each.
        let mut ends: Vec<f64> = views
            .iter()
            .filter(|v| v.label == "B")
            .map(|v| v.curve.points.last().map_or(0.0, |p| p.mjd))
            .collect();
        ends.sort_by(f64::total_cmp);
        assert_eq!(ends, detections);
    }

    #[test]
    fn configs_written_before_alert_sampling_keep_per_object_views() {
        let old = r#"{"truncated_views":2,"min_days":8.0,"max_days":120.0,
            "detections_only_probability":0.3,"alert_views":3}"#;
        let config: AugmentConfig = serde_json::from_str(old).expect("old config");
        assert_eq!(config.alert_sampling, AlertSampling::PerObject);
        assert_eq!(
            AugmentConfig::default().alert_sampling,
            AlertSampling::PerAlert
        );
    }
}
