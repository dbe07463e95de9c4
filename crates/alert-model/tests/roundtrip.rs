//! Packets written by `encode` decode back to the same alert.

use alert_model::encode::{lsst_packet_container, lsst_packet_wire, ztf_packet};
use alert_model::{
    AbMagnitude, Alert, AlertDecoder, Band, Cutout, Cutouts, Detection, DetectionQuality, FluxNjy,
    ForcedPhotometry, Mjd, ObjectId, SolarSystemMatch, SourceId, Survey, UpperLimit,
};

fn detection(id: i64, mjd: f64, band: Band, flux: f64, survey: Survey) -> Detection {
    let err = flux.abs() * 0.05;
    let mag = (survey == Survey::Ztf).then(|| AbMagnitude {
        mag: FluxNjy(flux).ab_mag().unwrap(),
        err: FluxNjy(flux).mag_error(FluxNjy(err)).unwrap(),
    });
    Detection {
        source_id: SourceId(id),
        mjd: Mjd(mjd),
        band,
        ra: 150.25,
        dec: -2.5,
        flux: FluxNjy(flux),
        flux_err: FluxNjy(err),
        mag,
        quality: DetectionQuality {
            real_bogus: (survey == Survey::Ztf).then_some(0.75),
            reliability: (survey == Survey::Lsst).then_some(0.5),
            program_id: (survey == Survey::Ztf).then_some(1),
            ..Default::default()
        },
    }
}

fn alert(survey: Survey) -> Alert {
    let object_id = match survey {
        Survey::Ztf => ObjectId::parse(survey, "ZTF24abcdefg").unwrap(),
        Survey::Lsst => ObjectId::from_lsst(170_000_123).unwrap(),
    };
    Alert {
        survey,
        object_id,
        schema_version: "sim".into(),
        candidate: detection(1003, 60_010.5, Band::R, 52_000.0, survey),
        previous_detections: vec![
            detection(1001, 60_001.25, Band::G, 20_000.0, survey),
            detection(1002, 60_004.5, Band::R, -31_000.0, survey),
        ],
        forced_photometry: vec![ForcedPhotometry {
            source_id: (survey == Survey::Lsst).then_some(SourceId(77)),
            mjd: Mjd(59_999.0),
            band: Band::G,
            flux: FluxNjy(-1_200.0),
            flux_err: FluxNjy(900.0),
            status: (survey == Survey::Ztf).then(|| "0".to_owned()),
        }],
        upper_limits: vec![UpperLimit {
            mjd: Mjd(59_998.0),
            band: Band::R,
            limiting_mag: 20.6,
        }],
        cutouts: Cutouts {
            science: Some(Cutout {
                file_name: (survey == Survey::Ztf).then(|| "sci.fits.gz".into()),
                compressed: vec![0x1f, 0x8b, 1, 2, 3],
            }),
            ..Default::default()
        },
        // The simulator's ZTF packets carry ZTF's asteroid match; its Rubin packets do not.
        solar_system: (survey == Survey::Ztf).then(|| SolarSystemMatch {
            name: "142875".into(),
            distance_arcsec: Some(0.4),
            magnitude_v: Some(19.3),
        }),
    }
}

/// Relative closeness: packets store fluxes and magnitudes as 32-bit floats, as the surveys do.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-5 * a.abs().max(b.abs()).max(1.0)
}

fn assert_same(decoded: &Alert, original: &Alert) {
    assert_eq!(decoded.object_id, original.object_id);
    assert_eq!(decoded.source_id(), original.source_id());
    assert_eq!(decoded.n_detections(), original.n_detections());
    for (d, o) in decoded.detections().zip(original.detections()) {
        assert_eq!((d.source_id, d.band), (o.source_id, o.band));
        assert!(
            close(d.mjd.0, o.mjd.0)
                && close(d.flux.0, o.flux.0)
                && close(d.flux_err.0, o.flux_err.0),
            "{d:?} vs {o:?}"
        );
    }
    assert_eq!(decoded.forced_photometry.len(), 1);
    assert!(close(decoded.forced_photometry[0].flux.0, -1_200.0));
    assert_eq!(decoded.upper_limits.len(), 1);
    assert!(close(decoded.upper_limits[0].limiting_mag, 20.6));
    assert_eq!(
        decoded.cutouts.science.as_ref().unwrap().compressed,
        vec![0x1f, 0x8b, 1, 2, 3]
    );
    match (&decoded.solar_system, &original.solar_system) {
        (Some(d), Some(o)) => {
            assert_eq!(d.name, o.name);
            assert!(close(
                d.distance_arcsec.unwrap(),
                o.distance_arcsec.unwrap()
            ));
            assert!(close(d.magnitude_v.unwrap(), o.magnitude_v.unwrap()));
        }
        (d, o) => assert_eq!(d, o),
    }
}

#[test]
fn ztf_packets_round_trip() {
    let original = alert(Survey::Ztf);
    let bytes = ztf_packet(&original).unwrap();
    assert!(bytes.starts_with(b"Obj\x01"));
    let decoded = AlertDecoder::new().decode(&bytes).unwrap();
    assert_eq!(decoded.len(), 1);
    assert_same(&decoded[0], &original);
}

#[test]
fn rubin_wire_and_container_packets_round_trip() {
    let original = alert(Survey::Lsst);
    let decoder = AlertDecoder::new();
    let wire = lsst_packet_wire(&original).unwrap();
    assert_eq!(&wire[..5], &[0, 0, 0, 0x26, 0xad]); // schema id 9901
    let decoded = decoder.decode(&wire).unwrap();
    assert_eq!(decoded[0].schema_version, "99.1");
    assert_same(&decoded[0], &original);
    let container = lsst_packet_container(&original).unwrap();
    assert_same(&decoder.decode(&container).unwrap()[0], &original);
}

#[test]
fn encoders_refuse_the_wrong_survey() {
    assert!(ztf_packet(&alert(Survey::Lsst)).is_err());
    assert!(lsst_packet_wire(&alert(Survey::Ztf)).is_err());
}
