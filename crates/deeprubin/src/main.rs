//! `deeprubin`: one command line for the whole broker.

mod cli;
mod commands;
mod telemetry;

use clap::Parser;

fn main() -> std::process::ExitCode {
    telemetry::init();
    let cli = cli::Cli::parse();
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
