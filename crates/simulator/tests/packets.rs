//! Simulated alerts written as survey packets decode back with the project's decoder.

use std::sync::Arc;

use alert_model::schema_source::BuiltinSchemas;
use alert_model::{AlertDecoder, Survey};
use simulator::{Class, SimulationConfig, alerts_for, simulate, write_packets};

#[test]
fn packets_decode_back_to_the_alerts() {
    let decoder = AlertDecoder::new().with_schema_source(Arc::new(BuiltinSchemas::default()));
    for survey in [Survey::Ztf, Survey::Lsst] {
        let objects = simulate(&SimulationConfig {
            surveys: vec![survey],
            classes: vec![Class::SnIa, Class::Rrl, Class::Qso],
            objects_per_class: 1,
            truncate_days: Some(60.0),
            ..SimulationConfig::with_seed(99)
        });
        let dir =
            std::env::temp_dir().join(format!("simulator-packets-{}-{survey}", std::process::id()));
        let paths = write_packets(&dir, &objects).expect("write packets");
        let expected: Vec<_> = objects
            .iter()
            .flat_map(|o| alerts_for(o).expect("valid id"))
            .collect();
        assert_eq!(paths.len(), expected.len());
        assert!(!paths.is_empty());
        for (path, want) in paths.iter().zip(&expected) {
            let bytes = std::fs::read(path).expect("read packet");
            let got = decoder.decode(&bytes).expect("decodes");
            assert_eq!(got.len(), 1);
            let got = &got[0];
            assert_eq!(got.survey, survey);
            assert_eq!(got.object_id, want.object_id);
            assert_eq!(got.candidate.source_id, want.candidate.source_id);
            assert_eq!(got.candidate.band, want.candidate.band);
            assert!((got.candidate.mjd.0 - want.candidate.mjd.0).abs() < 1e-6);
            let rel =
                (got.candidate.flux.0 - want.candidate.flux.0).abs() / want.candidate.flux.0.abs();
            assert!(
                rel < 1e-4,
                "flux {} vs {}",
                got.candidate.flux.0,
                want.candidate.flux.0
            );
            assert_eq!(
                got.previous_detections.len(),
                want.previous_detections.len()
            );
            assert_eq!(got.upper_limits.len(), want.upper_limits.len());
            assert_eq!(got.forced_photometry.len(), want.forced_photometry.len());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
