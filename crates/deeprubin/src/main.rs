//! `deeprubin`: one command line for the whole broker.

mod cli;
mod commands;
mod telemetry;

use clap::Parser;

fn main() -> std::process::ExitCode {
    telemetry::init();
    if !classifier_core::allocator::keep_freed_tensor_memory() {
        tracing::debug!("the allocator keeps its own thresholds for freed memory");
    }
    let cli = cli::Cli::parse();
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
