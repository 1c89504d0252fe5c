//! `tern check` (being built; see the open issues).

use crate::exit::Exit;

/// Arguments of `tern check`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `tern check`.
pub fn run(_args: Args) -> anyhow::Result<Exit> {
    anyhow::bail!("tern check is not built yet")
}
