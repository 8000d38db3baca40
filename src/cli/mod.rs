/*!
Command-line interface (minimal stand-in on the `gen` branch, to exercise `generate`; the real
`cli` module replaces it).
*/

pub mod generate;

/// auditlens command line.
#[derive(Debug, clap::Parser)]
#[command(name = "auditlens", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Write a synthetic audit-log export.
    Generate(generate::Args),
}
