//! `tern plan` (being built; see the open issues).

use crate::exit::Exit;

/// Arguments of `tern plan`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `tern plan`.
pub fn run(_args: Args) -> anyhow::Result<Exit> {
    anyhow::bail!("tern plan is not built yet")
}
