//! Decoding every real packet in `../shared/data` (skipped, saying so, when the folder is absent).

mod common;

use std::path::Path;
use std::sync::Arc;

use alert_model::schema_source::SchemaDirectory;
use alert_model::{Alert, AlertDecoder, Band, DecodeError, Survey, Validation};
use common::{avro_files, shared_data};

fn decoder(data: &Path) -> AlertDecoder {
    AlertDecoder::new()
        .with_schema_source(Arc::new(SchemaDirectory::new(data.join("lsst/schemas"))))
}

fn permissive(data: &Path) -> AlertDecoder {
    decoder(data).with_validation(Validation::Permissive)
}

/// Decodes every file of a folder; fails listing each file that did not decode.
fn decode_all(data: &Path, folder: &str) -> Vec<(String, Alert)> {
    decode_all_with(&decoder(data), data, folder)
}

fn decode_all_with(decoder: &AlertDecoder, data: &Path, folder: &str) -> Vec<(String, Alert)> {
    let files = avro_files(&data.join(folder));
    assert!(!files.is_empty(), "no .avro files in {folder}");
    let mut alerts = Vec::new();
    let mut failures = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).expect("readable file");
        match decoder.decode(&bytes) {
            Ok(decoded) => {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                alerts.extend(decoded.into_iter().map(|a| (name.clone(), a)));
            }
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    alerts
}

fn check_physical(alert: &Alert) {
    for d in alert.detections() {
        assert!(d.flux.0.is_finite() && d.flux_err.0 > 0.0, "{alert:?}");
        assert!(
            (40_000.0..80_000.0).contains(&d.mjd.0),
            "MJD {} is not a survey epoch",
            d.mjd.0
        );
        assert!(d.band.effective_wavelength(alert.survey).is_some());
    }
}

#[test]
fn every_ztf_alert_packet_decodes() {
    let Some(data) = shared_data() else { return };
    let alerts = decode_all(&data, "ztf/alerts");
    assert!(alerts.len() >= 400, "only {} alerts", alerts.len());
    let mut versions: Vec<&str> = alerts
        .iter()
        .map(|(_, a)| a.schema_version.as_str())
        .collect();
    versions.sort();
    versions.dedup();
    eprintln!("ZTF schema versions seen: {versions:?}");
    for (_, alert) in &alerts {
        assert_eq!(alert.survey, Survey::Ztf);
        check_physical(alert);
        // Every ZTF detection keeps the magnitude it was reported in, and the flux agrees with it.
        for d in alert.detections() {
            let mag = d.mag.expect("ZTF reports magpsf");
            assert!((d.flux.ab_mag().unwrap() - mag.mag).abs() < 1e-9);
        }
    }
}

#[test]
fn ztf_field_values_match_the_packet() {
    let Some(data) = shared_data() else { return };
    let alerts = decode_all(&data, "ztf/alerts");
    // Cross-check every packet against apache-avro's generic reader: object id, candid, jd, magpsf,
    // the sign from isdiffpos, and how many prv_candidates are detections vs. limits.
    use apache_avro::types::Value;
    let mut negatives = 0;
    for path in avro_files(&data.join("ztf/alerts")) {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let ours: Vec<&Alert> = alerts
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, a)| a)
            .collect();
        let reader = apache_avro::Reader::new(&bytes[..]).unwrap();
        for (record, alert) in reader.zip(ours) {
            let Value::Record(fields) = record.unwrap() else {
                panic!("not a record")
            };
            let get = |fs: &[(String, Value)], k: &str| {
                fs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
            };
            let unwrap_union = |v: Value| match v {
                Value::Union(_, inner) => *inner,
                other => other,
            };
            assert_eq!(
                get(&fields, "objectId"),
                Some(Value::String(alert.object_id.to_string()))
            );
            let Some(Value::Record(cand)) = get(&fields, "candidate").map(unwrap_union) else {
                panic!()
            };
            assert_eq!(
                get(&cand, "candid").map(unwrap_union),
                Some(Value::Long(alert.candidate.source_id.0))
            );
            let Some(Value::Double(jd)) = get(&cand, "jd") else {
                panic!("jd")
            };
            assert!((alert.candidate.mjd.0 - (jd - 2_400_000.5)).abs() < 1e-9);
            let Some(Value::Float(magpsf)) = get(&cand, "magpsf").map(unwrap_union) else {
                panic!()
            };
            let positive = matches!(get(&cand, "isdiffpos").map(unwrap_union), Some(Value::String(s)) if s == "t" || s == "1");
            assert_eq!(alert.candidate.flux.0 > 0.0, positive);
            let expected_abs = 10f64.powf(-0.4 * (f64::from(magpsf) - 31.4));
            assert!((alert.candidate.flux.0.abs() - expected_abs).abs() / expected_abs < 1e-9);
            if !positive {
                negatives += 1;
            }
            let prv = match get(&fields, "prv_candidates").map(unwrap_union) {
                Some(Value::Array(items)) => items,
                _ => vec![],
            };
            let limits = prv
                .iter()
                .filter(|p| matches!(p, Value::Record(f) if get(f, "candid").map(unwrap_union) == Some(Value::Null)))
                .count();
            assert_eq!(
                alert.previous_detections.len() + limits,
                prv.len(),
                "{name}"
            );
            assert!(alert.upper_limits.len() <= limits);
        }
    }
    eprintln!("{negatives} alerts with isdiffpos = 'f'");
}

