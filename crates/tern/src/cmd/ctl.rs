//! `tern ctl`: talk to a running `tern run` over its Unix socket (status, routes, checks,
//! drain, undrain, reload), printing text or, with `--json`, the daemon's JSON report (the
//! reply's fields, without its `reply` tag; a refusal as `{"reply":"error","kind":…,"message":…}`).

use std::path::PathBuf;

use anyhow::Context as _;
use tern_edge::ctl::proto::{Request, Response};
use tern_edge::ctl::{render, request};
use tern_types::Prefix;

use crate::exit::Exit;

/// Arguments of `tern ctl`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Control socket of the daemon.
    #[arg(long, global = true)]
    pub socket: Option<PathBuf>,
    /// Site name: its socket is taken from --config, or /run/tern/SITE.sock.
    #[arg(long, global = true)]
    pub site: Option<String>,
    /// tern.toml, to find the site's configured ctl_socket.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Print the daemon's JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: CtlCommand,
}

/// `tern ctl` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CtlCommand {
    /// Sessions with state and uptime, each prefix's state and why.
    Status,
    /// What is announced to which upstream, with attributes.
    Routes,
    /// Latest health check results.
    Checks,
    /// Drain one prefix, or every prefix of the site but its unicast ones (which keep the box
    /// reachable; `--all` drains them too).
    Drain {
        /// Prefix (default: every prefix but the unicast ones).
        prefix: Option<Prefix>,
        /// Without a prefix: the unicast prefixes too.
        #[arg(long, conflicts_with = "prefix")]
        all: bool,
    },
    /// Undo a drain by `tern ctl drain` (a drain file stays in force).
    Undrain {
        /// Prefix (default: every prefix but the unicast ones).
        prefix: Option<Prefix>,
        /// Without a prefix: the unicast prefixes too.
        #[arg(long, conflicts_with = "prefix")]
        all: bool,
    },
    /// Reload tern.toml (like SIGHUP), printing what changed or why it was refused.
    Reload,
}

fn socket(a: &Args) -> anyhow::Result<PathBuf> {
    if let Some(s) = &a.socket {
        return Ok(s.clone());
    }
    let Some(site) = &a.site else {
        anyhow::bail!("say which daemon: --socket PATH, or --site NAME [--config tern.toml]");
    };
    if let Some(cfg) = &a.config {
        let model = tern_model::load(cfg)?;
        let s = model
            .network
            .site(&site.parse()?)
            .with_context(|| format!("no site {site} in {}", cfg.display()))?;
        return Ok(s.edge.ctl_socket.clone());
    }
    Ok(tern_edge::daemon::default_ctl_socket(site))
}

/// Send the command, print the answer. Exit 0 on success, 1 when the daemon refused, 2 when it
/// cannot be reached.
pub fn run(a: Args) -> anyhow::Result<Exit> {
    let path = socket(&a)?;
    let req = match &a.command {
        CtlCommand::Status => Request::Status,
        CtlCommand::Routes => Request::Routes,
        CtlCommand::Checks => Request::Checks,
        CtlCommand::Drain { prefix, all } => Request::Drain {
            prefix: *prefix,
            all: *all,
        },
        CtlCommand::Undrain { prefix, all } => Request::Undrain {
            prefix: *prefix,
            all: *all,
        },
        CtlCommand::Reload => Request::Reload,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let resp = rt.block_on(request(&path, &req))?;
    if let Some(e) = resp.error() {
        if a.json {
            println!("{}", serde_json::to_string_pretty(&resp)?);
        }
        eprintln!("error: {}", e.message);
        return Ok(Exit::Findings);
    }
    if a.json {
        let json = match &resp {
            Response::Status(r) => serde_json::to_string_pretty(r)?,
            Response::Routes(r) => serde_json::to_string_pretty(r)?,
            Response::Checks(r) => serde_json::to_string_pretty(r)?,
            Response::Done(r) => serde_json::to_string_pretty(r)?,
            other => serde_json::to_string_pretty(other)?,
        };
        println!("{json}");
        return Ok(Exit::Ok);
    }
    let text = match &resp {
        Response::Status(r) => render::status(r),
        Response::Routes(r) => render::routes(r),
        Response::Checks(r) => render::checks(r),
        Response::Done(r) => render::action(r),
        other => anyhow::bail!(
            "unexpected `{}` reply from {}",
            other.kind(),
            path.display()
        ),
    };
    print!("{text}");
    Ok(Exit::Ok)
}
