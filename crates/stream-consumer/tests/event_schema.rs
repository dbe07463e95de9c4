//! The output event evolves backward-compatibly: consumers built for the first version (no
//! classification) read today's events, and today's readers read old events with defaults.

use std::collections::BTreeMap;

use apache_avro::schema_compatibility::SchemaCompatibility;
use apache_avro::types::Value;
use apache_avro::{Reader, Schema};
use stream_consumer::config::OutputFormat;
use stream_consumer::event::OBJECT_UPDATE_SCHEMA_V1;
use stream_consumer::features::BandSummary;
use stream_consumer::{EventEncoder, OBJECT_UPDATE_SCHEMA, ObjectUpdate, decode_event};

fn classified_event() -> ObjectUpdate {
    ObjectUpdate {
        survey: "ztf".into(),
        object_id: "ZTF18adoojej".into(),
        source_id: 1,
        mjd: 58_450.3,
        band: "r".into(),
        n_detections: 1,
        bands: vec![BandSummary {
            band: "r".into(),
            n_detections: 1,
            latest_mjd: 58_450.3,
            latest_flux_njy: 1e4,
            latest_flux_err_njy: 1e2,
            peak_flux_njy: 1e4,
            peak_mjd: 58_450.3,
            rise_rate_mag_per_day: None,
            fade_rate_mag_per_day: Some(0.05),
        }],
        color_g_minus_r: None,
        input_kafka_timestamp_ms: Some(1),
        ingest_start_ms: 2,
        published_ms: 3,
        model_name: Some("deeprubin-default".into()),
        model_version: Some("abc".into()),
        probabilities: BTreeMap::from([("SNIa".to_owned(), 0.75), ("SNII".to_owned(), 0.25)]),
        top_level: BTreeMap::from([("Transient".to_owned(), 1.0)]),
        class: Some("SNIa".into()),
        uncertainty: Some(0.2),
        anomaly_score: Some(0.1),
        classified_ms: Some(3),
        solar_system_object: Some("142875".into()),
        solar_system_distance_arcsec: Some(0.4),
    }
}

#[test]
fn schema_versions_are_compatible_both_ways() {
    let v1 = Schema::parse_str(OBJECT_UPDATE_SCHEMA_V1).unwrap();
    let v2 = Schema::parse_str(OBJECT_UPDATE_SCHEMA).unwrap();
    SchemaCompatibility::can_read(&v2, &v1).expect("v1 readers read v2 events");
    SchemaCompatibility::can_read(&v1, &v2).expect("v2 readers read v1 events");
}

#[test]
fn a_v1_consumer_reads_a_classified_event() {
    let bytes = EventEncoder {
        format: OutputFormat::Avro,
        schema_id: None,
    }
    .encode(&classified_event())
    .unwrap();
    let v1 = Schema::parse_str(OBJECT_UPDATE_SCHEMA_V1).unwrap();
    let mut reader = Reader::builder(&bytes[..])
        .reader_schema(&v1)
        .build()
        .unwrap();
    let Value::Record(fields) = reader.next().unwrap().unwrap() else {
        panic!("not a record")
    };
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"object_id") && !names.contains(&"class"),
        "{names:?}"
    );
    assert!(fields.contains(&("object_id".to_owned(), Value::String("ZTF18adoojej".into()))));
}

#[test]
fn todays_reader_fills_defaults_for_old_events() {
    // An event written with the v1 schema (no classification fields at all).
    let v1 = Schema::parse_str(OBJECT_UPDATE_SCHEMA_V1).unwrap();
    let mut old = classified_event();
    old.model_name = None;
    old.model_version = None;
    old.probabilities.clear();
    old.top_level.clear();
    old.class = None;
    old.uncertainty = None;
    old.anomaly_score = None;
    old.classified_ms = None;
    old.solar_system_object = None;
    old.solar_system_distance_arcsec = None;
    let mut value = apache_avro::to_value(&old).unwrap();
    if let Value::Record(fields) = &mut value {
        let keep: Vec<&str> = match &v1 {
            Schema::Record(r) => r.fields.iter().map(|f| f.name.as_str()).collect(),
            _ => panic!("v1 is a record"),
        };
        fields.retain(|(n, _)| keep.contains(&n.as_str()));
    }
    let value = value.resolve(&v1).unwrap();
    let mut writer = apache_avro::Writer::new(&v1, Vec::new()).unwrap();
    writer.append_value(value).unwrap();
    let bytes = writer.into_inner().unwrap();
    let v2 = Schema::parse_str(OBJECT_UPDATE_SCHEMA).unwrap();
    let mut reader = Reader::builder(&bytes[..])
        .reader_schema(&v2)
        .build()
        .unwrap();
    let decoded: ObjectUpdate = apache_avro::from_value(&reader.next().unwrap().unwrap()).unwrap();
    assert_eq!(decoded, old);
    // JSON consumers likewise: an old JSON event parses with empty classification fields.
    let mut json = serde_json::to_value(&old).unwrap();
    for key in [
        "model_name",
        "model_version",
        "probabilities",
        "top_level",
        "class",
        "uncertainty",
        "anomaly_score",
        "classified_ms",
        "solar_system_object",
        "solar_system_distance_arcsec",
    ] {
        json.as_object_mut().unwrap().remove(key);
    }
    assert_eq!(decode_event(json.to_string().as_bytes()).unwrap(), old);
}

#[test]
fn events_name_the_asteroid_only_when_the_detection_is_it() {
    let config = simulator::SimulationConfig::default();
    let object =
        simulator::simulate_object(&config, alert_model::Survey::Ztf, simulator::Class::SnIa, 0);
    let mut alert = simulator::alerts_for(&object)
        .unwrap()
        .pop()
        .expect("a detected object raises alerts");
    let event = |alert: &alert_model::Alert| ObjectUpdate::for_alert(alert, None, 0);
    assert!(!event(&alert).is_solar_system_object());

    let mpc_match = |distance| alert_model::SolarSystemMatch {
        name: "2010CG48".into(),
        distance_arcsec: Some(distance),
        magnitude_v: Some(21.9),
    };
    alert.solar_system = Some(mpc_match(0.4));
    let on_it = event(&alert);
    assert_eq!(on_it.solar_system_object.as_deref(), Some("2010CG48"));
    assert_eq!(on_it.solar_system_distance_arcsec, Some(0.4));
    // ZTF names the nearest known object within 30″: at 7″ it is a neighbour, not this source.
    alert.solar_system = Some(mpc_match(7.0));
    let beside_it = event(&alert);
    assert!(!beside_it.is_solar_system_object());
    assert_eq!(beside_it.solar_system_distance_arcsec, None);
}
