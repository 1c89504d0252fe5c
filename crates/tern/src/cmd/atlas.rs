//! `tern atlas` (being built; see the open issues).

use crate::exit::Exit;

/// Arguments of `tern atlas`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `tern atlas`.
pub fn run(_args: Args) -> anyhow::Result<Exit> {
    anyhow::bail!("tern atlas is not built yet")
}
