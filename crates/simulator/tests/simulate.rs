//! The simulator's contract: determinism, detections, difference fluxes, ids and CSV files.

use alert_model::{ObjectId, Survey};
use simulator::{Class, SimulationConfig, TopLevel, alerts_for, simulate, write_csv};

fn config(seed: u64, survey: Survey, n: usize) -> SimulationConfig {
    SimulationConfig {
        surveys: vec![survey],
        objects_per_class: n,
        ..SimulationConfig::with_seed(seed).with_anomalies()
    }
}

#[test]
fn same_seed_same_objects_other_seed_other_objects() {
    let a = simulate(&config(42, Survey::Ztf, 3));
    let b = simulate(&config(42, Survey::Ztf, 3));
    let c = simulate(&config(43, Survey::Ztf, 3));
    assert_eq!(a, b);
    assert_ne!(a, c);
    // An object does not depend on which other classes are simulated.
    let only_rrl = simulate(&SimulationConfig {
        classes: vec![Class::Rrl],
        ..config(42, Survey::Ztf, 3)
    });
    let rrl: Vec<_> = a.into_iter().filter(|o| o.class == Class::Rrl).collect();
    assert_eq!(rrl, only_rrl);
}

#[test]
fn every_class_has_detections_on_both_surveys() {
    for survey in [Survey::Ztf, Survey::Lsst] {
        let objects = simulate(&config(7, survey, 10));
        for class in Class::ALL {
            let of_class: Vec<_> = objects.iter().filter(|o| o.class == class).collect();
            assert_eq!(of_class.len(), 10);
            let detected = of_class.iter().filter(|o| o.n_detections() > 0).count();
            assert!(detected >= 9, "{survey} {class}: {detected}/10 detected");
            for o in &of_class {
                assert_eq!(o.survey, survey);
                assert!(o.observations.windows(2).all(|w| w[0].mjd <= w[1].mjd));
                for p in &o.observations {
                    assert!(p.band.effective_wavelength(survey).is_some());
                }
            }
        }
    }
}

#[test]
fn detections_are_five_sigma_and_non_detections_are_not() {
    for survey in [Survey::Ztf, Survey::Lsst] {
        for o in simulate(&config(3, survey, 5)) {
            for p in &o.observations {
                assert!(p.flux_err_njy > 0.0 && p.flux_njy.is_finite());
                let snr = (p.flux_njy / p.flux_err_njy).abs();
                assert_eq!(p.detected, snr >= 5.0, "{} {p:?}", o.class);
                // The error is at least the depth's background term.
                let f5 = 10f64.powf(-0.4 * (p.limiting_mag - 31.4));
                assert!(p.flux_err_njy >= f5 / 5.0 * 0.999);
            }
        }
    }
}

#[test]
fn redshift_only_for_extragalactic_classes() {
    for o in simulate(&config(9, Survey::Ztf, 3)) {
        let extragalactic = matches!(
            o.class,
            Class::SnIa
                | Class::SnIbc
                | Class::SnII
                | Class::Slsn
                | Class::Qso
                | Class::Agn
                | Class::Blazar
                | Class::Tde
                | Class::Kilonova
                | Class::Pisn
        );
        assert_eq!(o.redshift.is_some(), extragalactic, "{}", o.class);
        if o.class == Class::SnIa {
            let z = o.redshift.unwrap_or_default();
            assert!(z > 0.0 && z <= 0.4, "ZTF SN Ia at z = {z}");
        }
    }
}

#[test]
fn transients_rise_from_zero_and_variables_take_both_signs() {
    let objects = simulate(&SimulationConfig {
        duration_days: 730.0,
        ..config(11, Survey::Ztf, 30)
    });
    // Transients: the earliest detections of the brightest-peak objects are positive, and the
    // faintest measured flux is far below the peak.
    let mut rising = 0;
    let mut transients = 0;
    for o in objects
        .iter()
        .filter(|o| o.class.top_level() == TopLevel::Transient && o.class != Class::Microlensing)
    {
        let Some(peak) = o.observations.iter().map(|p| p.flux_njy).reduce(f64::max) else {
            continue;
        };
        transients += 1;
        let first = &o.observations[0];
        if first.flux_njy < 0.3 * peak && o.detections().all(|p| p.flux_njy > 0.0) {
            rising += 1;
        }
    }
    assert!(rising * 10 >= transients * 8, "{rising}/{transients}");
    // Periodic variables: positive and negative detections within one object, for most.
    for class in [Class::Rrl, Class::Cep, Class::Lpv, Class::Dsct] {
        let both = objects
            .iter()
            .filter(|o| o.class == class)
            .filter(|o| {
                o.detections().any(|p| p.flux_njy > 0.0) && o.detections().any(|p| p.flux_njy < 0.0)
            })
            .count();
        assert!(both >= 10, "{class}: {both}/30 with both signs");
    }
}

