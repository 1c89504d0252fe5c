//! `tern publish tern.toml`: route/route6 objects and ROAs for every announced prefix, as RPSL,
//! a Krill delta, the RIPE NCC RPKI API's JSON and a table; the diff against today's VRPs and
//! IRR objects; submission to the RIPE Database REST API (its `dry-run` unless `--commit`) and
//! the RIPE NCC RPKI management API (read only unless `--commit`). The library part is
//! `tern_observe::publish`; this file is the printing and the HTTP (ureq).
//!
//! Keys never come from the command line: `TERN_RIPE_DB_KEY` (`KEYID:SECRET`, HTTP Basic) or
//! `--ripe-db-key-file`, `TERN_RPKI_API_KEY` or `--rpki-key-file` (files must not be readable by
//! group or others). Neither key is printed or logged.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use tern_observe::publish::{self, Diff, Objects, Options};
use tern_rpki::IrrDb;

use crate::exit::Exit;

/// RIPE Database key variable.
pub const RIPE_DB_KEY_ENV: &str = "TERN_RIPE_DB_KEY";
/// RPKI management API key variable.
pub const RPKI_KEY_ENV: &str = "TERN_RPKI_API_KEY";

/// Where to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// RIPE Database REST API: route/route6 create (POST) and modify (PUT).
    RipeDb,
    /// RIPE NCC RPKI management API: ROAs.
    Rpki,
}

/// What to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The diff and every form below.
    Text,
    /// RPSL route/route6 objects.
    Rpsl,
    /// A Krill `roas update --delta` file.
    Krill,
    /// The RIPE NCC RPKI management API publish body.
    RipeRpki,
    /// A plain prefix / origin / maxLength table.
    Table,
}

/// Arguments of `tern publish`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The network description.
    pub file: PathBuf,
    /// Today's VRPs as JSON (rpki-client, Routinator json/jsonext).
    #[arg(long, value_name = "FILE", conflicts_with = "rtr")]
    pub vrps: Option<PathBuf>,
    /// Today's VRPs from an RTR cache, HOST:PORT.
    #[arg(long, value_name = "ADDR")]
    pub rtr: Option<std::net::SocketAddr>,
    /// Today's route/route6 objects: RPSL (an IRR dump or whois output).
    #[arg(long, value_name = "FILE")]
    pub irr: Option<PathBuf>,
    /// The maintainer of the route objects (`mnt-by:`).
    #[arg(long, value_name = "MNT", default_value = "CHANGE-ME-MNT")]
    pub mnt_by: String,
    /// The IRR source.
    #[arg(long, default_value = "RIPE")]
    pub source: String,
    /// What to print.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print every object, the diff and the renderings as JSON.
    #[arg(long)]
    pub json: bool,
    /// Send to a registry (repeatable). Without --commit: the RIPE Database validates with its
    /// dry-run parameter and stores nothing; the RPKI API is only read.
    #[arg(long, value_enum, value_name = "TARGET")]
    pub submit: Vec<Target>,
    /// Really change the registries.
    #[arg(long, requires = "submit")]
    pub commit: bool,
    /// RIPE Database REST API base URL.
    #[arg(long, default_value = "https://rest.db.ripe.net", value_name = "URL")]
    pub ripe_db_url: String,
    /// RIPE NCC RPKI management API base URL.
    #[arg(
        long,
        default_value = "https://my.ripe.net/api/rpki",
        value_name = "URL"
    )]
    pub rpki_api_url: String,
    /// File holding the RIPE Database API key (`KEYID:SECRET`), instead of TERN_RIPE_DB_KEY.
    #[arg(long, value_name = "FILE")]
    pub ripe_db_key_file: Option<PathBuf>,
    /// File holding the RPKI management API key, instead of TERN_RPKI_API_KEY.
    #[arg(long, value_name = "FILE")]
    pub rpki_key_file: Option<PathBuf>,
}

