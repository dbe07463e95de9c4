//! The command-line surface: one subcommand per job.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "deeprubin",
    version,
    about = "DeepRubin-Explorer: a real-time alert broker for ZTF and Rubin"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode alert files (or folders of *.avro) and print one JSON line per alert.
    Inspect(InspectArgs),
}

/// Where Rubin writer schemas come from (Confluent-framed messages name only a schema id).
#[derive(Debug, Clone, Args)]
pub struct SchemaArgs {
    /// A directory laid out like lsst-alert-packet's schema tree (<major>/<minor>/lsst.v*.avsc).
    #[arg(long, env = "DEEPRUBIN_SCHEMA_DIR")]
    pub schema_dir: Option<PathBuf>,
    /// A Confluent-compatible schema registry (tried before --schema-dir when both are given).
    #[arg(long, env = "DEEPRUBIN_SCHEMA_REGISTRY")]
    pub schema_registry: Option<String>,
    /// Timeout of one registry request, in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub schema_registry_timeout: f64,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub schemas: SchemaArgs,
    /// Keep going after a file fails; report every failure at the end.
    #[arg(long)]
    pub continue_on_error: bool,
    /// Keep measurements as the packet states them (NaN fluxes, placeholder times) instead of
    /// refusing the packet.
    #[arg(long)]
    pub permissive: bool,
    /// Alert files or directories (searched recursively for *.avro).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}
