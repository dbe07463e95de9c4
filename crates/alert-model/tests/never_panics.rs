//! Property tests: truncated, bit-flipped and random bytes give errors, never a panic.

mod common;

use std::sync::Arc;

use alert_model::encode::{lsst_packet_wire, ztf_packet};
use alert_model::schema_source::SchemaDirectory;
use alert_model::{
    Alert, AlertDecoder, Band, Cutouts, Detection, DetectionQuality, FluxNjy, Mjd, ObjectId,
    SourceId, Survey, UpperLimit,
};
use proptest::prelude::*;

fn sample(survey: Survey) -> Alert {
    let detection = |id: i64, mjd: f64, flux: f64| Detection {
        source_id: SourceId(id),
        mjd: Mjd(mjd),
        band: Band::G,
        ra: 10.0,
        dec: 20.0,
        flux: FluxNjy(flux),
        flux_err: FluxNjy(flux.abs() / 10.0),
        mag: None,
        quality: DetectionQuality::default(),
    };
    Alert {
        survey,
        object_id: match survey {
            Survey::Ztf => ObjectId::parse(survey, "ZTF21aaaaaaa").unwrap(),
            Survey::Lsst => ObjectId::from_lsst(99).unwrap(),
        },
        schema_version: "sim".into(),
        candidate: detection(3, 60_003.0, 3_000.0),
        previous_detections: vec![
            detection(1, 60_000.0, 2_000.0),
            detection(2, 60_001.0, -2_500.0),
        ],
        forced_photometry: vec![],
        upper_limits: vec![UpperLimit {
            mjd: Mjd(59_990.0),
            band: Band::G,
            limiting_mag: 20.5,
        }],
        cutouts: Cutouts::default(),
        solar_system: None,
    }
}

/// Packets to mutate: our own encodings, plus real ones when the shared data is present.
fn seeds() -> Vec<Vec<u8>> {
    let mut out = vec![
        ztf_packet(&sample(Survey::Ztf)).unwrap(),
        lsst_packet_wire(&sample(Survey::Lsst)).unwrap(),
    ];
    if let Some(data) = common::shared_data() {
        for folder in [
            "ztf/alerts/boom-astro__boom",
            "lsst/wire",
            "ztf/spark_rewritten",
        ] {
            out.extend(
                common::avro_files(&data.join(folder))
                    .into_iter()
                    .take(2)
                    .map(|p| std::fs::read(p).unwrap()),
            );
        }
    }
    out
}

fn decoder() -> AlertDecoder {
    let decoder = AlertDecoder::new();
    match common::shared_data() {
        Some(data) => {
            decoder.with_schema_source(Arc::new(SchemaDirectory::new(data.join("lsst/schemas"))))
        }
        None => decoder,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let decoder = decoder();
        let _ = decoder.decode(&bytes);
        // Also with each framing's magic in front, to get past the first check.
        let mut container = b"Obj\x01".to_vec();
        container.extend(&bytes);
        let _ = decoder.decode(&container);
        let mut wire = vec![0u8, 0, 0, 0x26, 0xad];
        wire.extend(&bytes);
        let _ = decoder.decode(&wire);
    }

    #[test]
    fn truncated_packets_never_panic(seed in 0usize..64, cut in any::<prop::sample::Index>()) {
        let seeds = seeds();
        let packet = &seeds[seed % seeds.len()];
        let truncated = &packet[..cut.index(packet.len())];
        prop_assert!(decoder().decode(truncated).is_err());
    }

    #[test]
    fn bit_flipped_packets_never_panic(
        seed in 0usize..64,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..8),
    ) {
        let seeds = seeds();
        let mut packet = seeds[seed % seeds.len()].clone();
        for (at, bit) in flips {
            let i = at.index(packet.len());
            packet[i] ^= 1 << bit;
        }
        let _ = decoder().decode(&packet);
    }
}