#[test]
fn truncation_keeps_an_alert_window() {
    let objects = simulate(&SimulationConfig {
        truncate_days: Some(30.0),
        ..config(5, Survey::Ztf, 5)
    });
    for o in &objects {
        let (Some(first), Some(last)) = (o.observations.first(), o.observations.last()) else {
            panic!("{} has no observations", o.class);
        };
        assert!(last.detected, "the window ends at a detection");
        assert!(last.mjd - first.mjd <= 30.0);
    }
}

#[test]
fn ztf_ids_parse_and_alerts_carry_history() {
    let objects = simulate(&config(21, Survey::Ztf, 4));
    let mut ids = std::collections::HashSet::new();
    let mut candids = std::collections::HashSet::new();
    for o in &objects {
        assert!(
            ObjectId::parse(Survey::Ztf, &o.object_id).is_ok(),
            "{}",
            o.object_id
        );
        assert!(ids.insert(o.object_id.clone()), "duplicate {}", o.object_id);
        let alerts = alerts_for(o).expect("valid id");
        assert_eq!(alerts.len(), o.n_detections());
        for a in &alerts {
            assert!(candids.insert(a.candidate.source_id), "duplicate candid");
            assert!(a.candidate.source_id.0 > 0);
            let t = a.candidate.mjd.0;
            let mag = a.candidate.mag.expect("ZTF fills magpsf");
            let expected = -2.5 * a.candidate.flux.0.abs().log10() + 31.4;
            assert!((mag.mag - expected).abs() < 1e-9);
            assert!(
                (mag.err - 1.0857 * a.candidate.flux_err.0 / a.candidate.flux.0.abs()).abs() < 1e-3
            );
            assert!(a.quality_ok());
            for d in &a.previous_detections {
                assert!(d.mjd.0 < t && d.mjd.0 >= t - 30.0);
            }
            for u in &a.upper_limits {
                assert!(u.mjd.0 < t && u.mjd.0 >= t - 30.0);
            }
        }
    }
}

trait QualityOk {
    fn quality_ok(&self) -> bool;
}

impl QualityOk for alert_model::Alert {
    fn quality_ok(&self) -> bool {
        self.candidate
            .quality
            .real_bogus
            .is_some_and(|rb| (0.0..=1.0).contains(&rb))
    }
}

#[test]
fn lsst_alerts_carry_forced_photometry() {
    let objects = simulate(&SimulationConfig {
        classes: vec![Class::SnIa, Class::Qso],
        ..config(4, Survey::Lsst, 4)
    });
    for o in &objects {
        assert!(ObjectId::parse(Survey::Lsst, &o.object_id).is_ok());
        for (k, a) in alerts_for(o).expect("valid id").iter().enumerate() {
            let t = a.candidate.mjd.0;
            let earlier = o
                .observations
                .iter()
                .filter(|p| p.mjd < t && p.mjd >= t - 365.0)
                .count();
            assert_eq!(a.forced_photometry.len(), earlier, "alert {k}");
            assert!(a.upper_limits.is_empty());
            assert!(a.candidate.mag.is_none());
        }
    }
}

#[test]
fn csv_files_have_the_contract_headers() {
    let dir = std::env::temp_dir().join(format!("simulator-csv-{}", std::process::id()));
    let objects = simulate(&config(8, Survey::Ztf, 2));
    let paths = write_csv(&dir, &objects).expect("write csv");
    let read = |p: &std::path::Path| std::fs::read_to_string(p).expect("read back");
    let lc = read(&paths.lightcurves);
    let ul = read(&paths.upper_limits);
    let labels = read(&paths.labels);
    assert_eq!(lc.lines().next(), Some("object_id,mjd,band,flux,flux_err"));
    assert_eq!(ul.lines().next(), Some("object_id,mjd,band,limiting_mag"));
    assert_eq!(labels.lines().next(), Some("object_id,class"));
    let n_det: usize = objects.iter().map(|o| o.n_detections()).sum();
    let n_ul: usize = objects
        .iter()
        .map(|o| o.observations.len() - o.n_detections())
        .sum();
    assert_eq!(lc.lines().count(), n_det + 1);
    assert_eq!(ul.lines().count(), n_ul + 1);
    assert_eq!(labels.lines().count(), objects.len() + 1);
    assert!(labels.contains(",CV/Nova\n") && labels.contains(",Periodic-Other\n"));
    let _ = std::fs::remove_dir_all(&dir);
}
