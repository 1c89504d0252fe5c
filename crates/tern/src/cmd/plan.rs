//! `tern plan`: split an address block (`tern plan 2001:db8::/44 --split 48`), or show which
//! prefix of a tern.toml is used for what and what is still free (`tern plan tern.toml`).

use std::path::Path;

use tern_model::Role;
use tern_model::plan::{split, usage};
use tern_types::Prefix;

use crate::exit::Exit;

/// Most subnets `--split` prints before summarising the rest (unless `--all`): all the /56s of a
/// /44, while a /32 into /64s (four billion) stays a count.
const MAX_SPLIT_LINES: u128 = 4096;

/// Arguments of `tern plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A prefix to split (with --split), or a tern.toml whose plan to show.
    pub target: String,
    /// Split the prefix into subnets of this length (e.g. 48).
    #[arg(long, value_name = "LEN")]
    pub split: Option<u8>,
    /// With --split: list every subnet, however many (default: the first 4096 and a count).
    #[arg(long, requires = "split")]
    pub all: bool,
}

/// Runs `tern plan`.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    if let Ok(prefix) = args.target.parse::<Prefix>() {
        let Some(len) = args.split else {
            anyhow::bail!("to split {prefix}, say into what: tern plan {prefix} --split <LEN>");
        };
        return split_cmd(prefix, len, args.all);
    }
    if args.split.is_some() && !Path::new(&args.target).exists() {
        // Most likely a mistyped prefix: say why it did not parse.
        let e = args.target.parse::<Prefix>().err();
        anyhow::bail!("{}", e.map(|e| e.to_string()).unwrap_or_default());
    }
    show_file(Path::new(&args.target))
}

fn split_cmd(prefix: Prefix, len: u8, all: bool) -> anyhow::Result<Exit> {
    let (count, it) = split(prefix, len)?;
    println!("{prefix} split into /{len}: {count} prefixes");
    for (i, p) in it.enumerate() {
        if !all && i as u128 >= MAX_SPLIT_LINES {
            println!("... and {} more", count - MAX_SPLIT_LINES);
            eprintln!("note: listed the first {MAX_SPLIT_LINES}; --all lists every one");
            break;
        }
        println!("{p}");
    }
    Ok(Exit::Ok)
}

fn role(r: &Role) -> String {
    match r {
        Role::Anycast => "anycast (all sites)".into(),
        Role::Regional(s) => format!(
            "anycast ({})",
            s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ),
        Role::Unicast(s) => format!("unicast ({s})"),
    }
}

fn show_file(path: &Path) -> anyhow::Result<Exit> {
    let m = tern_model::load(path)?;
    let n = &m.network;
    let (uses, outside) = usage(n);
    println!(
        "{} ({}): {} allocation(s), {} planned prefix(es)",
        n.name.as_deref().unwrap_or("network"),
        n.asn,
        n.allocations.len(),
        n.prefixes.len()
    );
    for u in &uses {
        println!("\n{}", u.allocation);
        for p in &u.used {
            println!(
                "  {:<22} {:<28} {}",
                p.prefix.to_string(),
                role(&p.role),
                p.description.as_deref().unwrap_or("")
            );
        }
        if u.free.is_empty() {
            println!("  (no free space)");
        }
        for f in &u.free {
            println!("  {:<22} free", f.to_string());
        }
    }
    if !outside.is_empty() {
        println!("\noutside every allocation:");
        for p in outside {
            println!("  {:<22} {}", p.prefix.to_string(), role(&p.role));
        }
    }
    if m.has_errors() {
        eprintln!(
            "\n{} has errors; run `tern check {}`",
            path.display(),
            path.display()
        );
        return Ok(Exit::Findings);
    }
    Ok(Exit::Ok)
}
