//! One module per subcommand; `run` dispatches.

mod database;
mod inspect;
pub(crate) mod schemas;
mod serve;
mod simulate;
mod stream;

use std::process::ExitCode;

use crate::cli::Command;

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Inspect(args) => inspect::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Migrate(args) => database::migrate(args),
        Command::Serve(args) => serve::run(args),
        Command::IngestFiles(args) => database::ingest(args),
        Command::BenchStore(args) => database::bench(args),
        Command::Consume(args) => stream::consume(*args),
        Command::Replay(args) => stream::replay(args),
    }
}

/// A multi-threaded runtime for the async commands.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
