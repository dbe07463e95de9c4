//! A scripted HTTP/1.1 server on loopback standing in for ALeRCE: each request gets the answer
//! the test's script gives for (path, how many times that path was asked before).
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alerce::{AlerceClient, ClientConfig, RetryPolicy};

pub const OID: &str = "ZTF21abcdefg";

pub fn fixture(name: &str) -> String {
    // Relative to the crates folder, so the deeprubin CLI tests can share these fixtures.
    let path = format!(
        "{}/../alerce/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// What the server does with one request.
pub enum Reply {
    Json(u16, String),
    /// Status, extra headers, content type, body.
    Raw(u16, Vec<(&'static str, String)>, &'static str, String),
    /// Announces `Content-Length` of the full body but sends only the first `n` bytes.
    CutShort(String, usize),
    /// Never answers (until the client gives up).
    Silent,
}

type Script = dyn Fn(&str, usize) -> Reply + Send + Sync;

pub struct FakeAlerce {
    pub base_url: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
}

impl FakeAlerce {
    pub fn start(script: impl Fn(&str, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        let (h, s) = (hits.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (h, script, s) = (h.clone(), script.clone(), s.clone());
                std::thread::spawn(move || serve(stream, &h, &*script, &s));
            }
        });
        FakeAlerce {
            base_url: format!("http://{addr}/ztf/v1"),
            hits,
            stop,
            addr,
        }
    }

    /// The standard fixtures for [`OID`]; 404 for any other object.
    pub fn with_fixtures() -> Self {
        Self::start(|path, _| fixtures(path))
    }

    /// Requests received for a path (`/ztf/v1/objects/...`).
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    pub fn total_hits(&self) -> usize {
        self.hits.lock().unwrap().values().sum()
    }

    /// A client for this server: fast retries, short timeout.
    pub fn client(&self, attempts: u32) -> AlerceClient {
        AlerceClient::new(self.config(attempts))
    }

    pub fn config(&self, attempts: u32) -> ClientConfig {
        ClientConfig {
            base_url: self.base_url.clone(),
            timeout: Duration::from_secs(2),
            retry: RetryPolicy {
                max_attempts: attempts,
                base_delay: Duration::from_millis(20),
                max_delay: Duration::from_millis(100),
                max_retry_after: Duration::from_secs(5),
            },
            max_requests_per_second: 200.0,
            ..ClientConfig::default()
        }
    }
}

impl Drop for FakeAlerce {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wake the accept loop
    }
}

/// The fixture files for [`OID`], 404 JSON for anything else.
pub fn fixtures(path: &str) -> Reply {
    let base = format!("/ztf/v1/objects/{OID}");
    match path.strip_prefix(&base) {
        Some("") => Reply::Json(200, fixture("object.json")),
        Some("/lightcurve") => Reply::Json(200, fixture("lightcurve.json")),
        Some("/probabilities") => Reply::Json(200, fixture("probabilities.json")),
        _ => Reply::Json(404, r#"{"detail":"Object not found"}"#.into()),
    }
}

fn serve(
    mut stream: TcpStream,
    hits: &Mutex<HashMap<String, usize>>,
    script: &Script,
    stop: &AtomicBool,
) {
    if stop.load(Ordering::SeqCst) {
        return;
    }
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let n = {
        let mut hits = hits.lock().unwrap();
        let count = hits.entry(path.clone()).or_insert(0);
        *count += 1;
        *count - 1
    };
    let (status, headers, content_type, body, send) = match script(&path, n) {
        Reply::Json(status, body) => {
            let len = body.len();
            (status, vec![], "application/json", body, len)
        }
        Reply::Raw(status, headers, ct, body) => {
            let len = body.len();
            (status, headers, ct, body, len)
        }
        Reply::CutShort(body, n) => (200, vec![], "application/json", body, n),
        Reply::Silent => {
            std::thread::sleep(Duration::from_secs(4));
            return;
        }
    };
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(&body.as_bytes()[..send.min(body.len())]);
    let _ = stream.flush();
}
