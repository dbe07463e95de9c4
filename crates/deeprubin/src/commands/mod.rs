//! One module per subcommand; `run` dispatches.

mod inspect;
pub(crate) mod schemas;

use std::process::ExitCode;

use crate::cli::Command;

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Inspect(args) => inspect::run(args),
    }
}
