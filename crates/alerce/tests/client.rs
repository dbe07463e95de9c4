//! The client against a scripted local server: mapping, retries, and every error case.

mod common;

use std::time::{Duration, Instant};

use alerce::{AlerceError, SCHEMA_VERSION};
use alert_model::{Band, SourceId};
use common::{FakeAlerce, OID, Reply, fixture, fixtures};

fn lc_path() -> String {
    format!("/ztf/v1/objects/{OID}/lightcurve")
}

#[test]
fn fetch_maps_detections_limits_and_probabilities() {
    let server = FakeAlerce::with_fixtures();
    let client = server.client(3);
    let object = client.fetch(OID).expect("fetch");
    assert_eq!(client.requests_sent(), 3);

    let lc = &object.light_curve;
    // 6 detections: one without a magnitude is skipped; the one without ra/dec takes the mean.
    assert_eq!(lc.detections.len(), 5, "{:?}", lc.skipped);
    // 4 non-detections: a duplicate is merged, fid 5 is skipped.
    assert_eq!(lc.upper_limits.len(), 2);
    let reasons: Vec<_> = lc
        .skipped
        .iter()
        .map(|s| (s.kind, s.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("detection", "magpsf is missing"),
            ("non_detection", "fid 5 is not a ZTF band (1 g, 2 r, 3 i)")
        ]
    );

    // MJD order; negative isdiffpos (-1 and "f") gives negative flux.
    let mjds: Vec<f64> = lc.detections.iter().map(|d| d.mjd.0).collect();
    assert_eq!(mjds, [59301.25, 59310.2, 59320.4, 59325.1, 59330.31]);
    let signs: Vec<bool> = lc.detections.iter().map(|d| d.flux.0 > 0.0).collect();
    assert_eq!(signs, [true, false, false, true, true]);
    let bands: Vec<Band> = lc.detections.iter().map(|d| d.band).collect();
    assert_eq!(bands, [Band::G, Band::R, Band::G, Band::I, Band::R]);
    // 19.2 mag → 10^(0.4·(31.4 − 19.2)) nJy; σ = 0.4·ln10·|f|·0.1.
    let d = &lc.detections[1];
    let expected = 10f64.powf(0.4 * (31.4 - 19.2));
    assert!((d.flux.0 + expected).abs() < 1e-6 * expected);
    assert!(
        (d.flux_err.0 - 0.4 * std::f64::consts::LN_10 * expected * 0.1).abs() < 1e-6 * expected
    );
    assert_eq!(d.quality.deep_real_bogus, None, "NaN drb reads as absent");
    assert_eq!(d.quality.real_bogus, Some(0.8));
    assert_eq!(
        (lc.detections[3].ra, lc.detections[3].dec),
        (150.12345, 2.54321)
    );
    assert_eq!(lc.upper_limits[0].band, Band::G);
    assert_eq!(lc.upper_limits[0].limiting_mag, 20.1);

    let alert = object.alert().expect("an alert");
    assert_eq!(alert.schema_version, SCHEMA_VERSION);
    assert_eq!(
        alert.candidate.source_id,
        SourceId(1_582_312_345_015_015_010)
    );
    assert_eq!(alert.previous_detections.len(), 4);
    assert_eq!(alert.upper_limits.len(), 2);

    let top = object.alerce_class().expect("lc_classifier class");
    assert_eq!((top.class_name.as_str(), top.probability), ("SNIa", 0.62));
    assert_eq!(object.summary.ndet, Some(5));
    assert_eq!(object.probabilities.len(), 5);
}

#[test]
fn empty_light_curve_is_an_object_without_an_alert() {
    let server = FakeAlerce::start(|path, _| {
        if path.ends_with("/lightcurve") {
            Reply::Json(200, r#"{"detections": [], "non_detections": []}"#.into())
        } else if path.ends_with("/probabilities") {
            Reply::Json(200, "[]".into())
        } else {
            fixtures(path)
        }
    });
    let object = server.client(3).fetch(OID).expect("fetch");
    assert!(object.light_curve.detections.is_empty());
    assert!(object.alert().is_none());
    assert!(object.alerce_class().is_none());
}

#[test]
fn unknown_object_is_not_found_without_retries() {
    let server = FakeAlerce::with_fixtures();
    let client = server.client(4);
    let err = client.fetch("ZTF99zzzzzzz").unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(
        err.to_string()
            .contains("ZTF99zzzzzzz is not known to ALeRCE"),
        "{err}"
    );
    assert_eq!(client.requests_sent(), 1);
}

#[test]
fn invalid_ids_send_nothing() {
    let server = FakeAlerce::with_fixtures();
    let client = server.client(4);
    for bad in [
        "",
        "ZTF18ADOOJEJ",
        "../../etc/passwd",
        "ZTF18adoojej/lightcurve",
        "ZTF18adoojéj",
    ] {
        let err = client.fetch(bad).unwrap_err();
        assert!(
            matches!(err, AlerceError::InvalidObjectId(_)),
            "{bad}: {err}"
        );
        assert!(
            err.to_string().contains("not a valid ztf object id"),
            "{err}"
        );
    }
    assert_eq!(server.total_hits(), 0);
}

#[test]
fn too_many_requests_then_success_honours_retry_after() {
    let server = FakeAlerce::start(|path, n| {
        if path.ends_with("/lightcurve") && n == 0 {
            Reply::Raw(
                429,
                vec![("Retry-After", "1".into())],
                "application/json",
                r#"{"detail":"slow down"}"#.into(),
            )
        } else {
            fixtures(path)
        }
    });
    let client = server.client(3);
    let start = Instant::now();
    let object = client.fetch(OID).expect("retried to success");
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "waited Retry-After"
    );
    assert_eq!(server.hits(&lc_path()), 2);
    assert_eq!(client.requests_sent(), 4);
    assert_eq!(object.light_curve.detections.len(), 5);
}