/// Runs `tern publish`.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    let m = tern_model::load(&args.file)?;
    if m.has_errors() {
        for d in m
            .diagnostics
            .iter()
            .filter(|d| d.severity == tern_model::Severity::Error)
        {
            eprintln!("{d}");
        }
        eprintln!("not publishing: {} has errors", args.file.display());
        return Ok(Exit::Findings);
    }
    let vrps = super::observe::load_vrps(args.vrps.as_deref(), args.rtr)?;
    let irr = match &args.irr {
        Some(p) => Some(IrrDb::from_rpsl_file(p)?),
        None => None,
    };
    let opts = Options {
        mnt_by: args.mnt_by.clone(),
        source: args.source.clone(),
    };
    let objs = publish::objects(&m.network, &opts);
    let diff = publish::diff(&m.network, &objs, vrps.as_ref(), irr.as_ref());
    if args.json {
        let v = serde_json::json!({
            "objects": objs,
            "diff": diff,
            "rpsl": objs.rpsl(),
            "krill_delta": publish::krill_delta(&diff, &objs),
            "ripe_rpki": publish::ripe_rpki_json(&diff, &objs),
            "table": objs.table(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        match args.format {
            Format::Text => print_text(&objs, &diff),
            Format::Rpsl => print!("{}", objs.rpsl()),
            Format::Krill => print!("{}", publish::krill_delta(&diff, &objs)),
            Format::RipeRpki => println!(
                "{}",
                serde_json::to_string_pretty(&publish::ripe_rpki_json(&diff, &objs))?
            ),
            Format::Table => print!("{}", objs.table()),
        }
    }
    if args.mnt_by == "CHANGE-ME-MNT" && args.submit.contains(&Target::RipeDb) {
        bail!("say whose maintainer the route objects are: --mnt-by YOUR-MNT");
    }
    let mut refused = false;
    for t in &args.submit {
        refused |= match t {
            Target::RipeDb => submit_ripe_db(&args, &objs, &diff)?,
            Target::Rpki => submit_rpki(&args, &objs, &diff)?,
        };
    }
    Ok(if !diff.not_valid_after.is_empty() || refused {
        Exit::Findings
    } else {
        Exit::Ok
    })
}

fn print_text(objs: &Objects, d: &Diff) {
    println!(
        "# {} announced prefix(es), origin {}",
        objs.roas.len(),
        objs.asn
    );
    if d.compared_vrps {
        println!(
            "# ROAs: {} to add, {} to remove, {} already there",
            d.roas_add.len(),
            d.roas_remove.len(),
            d.roas_kept.len()
        );
        for r in &d.roas_add {
            println!("+ ROA {}", r.krill());
        }
        for r in &d.roas_remove {
            println!("- ROA {}", r.krill());
        }
        for t in &d.transitions {
            println!(
                "  {} origin {}: {} today, {} after",
                t.prefix, t.origin, t.today, t.after
            );
        }
        for t in &d.not_valid_after {
            println!(
                "! not valid after the change: {} origin {} ({})",
                t.prefix, t.origin, t.after
            );
        }
    } else {
        println!("# ROAs: no --vrps/--rtr given, so every ROA is listed as to add");
    }
    if d.compared_irr {
        println!(
            "# route objects: {} to add, {} to modify, {} to remove, {} already there",
            d.routes_add.len(),
            d.routes_modify.len(),
            d.routes_remove.len(),
            d.routes_kept
        );
        for r in &d.routes_add {
            println!("+ {} {} origin {}", r.class(), r.prefix, r.origin);
        }
        for r in &d.routes_modify {
            println!(
                "~ {} {} origin {} (mnt-by {})",
                r.class(),
                r.prefix,
                r.origin,
                r.mnt_by
            );
        }
        for r in &d.routes_remove {
            println!("- {r}");
        }
    } else {
        println!("# route objects: no --irr given, so every object is listed as to add");
    }
    for c in &d.conflicts {
        println!("! conflict: {}: {}", c.object, c.why);
    }
    println!("\n## RPSL\n\n{}", objs.rpsl());
    println!("## Krill\n\n{}", publish::krill_delta(d, objs));
    println!(
        "## RIPE NCC RPKI management API (POST /roas/publish)\n\n{}\n",
        serde_json::to_string_pretty(&publish::ripe_rpki_json(d, objs)).unwrap_or_default()
    );
    println!("## For the LIR\n\n{}", objs.table());
}

/// A key from a file (refused when group or others can read it) or an environment variable.
fn key(file: Option<&Path>, env: &str, what: &str) -> anyhow::Result<String> {
    let k = match file {
        Some(p) => {
            use std::os::unix::fs::PermissionsExt as _;
            let meta = std::fs::metadata(p).with_context(|| format!("{what} key file"))?;
            if meta.permissions().mode() & 0o077 != 0 {
                bail!(
                    "{what} key file {} is readable by group or others: chmod 600 it",
                    p.display()
                );
            }
            std::fs::read_to_string(p)
                .with_context(|| format!("{what} key file {}", p.display()))?
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        }
        None => std::env::var(env).unwrap_or_default().trim().to_owned(),
    };
    if k.is_empty() {
        bail!("no {what} key: set {env} or give a key file");
    }
    Ok(k)
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(std::time::Duration::from_secs(30))
        .build()
}

/// Status and body of an answer, errors included (never the request headers).
fn answer(r: Result<ureq::Response, ureq::Error>) -> anyhow::Result<(u16, String)> {
    match r {
        Ok(resp) => Ok((resp.status(), resp.into_string().unwrap_or_default())),
        Err(ureq::Error::Status(code, resp)) => Ok((code, resp.into_string().unwrap_or_default())),
        Err(ureq::Error::Transport(t)) => bail!("cannot reach the registry: {t}"),
    }
}

/// The error messages of a RIPE Database answer (`errormessages.errormessage[].text`).
fn ripe_messages(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v["errormessages"]["errormessage"].as_array().map(|a| {
                a.iter()
                    .map(|m| {
                        format!(
                            "{}: {}",
                            m["severity"].as_str().unwrap_or("?"),
                            m["text"].as_str().unwrap_or("")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        })
        .unwrap_or_default()
}

fn submit_ripe_db(args: &Args, objs: &Objects, d: &Diff) -> anyhow::Result<bool> {
    let key = key(
        args.ripe_db_key_file.as_deref(),
        RIPE_DB_KEY_ENV,
        "RIPE Database",
    )?;
    let auth = format!("Basic {}", base64(key.as_bytes()));
    let agent = agent();
    let base = args.ripe_db_url.trim_end_matches('/');
    let dry = if args.commit { "" } else { "?dry-run" };
    let (create, modify): (Vec<_>, Vec<_>) = if d.compared_irr {
        (
            d.routes_add.iter().collect(),
            d.routes_modify.iter().collect(),
        )
    } else {
        (objs.routes.iter().collect(), Vec::new())
    };
    let mut refused = false;
    for (r, verb) in create
        .into_iter()
        .map(|r| (r, "create"))
        .chain(modify.into_iter().map(|r| (r, "modify")))
    {
        let body = r.ripe_json().to_string();
        let req = if verb == "create" {
            agent.post(&format!("{base}/ripe/{}{dry}", r.class()))
        } else {
            agent.put(&format!("{base}/ripe/{}/{}{dry}", r.class(), r.key()))
        };
        let (code, text) = answer(
            req.set("Authorization", &auth)
                .set("Content-Type", "application/json")
                .set("Accept", "application/json")
                .send_string(&body),
        )?;
        let ok = (200..300).contains(&code);
        refused |= !ok;
        println!(
            "RIPE Database {verb} {} {}{}: {} {}",
            r.class(),
            r.key(),
            if args.commit { "" } else { " (dry-run)" },
            if ok { "accepted" } else { "REFUSED" },
            format!("HTTP {code} {}", ripe_messages(&text)).trim()
        );
    }
    Ok(refused)
}

fn submit_rpki(args: &Args, objs: &Objects, d: &Diff) -> anyhow::Result<bool> {
    let key = key(
        args.rpki_key_file.as_deref(),
        RPKI_KEY_ENV,
        "RPKI management API",
    )?;
    let agent = agent();
    let base = args.rpki_api_url.trim_end_matches('/');
    if !args.commit {
        let (code, text) = answer(
            agent
                .get(&format!("{base}/roas"))
                .set("ncc-api-authorization", &key)
                .set("Accept", "application/json")
                .call(),
        )?;
        let n = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.as_array().map(Vec::len));
        println!(
            "RPKI management API (dry-run: read only): GET /roas: HTTP {code}, {} ROA(s) there now; --commit sends the publish body above",
            n.map(|n| n.to_string()).unwrap_or_else(|| "?".into())
        );
        return Ok(!(200..300).contains(&code));
    }
    let body = publish::ripe_rpki_json(d, objs).to_string();
    let (code, text) = answer(
        agent
            .post(&format!("{base}/roas/publish"))
            .set("ncc-api-authorization", &key)
            .set("Content-Type", "application/json")
            .send_string(&body),
    )?;
    let ok = (200..300).contains(&code);
    println!(
        "RPKI management API POST /roas/publish: {} HTTP {code} {}",
        if ok { "accepted" } else { "REFUSED" },
        text.chars().take(300).collect::<String>()
    );
    Ok(!ok)
}

/// Standard base64 (RFC 4648 §4) for the Basic authorization header.
fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                s.push(char::from(T[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(i.as_bytes()), o);
        }
    }
}