#[test]
fn known_ztf_packet_values() {
    let Some(data) = shared_data() else { return };
    let alerts = decode_all(&data, "ztf/alerts");
    // A negative difference detection: the flux sign comes from isdiffpos, not from magpsf.
    let negative = alerts
        .iter()
        .flat_map(|(_, a)| a.detections())
        .find(|d| d.flux.0 < 0.0)
        .expect("the real packets contain an isdiffpos = 'f' detection");
    let mag = negative.mag.unwrap();
    assert!(
        (negative.flux.0 + 10f64.powf(-0.4 * (mag.mag - 31.4))).abs()
            < 1e-6 * negative.flux.0.abs()
    );
    // Upper limits from prv_candidates with a null candid.
    assert!(alerts.iter().any(|(_, a)| !a.upper_limits.is_empty()));
    // Schema 4.02 packets carry forced photometry.
    assert!(alerts.iter().any(|(_, a)| !a.forced_photometry.is_empty()));
    // Cutouts stay compressed and gunzip to FITS on demand.
    let cutout = alerts
        .iter()
        .find_map(|(_, a)| a.cutouts.science.clone())
        .expect("a cutout");
    let fits = cutout.decompress().unwrap();
    assert!(fits.starts_with(b"SIMPLE  ="), "cutout is not FITS");
}

#[test]
fn ztf_asteroid_matches_are_decoded_and_neighbours_told_apart() {
    let Some(data) = shared_data() else { return };
    let alerts = decode_all(&data, "ztf/alerts");
    let matched: Vec<_> = alerts
        .iter()
        .filter_map(|(_, a)| Some((a, a.solar_system.as_ref()?)))
        .collect();
    // About a sixth of the packets are known asteroids at 0–1″ (MPC numbers or designations).
    let same: Vec<_> = matched.iter().filter(|(_, m)| m.is_same_object()).collect();
    assert!(same.len() >= 60, "only {} asteroid matches", same.len());
    for (a, m) in &same {
        assert!(
            !m.name.is_empty() && m.name != "null",
            "{}: {m:?}",
            a.object_id
        );
        assert!(m.distance_arcsec.is_some_and(|d| (0.0..=1.0).contains(&d)));
        assert!(m.magnitude_v.is_some_and(|v| (10.0..30.0).contains(&v)));
    }
    // ZTF lists the nearest known object within 30″: at 7″ and 15″ these are neighbours.
    for (object, distance) in [("ZTF21abrtszs", 7.0), ("ZTF18abmsrfx", 15.0)] {
        let (_, m) = matched
            .iter()
            .find(|(a, _)| a.object_id.as_str() == object)
            .unwrap_or_else(|| panic!("{object} carries an ssnamenr"));
        assert_eq!(m.distance_arcsec, Some(distance));
        assert!(!m.is_same_object(), "{object} at {distance}″");
    }
    // "null" names and the −999 sentinel decode as no match.
    assert!(alerts.len() - matched.len() >= 300);
}

#[test]
fn spark_rewritten_ztf_files_decode() {
    let Some(data) = shared_data() else { return };
    let alerts = decode_all(&data, "ztf/spark_rewritten");
    assert!(alerts.len() >= 250, "only {} alerts", alerts.len());
    alerts.iter().for_each(|(_, a)| check_physical(a));
}

#[test]
fn fink_annotations_come_with_their_alerts() {
    let Some(data) = shared_data() else { return };
    let decoder = decoder(&data);
    let files = avro_files(&data.join("ztf/spark_rewritten"));
    let (mut annotated, mut total) = (0, 0);
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let plain = decoder.decode(&bytes).unwrap();
        let with_field = decoder.decode_annotated(&bytes, "cdsxmatch").unwrap();
        assert_eq!(plain.len(), with_field.len());
        for (alert, (same, annotation)) in plain.iter().zip(&with_field) {
            assert_eq!(alert.object_id, same.object_id, "{}", path.display());
            assert_eq!(alert.source_id(), same.source_id());
            assert_eq!(alert.n_detections(), same.n_detections());
            total += 1;
            annotated += usize::from(annotation.as_deref().is_some_and(|t| !t.is_empty()));
        }
        // A field the packets do not have is absent, not an error.
        let missing = decoder.decode_annotated(&bytes, "no_such_field").unwrap();
        assert!(missing.iter().all(|(_, a)| a.is_none()));
    }
    assert!(total >= 250 && annotated == total, "{annotated} of {total}");
    // Native packets carry no broker columns.
    let native = avro_files(&data.join("ztf/alerts")).remove(0);
    let decoded = decoder
        .decode_annotated(&std::fs::read(native).unwrap(), "cdsxmatch")
        .unwrap();
    assert!(decoded.iter().all(|(_, a)| a.is_none()));
}

