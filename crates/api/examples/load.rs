//! Load generator for `GET /objects/{oid}`: prints p50/p95/p99 latency and requests per second.
//!
//! Against a running server (loopback only), cycling over the ids its search returns:
//!   cargo run --release -p api --example load -- --url http://127.0.0.1:8080 --connections 200 --requests 100000
//! Or self-contained: starts the API in-process on a free loopback port over a store seeded with
//! synthetic objects (in memory, or a Postgres database given by --database-url, migrated here;
//! seeding adds objects `ZTF25…` to it):
//!   cargo run --release -p api --example load -- --seed-objects 10000 --connections 200 --requests 100000
//!
//! Against the 1,000,000-object store of `bench_store --scale` (no seeding; random objects), open
//! loop at a stated rate:
//!   cargo run --release -p api --example load -- --database-url postgres://postgres@127.0.0.1:5432/deeprubin_bench_1m \
//!     --seed-objects 0 --bench-ids 1000000 --connections 200 --rate 2000 --requests 60000
//!
//! Bounded: at most --requests requests and --max-seconds of wall time.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use alert_model::{
    Alert, Band, Cutouts, Detection, DetectionQuality, FluxNjy, Mjd, ObjectId, SourceId, Survey,
};
use api::{ApiConfig, AppState};
use clap::Parser;
use store::{MemoryStore, PgConfig, PgStore, StateStore};

#[derive(Debug, Parser)]
struct Args {
    /// Base URL of a running server (loopback only); without it, an in-process server is started.
    #[arg(long)]
    url: Option<String>,
    /// Concurrent connections (one task each).
    #[arg(long, default_value_t = 200)]
    connections: usize,
    /// Total requests.
    #[arg(long, default_value_t = 20_000)]
    requests: u64,
    /// Stop after this many seconds even if requests remain.
    #[arg(long, default_value_t = 60)]
    max_seconds: u64,
    /// In-process mode: objects to seed (each with 10 detections).
    #[arg(long, default_value_t = 1_000)]
    seed_objects: u32,
    /// In-process mode: a Postgres database (migrated here) instead of the in-memory store.
    #[arg(long)]
    database_url: Option<String>,
    /// In-process mode: Postgres pool size.
    #[arg(long, default_value_t = 16)]
    pool: u32,
    /// Open loop: offer this many requests per second in total, on a fixed schedule, over the
    /// connections; latency counts from each request's scheduled time, so waiting for a free
    /// connection is included (no coordinated omission). Without it: closed loop, each
    /// connection sends its next request when the previous one is answered.
    #[arg(long)]
    rate: Option<f64>,
    /// Request random objects of the store benchmark (`store::bench`, seed 1) among its first N
    /// instead of the ids the server's search lists (use with the 1,000,000-object database).
    #[arg(long)]
    bench_ids: Option<usize>,
}

fn synthetic_id(n: u32) -> ObjectId {
    let mut letters = [b'a'; 7];
    let mut rest = n;
    for slot in letters.iter_mut().rev() {
        *slot = b'a' + (rest % 26) as u8;
        rest /= 26;
    }
    let text = format!("ZTF25{}", String::from_utf8_lossy(&letters));
    ObjectId::parse(Survey::Ztf, &text).expect("synthetic ids are valid")
}

fn synthetic_alert(n: u32) -> Alert {
    let object_id = synthetic_id(n);
    let detection = |k: u32| {
        let flux = 1000.0 + 100.0 * f64::from(k);
        Detection {
            source_id: SourceId(i64::from(n) * 100 + i64::from(k)),
            mjd: Mjd(60_000.0 + f64::from(n % 1000) + f64::from(k)),
            band: if k.is_multiple_of(2) {
                Band::G
            } else {
                Band::R
            },
            ra: f64::from(n % 360),
            dec: 0.0,
            flux: FluxNjy(flux),
            flux_err: FluxNjy(30.0),
            mag: None,
            quality: DetectionQuality::default(),
        }
    };
    Alert {
        survey: Survey::Ztf,
        object_id,
        schema_version: "load".into(),
        candidate: detection(9),
        previous_detections: (0..9).map(detection).collect(),
        forced_photometry: vec![],
        upper_limits: vec![],
        cutouts: Cutouts::default(),
        solar_system: None,
    }
}

/// Starts the API in-process; returns its base URL.
async fn start_server(args: &Args) -> anyhow_lite::Result<String> {
    let store: Arc<dyn StateStore> = match &args.database_url {
        Some(url) => {
            let config = PgConfig {
                max_connections: args.pool,
                ..PgConfig::with_url(url)
            };
            let store = PgStore::connect(&config).await?;
            store.migrate().await?;
            Arc::new(store)
        }
        None => Arc::new(MemoryStore::new()),
    };
    if args.seed_objects == 0 {
        return listen(store).await;
    }
    let started = Instant::now();
    let alerts: Vec<Alert> = (0..args.seed_objects).map(synthetic_alert).collect();
    for chunk in alerts.chunks(500) {
        store.upsert_alerts(chunk).await?;
    }
    eprintln!(
        "seeded {} objects into {} in {:.1} s",
        args.seed_objects,
        store.backend(),
        started.elapsed().as_secs_f64()
    );
    listen(store).await
}

