//! `tern providers`: the provider community dictionaries this tern uses, built-in and from the
//! operator's providers directory (`/etc/tern/providers`, `[network] providers` of `--config`,
//! `--providers DIR`). `tern providers show NAME` prints every community with its meaning,
//! source and verified flag; `--toml` prints the dictionary file itself, to copy into a
//! providers directory and edit. `tern providers effects tern.toml` prints, per site and
//! upstream, what the providers will do with the announcements (the resolved policy model).
//!
//! Exit: 0 done, 1 a dictionary of a providers directory is broken (listed on stderr, the others
//! are shown), 2 unusable input (no such dictionary, unreadable tern.toml).

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tern_model::provider::dirs;
use tern_model::{Diagnostic, Provider, Providers, Severity};

use crate::exit::Exit;

/// Arguments of `tern providers`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show one dictionary instead of the list.
    #[command(subcommand)]
    pub what: Option<What>,
    /// Also read the providers directory named by `[network] providers` of this tern.toml.
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Print as JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

/// `tern providers show NAME`.
#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// Every community of one dictionary: meaning, source URL, verified flag.
    Show {
        /// Dictionary name (`vultr`), provider name or AS (`AS20473`).
        name: String,
        /// Print the dictionary file itself (to copy into a providers directory).
        #[arg(long, conflicts_with = "json")]
        toml: bool,
    },
    /// Per site and upstream of a tern.toml: what each provider will do with our announcements
    /// (effect, the AS that applies it, the community that asks for it, verified or not).
    Effects {
        /// The network description.
        file: PathBuf,
    },
}

/// Runs `tern providers`.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    if let Some(What::Effects { file }) = &args.what {
        return effects(file, args.json);
    }
    let (providers, diags) = match &args.config {
        Some(file) => {
            let m = tern_model::load(file)?;
            let d: Vec<Diagnostic> = m
                .diagnostics
                .into_iter()
                .filter(|d| d.code.starts_with("provider-"))
                .collect();
            (m.providers, d)
        }
        None => Providers::with_dirs(&dirs::search(None))?,
    };
    for d in &diags {
        eprintln!("{d}");
    }
    let broken = diags.iter().any(|d| d.severity == Severity::Error);
    match args.what {
        None => list(&providers, args.json)?,
        Some(What::Effects { .. }) => {}
        Some(What::Show { name, toml }) => {
            let Some(p) = providers.find(&name) else {
                bail!(
                    "no provider dictionary {name:?}; known: {}",
                    providers.ids()
                );
            };
            if toml {
                print!("{}", p.text);
            } else if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&detail(p)).context("cannot print JSON")?
                );
            } else {
                show(p);
            }
        }
    }
    Ok(if broken { Exit::Findings } else { Exit::Ok })
}

fn verified(p: &Provider) -> usize {
    p.entries.iter().filter(|e| e.verified).count()
}

fn origin_words(p: &Provider) -> String {
    if p.overrides_builtin {
        format!("{} (overrides built-in)", p.origin)
    } else {
        p.origin.to_string()
    }
}

fn regions(p: &Provider) -> String {
    if p.regions.is_empty() {
        "-".to_owned()
    } else {
        p.regions
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn summary(p: &Provider) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "asn": p.asn.0,
        "origin": p.origin,
        "overrides_builtin": p.overrides_builtin,
        "communities": p.entries.len(),
        "verified": verified(p),
        "regions": p.regions,
        "passes_communities": p.passes_communities,
        "passes_communities_verified": p.passes_communities_verified,
        "source": p.source,
    })
}

fn detail(p: &Provider) -> Value {
    let mut v = summary(p);
    v["session"] = json!(p.session);
    v["entries"] = p
        .entries
        .iter()
        .map(|e| {
            json!({
                "communities": e.templates(),
                "action": e.action,
                "target": e.target,
                "peer": e.peer.map(|a| a.0),
                "times": e.times,
                "level": e.level,
                "local_pref": e.level.map(|l| l.local_pref()),
                "region": e.region,
                "effect": e.effect(None).map(|f| f.to_string()),
                "words": e.describe(),
                "meaning": e.meaning,
                "source": e.source,
                "verified": e.verified,
            })
        })
        .collect();
    v
}

