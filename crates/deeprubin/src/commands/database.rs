//! `deeprubin migrate`, `ingest-files` and `bench-store`: the store's operator commands.

use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use store::bench::BenchConfig;
use store::{MemoryStore, PgConfig, PgStore, StateStore};

use super::{runtime, schemas};
use crate::cli::{BenchStoreArgs, DatabaseArgs, IngestArgs};

pub fn pg_config(args: &DatabaseArgs) -> PgConfig {
    PgConfig {
        database_url: args.database_url.clone(),
        max_connections: args.pool_size,
        statement_timeout: std::time::Duration::from_millis(args.statement_timeout_ms),
        ..PgConfig::default()
    }
}

pub fn migrate(args: DatabaseArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = PgStore::connect(&pg_config(&args)).await?;
        store.migrate().await?;
        println!(
            "migrations applied to {}",
            store::redact(&args.database_url)
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub fn ingest(args: IngestArgs) -> anyhow::Result<ExitCode> {
    let decoder = schemas::decoder(&args.schemas)?;
    runtime()?.block_on(async {
        let store = PgStore::connect(&pg_config(&args.database)).await?;
        store.ping().await?;
        let bar = ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} files, {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let mut progress = |p: &store::IngestProgress| {
            bar.set_length(p.files_total as u64);
            bar.set_position(p.files_done as u64);
            bar.set_message(format!("{} alerts", p.alerts));
        };
        let summary = store::ingest_files(&store, &args.paths, &decoder, &mut progress).await?;
        bar.finish_and_clear();
        for failure in &summary.failures {
            eprintln!("error: {}: {}", failure.path.display(), failure.reason);
        }
        println!(
            "alerts={} new_detections={} duplicates={} errors={}",
            summary.alerts, summary.new_detections, summary.duplicates, summary.errors
        );
        Ok(if summary.errors == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}

pub fn bench(args: BenchStoreArgs) -> anyhow::Result<ExitCode> {
    let config = BenchConfig {
        objects: args.objects,
        points_per_object: args.points,
        batch_size: args.batch_size,
        ..BenchConfig::default()
    };
    runtime()?.block_on(async {
        let store: Box<dyn StateStore> = if args.memory {
            Box::new(MemoryStore::new())
        } else {
            let pg = PgStore::connect(&pg_config(&args.database)).await?;
            pg.migrate()
                .await
                .context("migrating the benchmark database")?;
            Box::new(pg)
        };
        println!("{}", store::bench::run(store.as_ref(), &config).await?);
        Ok(ExitCode::SUCCESS)
    })
}