#[test]
fn retry_after_beyond_the_limit_fails_at_once() {
    let server = FakeAlerce::start(|_, _| {
        Reply::Raw(
            429,
            vec![("Retry-After", "3600".into())],
            "application/json",
            "{}".into(),
        )
    });
    let client = server.client(5);
    let err = client.fetch(OID).unwrap_err();
    assert!(
        matches!(
            err,
            AlerceError::RateLimited {
                retry_after_s: 3600,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("wait 3600 s"), "{err}");
    assert_eq!(client.requests_sent(), 1);
}

#[test]
fn persistent_server_errors_give_up_after_the_attempt_limit() {
    let server = FakeAlerce::start(|_, _| Reply::Json(500, r#"{"detail":"boom"}"#.into()));
    let client = server.client(4);
    let start = Instant::now();
    let err = client.fetch(OID).unwrap_err();
    // Backoff 20 + 40 + 80 ms: well under a second.
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    match &err {
        AlerceError::Http {
            status: 500,
            attempts: 4,
            body,
            ..
        } => assert!(body.contains("boom")),
        other => panic!("unexpected {other}"),
    }
    assert!(
        err.to_string().contains("HTTP 500 after 4 attempt(s)"),
        "{err}"
    );
    assert_eq!(server.total_hits(), 4);

    // Even an absurd configuration is capped.
    let client = alerce::AlerceClient::new(alerce::ClientConfig {
        retry: alerce::RetryPolicy {
            max_attempts: 1_000_000,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            ..alerce::RetryPolicy::default()
        },
        ..server.config(1)
    });
    assert!(client.fetch(OID).is_err());
    assert_eq!(
        client.requests_sent(),
        u64::from(alerce::MAX_ATTEMPTS_CEILING)
    );
}

#[test]
fn truncated_json_is_malformed() {
    let whole = fixture("lightcurve.json");
    let cut = whole[..whole.len() / 2].to_owned();
    let server = FakeAlerce::start(move |path, _| {
        if path.ends_with("/lightcurve") {
            Reply::Json(200, cut.clone())
        } else {
            fixtures(path)
        }
    });
    let err = server.client(3).fetch(OID).unwrap_err();
    assert!(matches!(err, AlerceError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("EOF while parsing"), "{err}");
    assert_eq!(server.hits(&lc_path()), 1, "a bad body is not retried");
}

#[test]
fn body_cut_short_by_the_connection_is_a_transport_error() {
    let server = FakeAlerce::start(|path, _| {
        if path.ends_with("/lightcurve") {
            Reply::CutShort(fixture("lightcurve.json"), 100)
        } else {
            fixtures(path)
        }
    });
    let err = server.client(2).fetch(OID).unwrap_err();
    assert!(
        matches!(err, AlerceError::Transport { attempts: 2, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("reading the response body"),
        "{err}"
    );
}

#[test]
fn wrong_content_is_refused() {
    let server = FakeAlerce::start(|path, _| {
        if path.ends_with("/lightcurve") {
            Reply::Raw(
                200,
                vec![],
                "text/html",
                "<html><body>Maintenance</body></html>".into(),
            )
        } else if path.ends_with("/probabilities") {
            Reply::Json(200, r#"{"items": []}"#.into())
        } else {
            fixtures(path)
        }
    });
    let client = server.client(3);
    let err = client.fetch(OID).unwrap_err();
    assert!(
        matches!(err, AlerceError::UnexpectedContent { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("text/html") && err.to_string().contains("Maintenance"),
        "{err}"
    );

    let oid = alert_model::ObjectId::parse(alert_model::Survey::Ztf, OID).unwrap();
    let err = client.probabilities(&oid).unwrap_err();
    assert!(matches!(err, AlerceError::Malformed { .. }), "{err}");

    // JSON of the wrong shape where the light curve belongs.
    let server = FakeAlerce::start(|path, _| {
        if path.ends_with("/lightcurve") {
            Reply::Json(
                200,
                r#"{"detections": [{"mjd": "yesterday"}], "non_detections": []}"#.into(),
            )
        } else {
            fixtures(path)
        }
    });
    let err = server.client(3).fetch(OID).unwrap_err();
    assert!(
        err.to_string()
            .contains("expected a number, got \"yesterday\""),
        "{err}"
    );
}

#[test]
fn unreachable_and_silent_servers_fail_in_bounded_time() {
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut config = FakeAlerce::with_fixtures().config(3);
    config.base_url = format!("http://127.0.0.1:{port}/ztf/v1");
    let client = alerce::AlerceClient::new(config);
    let err = client.fetch(OID).unwrap_err();
    assert!(
        matches!(err, AlerceError::Transport { attempts: 3, .. }),
        "{err}"
    );

    // A server that accepts and never answers: each attempt times out.
    let server = FakeAlerce::start(|_, _| Reply::Silent);
    let mut config = server.config(2);
    config.timeout = Duration::from_millis(300);
    let client = alerce::AlerceClient::new(config);
    let start = Instant::now();
    let err = client.fetch(OID).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(
        matches!(err, AlerceError::Transport { attempts: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().to_lowercase().contains("timeout"), "{err}");
}

#[test]
fn the_rate_limit_spaces_requests() {
    let server = FakeAlerce::with_fixtures();
    let mut config = server.config(1);
    config.max_requests_per_second = 10.0;
    let client = alerce::AlerceClient::new(config);
    let start = Instant::now();
    client.fetch(OID).expect("fetch");
    // Three requests: the second and third wait 100 ms each.
    assert!(
        start.elapsed() >= Duration::from_millis(190),
        "{:?}",
        start.elapsed()
    );
}
