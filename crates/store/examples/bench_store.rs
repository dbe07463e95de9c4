//! Runs the store benchmark: `cargo run --release -p store --example bench_store -- [objects]
//! [memory]`. Postgres at `DATABASE_URL` (migrated here; use an empty database).

use store::bench::{BenchConfig, run};
use store::{MemoryStore, PgConfig, PgStore, StateStore};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let objects = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(50_000);
    let config = BenchConfig {
        objects,
        ..BenchConfig::default()
    };
    let store: Box<dyn StateStore> = if args.next().as_deref() == Some("memory") {
        Box::new(MemoryStore::new())
    } else {
        let pg = PgStore::connect(&PgConfig::from_env()).await?;
        pg.migrate().await?;
        Box::new(pg)
    };
    println!("{}", run(store.as_ref(), &config).await?);
    Ok(())
}
