//! One module per subcommand; `run` dispatches.

pub(crate) mod alerts_to_csv;
pub(crate) mod classify;
mod database;
pub(crate) mod demo;
pub(crate) mod eda;
pub(crate) mod evaluate;
pub(crate) mod fetch;
mod inspect;
pub(crate) mod schemas;
mod serve;
mod simulate;
mod stream;
pub(crate) mod train;

use std::process::ExitCode;

use crate::cli::Command;

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Demo(args) => demo::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::AlertsToCsv(args) => alerts_to_csv::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Migrate(args) => database::migrate(args),
        Command::Serve(args) => serve::run(args),
        Command::IngestFiles(args) => database::ingest(args),
        Command::BenchStore(args) => database::bench(args),
        Command::Consume(args) => stream::consume(*args),
        Command::Replay(args) => stream::replay(args),
        Command::BenchStream(args) => stream::bench(args),
        Command::Train(args) => train::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Classify(args) => classify::run(args),
        Command::Fetch(args) => fetch::run(args),
        Command::Eda(args) => eda::run(args),
    }
}

/// A multi-threaded runtime for the async commands.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
