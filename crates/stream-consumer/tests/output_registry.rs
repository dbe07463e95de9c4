//! Registering the output schema: against a local HTTP server that answers as a Confluent registry
//! does (`POST /subjects/{subject}/versions` → `{"id": N}`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use stream_consumer::OBJECT_UPDATE_SCHEMA;
use stream_consumer::registry::register_schema;

/// Answers one request with `status` and `body`; returns the base URL and the request it saw.
fn serve_once(
    status: &'static str,
    body: &'static str,
) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut payload = vec![0; length];
        reader.read_exact(&mut payload).unwrap();
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        head + &String::from_utf8(payload).unwrap()
    });
    (url, handle)
}

#[test]
fn registers_under_the_value_subject_and_returns_the_id() {
    let (url, request) = serve_once("200 OK", r#"{"id": 42}"#);
    let id = register_schema(
        &url,
        "updates-value",
        OBJECT_UPDATE_SCHEMA,
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(id, 42);
    let request = request.join().unwrap();
    assert!(
        request.starts_with("POST /subjects/updates-value/versions "),
        "{request}"
    );
    let body: serde_json::Value =
        serde_json::from_str(request.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["schema"].as_str(), Some(OBJECT_UPDATE_SCHEMA));
}

#[test]
fn registry_errors_are_reported() {
    let (url, _) = serve_once(
        "409 Conflict",
        r#"{"error_code":409,"message":"incompatible"}"#,
    );
    let err = register_schema(
        &url,
        "updates-value",
        OBJECT_UPDATE_SCHEMA,
        Duration::from_secs(5),
    )
    .unwrap_err();
    assert!(err.to_string().contains("HTTP 409"), "{err}");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert!(
        register_schema(
            &format!("http://127.0.0.1:{port}"),
            "s",
            "{}",
            Duration::from_secs(2)
        )
        .is_err()
    );
}
