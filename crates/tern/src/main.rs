//! `tern`: one tool to build, run and tune your own anycast network.
//!
//! This binary is glue only (see ARCHITECTURE.md): it parses the command line with clap, calls
//! into the library crates and maps the outcome to an exit code. Each subcommand lives in its
//! own module under `cmd/`.

mod cmd;
mod exit;

use clap::{CommandFactory as _, Parser, Subcommand};

use crate::exit::Exit;

/// `tern --version`: the crate version and the commit it was built from (see build.rs).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("TERN_COMMIT"), ")");

/// Build, run and tune your own anycast network.
#[derive(Debug, Parser)]
#[command(name = "tern", version = VERSION, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Providers directory: its NAME.toml dictionaries add to or replace the built-in ones.
    #[arg(long, global = true, value_name = "DIR")]
    providers: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Split an allocation into prefixes, or show a tern.toml's prefix plan.
    Plan(cmd::plan::Args),
    /// Pre-flight checks of a tern.toml: prefix plan, RPKI, IRR, sessions, communities.
    Check(cmd::check::Args),
    /// Write the BIRD 2 configuration of one site or of all sites.
    Render(cmd::render::Args),
    /// Analyse RIPE Atlas measurements: catchment, latency, diffs, reports.
    Atlas(cmd::atlas::Args),
    /// The network in network namespaces on this host: up, measure, fail, heal, apply, demo.
    Lab(cmd::lab::Args),
    /// Run the site daemon: BGP sessions, health checks, control socket, metrics.
    Run(cmd::run::Args),
    /// Control a running site daemon: status, routes, checks, drain, undrain, reload.
    Ctl(cmd::ctl::Args),
    /// Predict the catchment of a tern.toml on an AS graph (CAIDA file or a lab); --compare.
    Simulate(cmd::simulate::Args),
    /// GeoDNS: serve [dns] with each client's best healthy site, build the latency map, explain.
    Dns(cmd::dns::Args),
    /// The provider community dictionaries: list them, or show one's communities.
    Providers(cmd::providers::Args),
    /// What route collectors saw of the prefixes (MRT), and whether each intent took effect.
    Observe(cmd::observe::Args),
    /// Route objects and ROAs from the model; the diff against today's registries; submit.
    Publish(cmd::publish::Args),
    /// Print shell completions (bash, zsh, fish) for tern.
    Completions(cmd::completions::Args),
    /// Print the man page tern(1), or write every page with --out DIR.
    Man(cmd::completions::ManArgs),
}

/// Rust ignores SIGPIPE, so `println!` into a closed pipe (`tern lab status | head`) panics.
/// A command-line tool should end quietly instead, as `ls | head` does: restore the default
/// action. Not for the daemon (`tern run`): a control client that hangs up must never kill it,
/// so there SIGPIPE stays ignored and a closed socket is an error value.
#[allow(unsafe_code)]
fn restore_default_sigpipe() {
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE and no Rust code relies on SIGPIPE being ignored.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Some(dir) = cli.providers.clone() {
        tern_model::provider::dirs::use_directory(dir);
    }
    if !matches!(cli.command, Command::Run(_)) {
        restore_default_sigpipe();
    }
    let result = match cli.command {
        Command::Plan(a) => cmd::plan::run(a),
        Command::Check(a) => cmd::check::run(a),
        Command::Render(a) => cmd::render::run(a),
        Command::Atlas(a) => cmd::atlas::run(a),
        Command::Lab(a) => cmd::lab::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Ctl(a) => cmd::ctl::run(a),
        Command::Simulate(a) => cmd::simulate::run(a),
        Command::Dns(a) => cmd::dns::run(a),
        Command::Providers(a) => cmd::providers::run(a),
        Command::Observe(a) => cmd::observe::run(a),
        Command::Publish(a) => cmd::publish::run(a),
        Command::Completions(a) => cmd::completions::run(a, Cli::command()),
        Command::Man(a) => cmd::completions::man(a, Cli::command()),
    };
    match result {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            Exit::Unusable.into()
        }
    }
}

/// The error and its causes joined by ": ", each said once. A library error whose message
/// already ends with its source's (`cannot read F: No such file or directory (os error 2)`)
/// would otherwise print that source twice, as `{:#}` does.
fn error_chain(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}