#[test]
fn rubin_wire_messages_decode_with_the_schema_directory() {
    let Some(data) = shared_data() else { return };
    let alerts = decode_all(&data, "lsst/wire");
    assert_eq!(alerts.len(), 6);
    for (_, a) in &alerts {
        assert_eq!(a.survey, Survey::Lsst);
        check_physical(a);
        let major: u32 = a.schema_version.split('.').next().unwrap().parse().unwrap();
        assert!((7..=11).contains(&major), "schema {}", a.schema_version);
    }
}

#[test]
fn rubin_wire_message_without_schemas_is_a_clear_error() {
    let Some(data) = shared_data() else { return };
    let file = avro_files(&data.join("lsst/wire")).remove(0);
    let bytes = std::fs::read(file).unwrap();
    let err = AlertDecoder::new().decode(&bytes).unwrap_err();
    assert!(matches!(err, DecodeError::UnsupportedSchema(_)), "{err}");
    let err = AlertDecoder::new()
        .with_schema_source(Arc::new(SchemaDirectory::new(data.join("ztf"))))
        .decode(&bytes)
        .unwrap_err();
    assert!(matches!(err, DecodeError::UnknownSchemaId(_)), "{err}");
}

#[test]
fn rubin_spark_files_decode() {
    let Some(data) = shared_data() else { return };
    let alerts = decode_all(&data, "lsst/spark_rewritten");
    assert!(alerts.len() >= 100, "only {} alerts", alerts.len());
    alerts.iter().for_each(|(_, a)| check_physical(a));
}

#[test]
fn rubin_container_files_decode_and_placeholder_values_are_flagged() {
    let Some(data) = shared_data() else { return };
    // Every file decodes when measurements are taken as stated…
    let alerts = decode_all_with(&permissive(&data), &data, "lsst/container");
    assert!(alerts.len() >= 20, "only {} alerts", alerts.len());
    // …and the strict default refuses exactly the simulator fixtures whose measurements are
    // placeholders (NaN psFlux; a Unix time where an MJD belongs), naming the field.
    let strict = decoder(&data);
    let mut refused = Vec::new();
    for path in avro_files(&data.join("lsst/container")) {
        match strict.decode(&std::fs::read(&path).unwrap()) {
            Ok(alerts) => alerts.iter().for_each(check_physical),
            Err(e) => {
                assert!(
                    matches!(e, DecodeError::OutOfRange { .. }),
                    "{}: {e}",
                    path.display()
                );
                refused.push(path.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    refused.sort();
    assert_eq!(
        refused,
        ["fakeAlert.avro", "fakeAlert.avro", "sample_10_alert.avro"]
    );
}

#[test]
fn every_rubin_sample_schema_version_decodes() {
    let Some(data) = shared_data() else { return };
    // lsst-alert-packet ships a sample container file per schema version (7.0 … 11.1).
    let decoder = permissive(&data);
    let mut seen = Vec::new();
    for path in avro_files(&data.join("lsst/schemas")) {
        let bytes = std::fs::read(&path).unwrap();
        let alerts = decoder
            .decode(&bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        seen.extend(alerts.into_iter().map(|a| a.schema_version));
    }
    for v in ["7.0", "7.4", "8.0", "9.0", "10.0", "11.0", "11.1"] {
        assert!(
            seen.iter().any(|s| s == v),
            "no sample of schema {v} decoded: {seen:?}"
        );
    }
}

#[test]
fn elasticc_alerts_decode_as_lsst_in_njy() {
    let Some(data) = shared_data() else { return };
    let alerts = decode_all(&data, "lsst/elasticc_simulated");
    assert!(alerts.len() >= 380);
    for (_, a) in &alerts {
        assert_eq!(a.survey, Survey::Lsst);
        assert!(
            a.schema_version.starts_with("elasticc"),
            "{}",
            a.schema_version
        );
        check_physical(a);
    }
    // FLUXCAL (ZP 27.5) → nJy: a 5σ error in Y must sit near the LSST Y depth (22.1), not 4 mag fainter.
    let y_depths: Vec<f64> = alerts
        .iter()
        .flat_map(|(_, a)| a.detections())
        .filter(|d| d.band == Band::Y)
        .filter_map(|d| alert_model::FluxNjy(5.0 * d.flux_err.0).ab_mag())
        .collect();
    assert!(!y_depths.is_empty());
    let median = {
        let mut v = y_depths.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    assert!((20.5..23.5).contains(&median), "median Y 5σ depth {median}");
}

#[test]
fn malformed_ztf_files_are_refused_with_a_clear_error() {
    let Some(data) = shared_data() else { return };
    let decoder = AlertDecoder::new();
    let files = avro_files(&data.join("ztf/malformed"));
    assert_eq!(files.len(), 12);
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let err = decoder
            .decode(&bytes)
            .expect_err(&format!("{} decoded", path.display()));
        eprintln!("{}: {err}", path.file_name().unwrap().to_string_lossy());
        assert!(!err.to_string().is_empty());
    }
}
