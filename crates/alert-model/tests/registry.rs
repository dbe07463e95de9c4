//! The schema-registry client against a local HTTP server that answers like a Confluent registry.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use alert_model::avro::WireMessage;
use alert_model::encode::{LSST_SIM_SCHEMA, lsst_packet_wire};
use alert_model::schema_source::{FallbackSources, SchemaRegistry};
use alert_model::{
    Alert, AlertDecoder, Band, Cutouts, DecodeError, Detection, DetectionQuality, FluxNjy, Mjd,
    ObjectId, SourceId, Survey,
};

const REGISTERED_ID: u32 = 4242;

/// Serves `GET /schemas/ids/4242` with the simulated Rubin schema, 404 for other ids; counts requests.
fn serve_registry() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let (status, body) =
                if request_line.starts_with(&format!("GET /schemas/ids/{REGISTERED_ID} ")) {
                    (
                        "200 OK",
                        serde_json::json!({ "schema": LSST_SIM_SCHEMA }).to_string(),
                    )
                } else {
                    (
                        "404 Not Found",
                        r#"{"error_code":40403,"message":"Schema not found"}"#.to_owned(),
                    )
                };
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/vnd.schemaregistry.v1+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, hits)
}

fn alert() -> Alert {
    let detection = Detection {
        source_id: SourceId(5),
        mjd: Mjd(60_100.0),
        band: Band::I,
        ra: 1.0,
        dec: -1.0,
        flux: FluxNjy(4_000.0),
        flux_err: FluxNjy(300.0),
        mag: None,
        quality: DetectionQuality::default(),
    };
    Alert {
        survey: Survey::Lsst,
        object_id: ObjectId::from_lsst(7).unwrap(),
        schema_version: "sim".into(),
        candidate: detection,
        previous_detections: vec![],
        forced_photometry: vec![],
        upper_limits: vec![],
        cutouts: Cutouts::default(),
        solar_system: None,
    }
}

/// The same body framed with the registry's id for the schema.
fn message_with_id(id: u32) -> Vec<u8> {
    let framed = lsst_packet_wire(&alert()).unwrap();
    WireMessage::encode(id, WireMessage::parse(&framed).unwrap().body)
}

#[test]
fn fetches_caches_and_decodes() {
    let (url, hits) = serve_registry();
    let registry = SchemaRegistry::new(url, Duration::from_secs(5));
    let decoder = AlertDecoder::new().with_schema_source(Arc::new(registry));
    for _ in 0..3 {
        let alerts = decoder.decode(&message_with_id(REGISTERED_ID)).unwrap();
        assert_eq!(alerts[0].object_id.as_str(), "7");
        assert_eq!(alerts[0].schema_version, "42.42");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1, "the schema is fetched once");
}

#[test]
fn unknown_id_is_reported_as_such() {
    let (url, _) = serve_registry();
    let decoder = AlertDecoder::new()
        .with_schema_source(Arc::new(SchemaRegistry::new(url, Duration::from_secs(5))));
    let err = decoder.decode(&message_with_id(17)).unwrap_err();
    assert_eq!(err, DecodeError::UnknownSchemaId(17));
    assert!(!err.is_transient());
}

#[test]
fn unreachable_registry_is_a_transient_error_and_falls_back() {
    // A port nobody listens on: bind, read the port, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = SchemaRegistry::new(format!("http://127.0.0.1:{port}"), Duration::from_secs(2));
    let decoder = AlertDecoder::new().with_schema_source(Arc::new(down));
    let err = decoder.decode(&message_with_id(REGISTERED_ID)).unwrap_err();
    assert!(
        matches!(err, DecodeError::RegistryUnreachable { .. }),
        "{err}"
    );
    assert!(err.is_transient());

    let (url, _) = serve_registry();
    let down = SchemaRegistry::new(format!("http://127.0.0.1:{port}"), Duration::from_secs(2));
    let up = SchemaRegistry::new(url, Duration::from_secs(5));
    let decoder = AlertDecoder::new().with_schema_source(Arc::new(FallbackSources(vec![
        Box::new(down),
        Box::new(up),
    ])));
    assert!(decoder.decode(&message_with_id(REGISTERED_ID)).is_ok());
}
