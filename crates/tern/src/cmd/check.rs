//! `tern check`: pre-flight report of a tern.toml. Prints every problem at once (file:line,
//! severity, message, fix): schema and prefix plan, bogons, RPKI against a VRP file, IRR
//! against an RPSL file, sessions and secrets, communities.
//!
//! Exit: 0 clean or warnings only, 1 errors found, 2 unusable input (a file that does not parse).

use std::path::PathBuf;

use anyhow::Context as _;
use tern_model::preflight::{Inputs, preflight};
use tern_model::{Diagnostic, Severity};
use tern_rpki::{IrrDb, VrpSet};

use crate::exit::Exit;

/// Arguments of `tern check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The network description.
    pub file: PathBuf,
    /// Validated ROA payloads as JSON (rpki-client, Routinator json/jsonext) for RPKI checks.
    #[arg(long, value_name = "FILE")]
    pub vrps: Option<PathBuf>,
    /// Route objects in RPSL (whois output or an IRRd dump) for IRR checks.
    #[arg(long, value_name = "FILE")]
    pub irr: Option<PathBuf>,
    /// Print the findings as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `tern check`.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    let model = tern_model::load(&args.file)?;
    let vrps = match &args.vrps {
        Some(p) => Some(VrpSet::from_json_file(p)?),
        None => None,
    };
    let irr = match &args.irr {
        Some(p) => Some(IrrDb::from_rpsl_file(p)?),
        None => None,
    };
    let mut diags: Vec<Diagnostic> = model.diagnostics.clone();
    diags.extend(preflight(
        &model.network,
        Inputs {
            vrps: vrps.as_ref().zip(args.vrps.as_deref()),
            irr: irr.as_ref().zip(args.irr.as_deref()),
            now: None,
        },
    ));
    diags.sort_by(|a, b| a.location.cmp(&b.location));
    let count = |s| tern_model::diag::count(&diags, s);
    let (errors, warnings, infos) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    if args.json {
        let v = serde_json::json!({
            "file": args.file,
            "errors": errors,
            "warnings": warnings,
            "infos": infos,
            "diagnostics": diags,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&v).context("cannot print JSON")?
        );
    } else {
        for d in &diags {
            println!("{d}");
        }
        let n = &model.network;
        println!(
            "{}: {} site(s), {} upstream session(s), {} announced prefix(es){}{}: {errors} error(s), {warnings} warning(s), {infos} info",
            args.file.display(),
            n.sites.len(),
            n.sites.iter().map(|s| s.upstreams.len()).sum::<usize>(),
            n.announced().len(),
            if vrps.is_some() { ", RPKI checked" } else { "" },
            if irr.is_some() { ", IRR checked" } else { "" },
        );
    }
    Ok(if errors > 0 { Exit::Findings } else { Exit::Ok })
}
