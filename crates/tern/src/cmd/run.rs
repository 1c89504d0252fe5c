//! `tern run tern.toml --site NAME`: the site daemon (tern-edge). This module only parses the
//! arguments, sets up logging and the runtime, and maps the outcome to an exit code.

use std::path::PathBuf;

use anyhow::Context as _;
use tern_edge::daemon::{RunOptions, run as run_daemon};

use crate::exit::Exit;

/// Arguments of `tern run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// tern.toml.
    pub config: PathBuf,
    /// The site this host is.
    #[arg(long)]
    pub site: String,
    /// Control socket (default: `ctl_socket` of `[site.NAME.edge]`, else /run/tern/NAME.sock).
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// Log filter (RUST_LOG syntax), e.g. "info" or "tern_edge=debug".
    #[arg(long, default_value = "info")]
    pub log: String,
}

/// Run until SIGTERM/SIGINT: exit 0 after withdrawing; 2 when the daemon cannot start.
pub fn run(a: Args) -> anyhow::Result<Exit> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&a.log))
        .context("bad --log filter")?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let opts = RunOptions {
        config: a.config,
        site: a.site,
        ctl_socket: a.socket,
        signals: true,
    };
    match rt.block_on(run_daemon(opts)) {
        Ok(()) => Ok(Exit::Ok),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(Exit::Unusable)
        }
    }
}