async fn listen(store: Arc<dyn StateStore>) -> anyhow_lite::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = AppState::new(store, ApiConfig::default());
    tokio::spawn(async move {
        if let Err(e) = api::serve(listener, state, std::future::pending()).await {
            eprintln!("server: {e}");
        }
    });
    Ok(base)
}

/// Object ids to request: every page of the server's own search, up to 100 000.
async fn object_ids(client: &reqwest::Client, base: &str) -> anyhow_lite::Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut next = Some("/objects?limit=1000".to_owned());
    while let Some(path) = next.take() {
        let body: serde_json::Value = client
            .get(format!("{base}{path}"))
            .send()
            .await?
            .json()
            .await?;
        for o in body["objects"].as_array().into_iter().flatten() {
            if let Some(id) = o["object_id"].as_str() {
                ids.push(id.to_owned());
            }
        }
        if ids.len() < 100_000 {
            next = body["next"].as_str().map(str::to_owned);
        }
    }
    Ok(ids)
}

/// `n` random ids (repeats allowed) of the store benchmark's first `objects` objects.
fn bench_ids(objects: usize, n: u64) -> Vec<String> {
    let generator = store::bench::Generator::new(&store::bench::BenchConfig::default());
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..n.min(1_000_000))
        .map(|_| {
            // xorshift64*: uniform enough for picking objects.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let r = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
            generator
                .object_id((r % objects.max(1) as u64) as usize)
                .as_str()
                .to_owned()
        })
        .collect()
}

fn loopback_only(url: &str) -> anyhow_lite::Result<()> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// URLs are supported")?;
    let host = rest.split('/').next().unwrap_or_default();
    let host = host
        .rsplit_once(':')
        .map_or(host, |(h, _)| h)
        .trim_matches(['[', ']']);
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(format!("{url}: the load generator only targets loopback addresses").into())
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)] as f64 / 1000.0
}

#[tokio::main]
async fn main() -> anyhow_lite::Result<()> {
    let args = Args::parse();
    let base = match &args.url {
        Some(url) => {
            loopback_only(url)?;
            url.trim_end_matches('/').to_owned()
        }
        None => start_server(&args).await?,
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(30))
        .build()?;
    let ids = Arc::new(match args.bench_ids {
        Some(n) => bench_ids(n, args.requests),
        None => object_ids(&client, &base).await?,
    });
    if ids.is_empty() {
        return Err("the server has no objects to request".into());
    }
    eprintln!(
        "{} objects; {} requests over {} connections to {base}",
        ids.len(),
        args.requests,
        args.connections
    );

    let issued = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.max_seconds);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let (client, ids, issued, base) =
            (client.clone(), ids.clone(), issued.clone(), base.clone());
        let (total, rate) = (args.requests, args.rate);
        tasks.push(tokio::spawn(async move {
            let (mut latencies_us, mut errors) = (Vec::new(), 0u64);
            loop {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= total || Instant::now() >= deadline {
                    break;
                }
                let id = &ids[(n as usize).wrapping_mul(7919) % ids.len()];
                let t = match rate {
                    Some(rate) => {
                        let due = started + Duration::from_secs_f64(n as f64 / rate);
                        tokio::time::sleep_until(due.into()).await;
                        due
                    }
                    None => Instant::now(),
                };
                let ok = match client.get(format!("{base}/objects/{id}")).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                latencies_us.push(t.elapsed().as_micros() as u64);
                errors += u64::from(!ok);
            }
            (latencies_us, errors)
        }));
    }
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (l, e) = task.await?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let mode = args.rate.map_or_else(
        || "closed loop".to_owned(),
        |r| format!("open loop at {r:.0} req/s offered"),
    );
    println!(
        "{mode}, {} connections: requests {} errors {} in {:.2} s: {:.0} req/s; latency ms p50 {:.2} p95 {:.2} p99 {:.2} max {:.2}",
        args.connections,
        latencies.len(),
        errors,
        elapsed,
        latencies.len() as f64 / elapsed,
        percentile(&latencies, 50.0),
        percentile(&latencies, 95.0),
        percentile(&latencies, 99.0),
        percentile(&latencies, 100.0),
    );
    Ok(())
}

/// `Box<dyn Error>` results, so the example needs no error crate.
mod anyhow_lite {
    pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;
}
