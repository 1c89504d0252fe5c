//! `tern render` (being built; see the open issues).

use crate::exit::Exit;

/// Arguments of `tern render`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `tern render`.
pub fn run(_args: Args) -> anyhow::Result<Exit> {
    anyhow::bail!("tern render is not built yet")
}