fn list(providers: &Providers, json: bool) -> anyhow::Result<()> {
    if json {
        let v: Vec<Value> = providers.iter().map(summary).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&v).context("cannot print JSON")?
        );
        return Ok(());
    }
    println!(
        "{:<9} {:<19} {:<9} {:>11} {:>8}  {:<26} SOURCE",
        "NAME", "PROVIDER", "ASN", "COMMUNITIES", "VERIFIED", "REGIONS"
    );
    for p in providers.iter() {
        println!(
            "{:<9} {:<19} {:<9} {:>11} {:>8}  {:<26} {}",
            p.id,
            p.name,
            p.asn.to_string(),
            p.entries.len(),
            verified(p),
            regions(p),
            origin_words(p)
        );
    }
    println!(
        "A file NAME.toml in {} (or [network] providers, or --providers DIR) adds or overrides a dictionary; `tern providers show NAME --toml` prints one to start from.",
        dirs::SYSTEM_DIR
    );
    Ok(())
}

fn show(p: &Provider) {
    println!("{} ({}), {}: {}", p.name, p.id, p.asn, origin_words(p));
    println!("  source: {}", p.source);
    println!(
        "  passes third-party communities on: {}{}",
        if p.passes_communities { "yes" } else { "no" },
        if p.passes_communities_verified {
            ""
        } else {
            " (unverified)"
        }
    );
    if let Some(s) = &p.session {
        let mut nb: Vec<String> = Vec::new();
        nb.extend(s.neighbor_v4.map(|a| a.to_string()));
        nb.extend(s.neighbor_v6.map(|a| a.to_string()));
        println!(
            "  customer sessions: remote {}{}{} (source: {})",
            s.remote_as,
            s.multihop
                .map(|h| format!(", multihop {h}"))
                .unwrap_or_default(),
            if nb.is_empty() {
                String::new()
            } else {
                format!(", neighbor {}", nb.join(" / "))
            },
            s.source
        );
    }
    println!("  regions: {}", regions(p));
    println!(
        "  {} communities, {} verified:",
        p.entries.len(),
        verified(p)
    );
    for e in &p.entries {
        println!(
            "  {:<28} {:<36} {} [{}]",
            e.templates().join(" or "),
            e.describe(),
            e.meaning,
            if e.verified { "verified" } else { "unverified" }
        );
        println!("      source: {}", e.source);
    }
}

/// `tern providers effects FILE`.
fn effects(file: &std::path::Path, json: bool) -> anyhow::Result<Exit> {
    let m = tern_model::load(file)?;
    if m.has_errors() {
        for d in m
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
        {
            eprintln!("{d}");
        }
        eprintln!(
            "{}: has errors; `tern check` shows all findings",
            file.display()
        );
        return Ok(Exit::Findings);
    }
    if json {
        let sites: Vec<Value> = m
            .network
            .sites
            .iter()
            .map(|s| {
                json!({
                    "site": s.id,
                    "upstreams": s.upstreams.iter().map(|u| json!({
                        "name": u.name,
                        "provider": u.provider,
                        "provider_asn": u.provider_asn.map(|a| a.0),
                        "remote_as": u.remote_as.0,
                        "prepend": u.export.prepend,
                        "effects": u.export.effects,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "file": file, "sites": sites }))
                .context("cannot print JSON")?
        );
        return Ok(Exit::Ok);
    }
    for s in &m.network.sites {
        println!("site {}", s.id);
        for u in &s.upstreams {
            println!(
                "  {} ({}, session {}{}):",
                u.name,
                u.provider.as_deref().unwrap_or("no dictionary"),
                u.remote_as,
                u.provider_asn
                    .map(|a| format!(", enters at {a}"))
                    .unwrap_or_default()
            );
            if u.export.prepend > 0 {
                println!("    we prepend our AS {}x", u.export.prepend);
            }
            if u.export.effects.is_empty() && u.export.prepend == 0 {
                println!("    nothing: announced as it is");
            }
            for e in &u.export.effects {
                println!(
                    "    {:<8} applies {:<36} asked by {:<22} {}{}",
                    e.by.to_string(),
                    e.effect.to_string(),
                    e.community.to_string(),
                    e.meaning,
                    if e.verified { "" } else { " [unverified]" }
                );
            }
        }
    }
    Ok(Exit::Ok)
}
