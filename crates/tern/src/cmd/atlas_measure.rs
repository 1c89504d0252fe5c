//! `tern atlas measure` (next step).

use crate::exit::Exit;

/// Arguments of `tern atlas measure`.
#[derive(Debug, clap::Args)]
pub struct MeasureArgs {}

/// Runs `tern atlas measure`.
pub fn run(_a: MeasureArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not yet")
}
