//! Runs the store benchmarks.
//!
//! Small run (loads N new objects through `upsert_alerts`; use an empty database):
//!   cargo run --release -p store --example bench_store -- [--objects 50000] [--memory]
//! At scale (issue 3): fills `--database-url` to `--scale` objects with COPY the first time
//! (created and migrated here, kept afterwards), then measures light_curve latency, size and
//! alerts/s written while the store is that full:
//!   cargo run --release -p store --example bench_store -- --scale 1000000 \
//!     --database-url postgres://postgres@127.0.0.1:5432/deeprubin_bench_1m

use std::str::FromStr;

use clap::Parser;
use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;
use store::bench::{BenchConfig, run};
use store::bench_scale::{self, ScaleConfig};
use store::{MemoryStore, PgConfig, PgStore, StateStore};

#[derive(Debug, Parser)]
struct Args {
    /// Postgres database (default: DATABASE_URL, else the local default).
    #[arg(long)]
    database_url: Option<String>,
    /// Small run: objects loaded through `upsert_alerts`.
    #[arg(long, default_value_t = 50_000)]
    objects: usize,
    /// Small run on the in-process store.
    #[arg(long)]
    memory: bool,
    /// Scale run: objects the store must hold (loaded with COPY when missing).
    #[arg(long)]
    scale: Option<usize>,
    /// Scale run: alerts written per write phase.
    #[arg(long, default_value_t = 50_000)]
    write_alerts: usize,
    /// Concurrent writers (scale run).
    #[arg(long, default_value_t = 4)]
    writers: usize,
    #[arg(long, default_value_t = 500)]
    batch_size: usize,
    /// Scale run: `light_curve` calls timed.
    #[arg(long, default_value_t = 5_000)]
    light_curve_samples: usize,
    /// Scale run: load no classifications.
    #[arg(long)]
    no_classifications: bool,
    /// Pool size.
    #[arg(long, default_value_t = 10)]
    pool: u32,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut pg = PgConfig::from_env();
    if let Some(url) = &args.database_url {
        pg.database_url = url.clone();
    }
    pg.max_connections = args.pool.max(args.writers as u32 + 1);
    pg.statement_timeout = std::time::Duration::from_secs(3600);
    if let Some(objects) = args.scale {
        create_database(&pg.database_url).await?;
        let store = PgStore::connect(&pg).await?;
        store.migrate().await?;
        let config = ScaleConfig {
            objects,
            write_alerts: args.write_alerts,
            batch_size: args.batch_size,
            writers: args.writers,
            light_curve_samples: args.light_curve_samples,
            classify: !args.no_classifications,
            ..ScaleConfig::default()
        };
        println!("{}", bench_scale::run(&store, &config).await?);
        println!(
            "database kept: {} (recreate: dropdb it, then run this command again)",
            store::redact(&pg.database_url)
        );
        return Ok(());
    }
    let config = BenchConfig {
        objects: args.objects,
        batch_size: args.batch_size,
        ..BenchConfig::default()
    };
    let store: Box<dyn StateStore> = if args.memory {
        Box::new(MemoryStore::new())
    } else {
        let store = PgStore::connect(&pg).await?;
        store.migrate().await?;
        Box::new(store)
    };
    println!("{}", run(store.as_ref(), &config).await?);
    Ok(())
}

/// Creates the database named by `url` when it does not exist (connecting to `postgres`).
async fn create_database(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let options = PgConnectOptions::from_str(url)?;
    let Some(name) = options.get_database().map(str::to_owned) else {
        return Ok(());
    };
    let mut admin = options.database("postgres").connect().await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {quoted}")))
            .execute(&mut admin)
            .await?;
        eprintln!("created database {name}");
    }
    Ok(())
}
