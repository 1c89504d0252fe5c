//! `tern atlas measure`: create a RIPE Atlas measurement, wait for it with a progress bar,
//! download its results and the metadata of the probes that took part.
//!
//! Requests and answers are built and parsed by `tern_atlas::api` (sans-IO); this module only
//! does the blocking HTTP (ureq) and the file writing. The key comes from `RIPE_ATLAS_KEY`.

use std::io::{IsTerminal, Read, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tern_atlas::api::{self, Definition, Kind, Selection, Selector};

use crate::exit::Exit;

/// Environment variable holding the API key.
pub const KEY_ENV: &str = "RIPE_ATLAS_KEY";

/// Default API base URL.
pub const DEFAULT_API: &str = "https://atlas.ripe.net";

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum MeasureKind {
    Traceroute,
    Ping,
    Dns,
}

/// Arguments of `tern atlas measure`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("from").args(["from_area", "from_country", "from_asn", "from_prefix", "from_probes", "from_msm"])))]
pub struct MeasureArgs {
    /// Target address (the anycast address to measure).
    #[arg(long)]
    target: String,
    /// Measurement type.
    #[arg(long = "type", value_enum, default_value_t = MeasureKind::Traceroute)]
    kind: MeasureKind,
    /// Address family; default: that of --target (4 when it is a name).
    #[arg(long, value_parser = ["4", "6"])]
    af: Option<String>,
    /// Traceroute protocol (ICMP, UDP, TCP) or DNS transport (UDP, TCP).
    #[arg(long)]
    protocol: Option<String>,
    /// Packets per probe (ping, traceroute).
    #[arg(long)]
    packets: Option<u32>,
    /// DNS query name (class CHAOS, type TXT), e.g. id.server or hostname.bind.
    #[arg(long, default_value = "id.server")]
    chaos_name: String,
    /// DNS: also ask for NSID (RFC 5001).
    #[arg(long)]
    nsid: bool,
    /// Probes from an area: WW, West, North-Central, South-Central, North-East, South-East.
    #[arg(long)]
    from_area: Option<String>,
    /// Probes from a country (ISO code).
    #[arg(long)]
    from_country: Option<String>,
    /// Probes from an AS.
    #[arg(long)]
    from_asn: Option<u32>,
    /// Probes from a prefix.
    #[arg(long)]
    from_prefix: Option<String>,
    /// These probe ids (comma-separated).
    #[arg(long, value_delimiter = ',')]
    from_probes: Vec<u32>,
    /// The same probes as an earlier measurement (before/after comparisons).
    #[arg(long)]
    from_msm: Option<u64>,
    /// Number of probes requested.
    #[arg(long, default_value_t = 100)]
    probes: u32,
    /// Probe tags to require (repeatable), e.g. system-ipv6-works.
    #[arg(long = "include-tag")]
    include_tags: Vec<String>,
    /// Probe tags to exclude (repeatable).
    #[arg(long = "exclude-tag")]
    exclude_tags: Vec<String>,
    /// Description shown in RIPE Atlas.
    #[arg(long, default_value = "tern atlas measure")]
    description: String,
    /// API base URL.
    #[arg(long = "api", default_value = DEFAULT_API)]
    api: String,
    /// Directory for results-<id>.json and probes-<id>.json.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// Seconds between status polls.
    #[arg(long, default_value_t = 15.0)]
    poll: f64,
    /// Give up waiting after this many seconds and download what is there (exit 1).
    #[arg(long, default_value_t = 1200.0)]
    timeout: f64,
}

fn definition(a: &MeasureArgs) -> Definition {
    let af = match a.af.as_deref() {
        Some("6") => 6,
        Some(_) => 4,
        None => match a.target.parse::<IpAddr>() {
            Ok(IpAddr::V6(_)) => 6,
            _ => 4,
        },
    };
    let kind = match a.kind {
        MeasureKind::Traceroute => Kind::Traceroute,
        MeasureKind::Ping => Kind::Ping,
        MeasureKind::Dns => Kind::Dns,
    };
    Definition {
        kind,
        af,
        target: a.target.clone(),
        description: a.description.clone(),
        protocol: a
            .protocol
            .clone()
            .map(|p| p.to_ascii_uppercase())
            .or(match kind {
                Kind::Traceroute => Some("ICMP".into()),
                Kind::Dns => Some("UDP".into()),
                _ => None,
            }),
        packets: a.packets,
        query: (kind == Kind::Dns).then(|| ("CHAOS".into(), "TXT".into(), a.chaos_name.clone())),
        nsid: a.nsid,
    }
}

fn selection(a: &MeasureArgs) -> Selection {
    let selector = if let Some(v) = &a.from_country {
        Selector::Country(v.clone())
    } else if let Some(v) = a.from_asn {
        Selector::Asn(v)
    } else if let Some(v) = &a.from_prefix {
        Selector::Prefix(v.clone())
    } else if !a.from_probes.is_empty() {
        Selector::Probes(a.from_probes.clone())
    } else if let Some(v) = a.from_msm {
        Selector::Msm(v)
    } else {
        Selector::Area(a.from_area.clone().unwrap_or_else(|| "WW".into()))
    };
    Selection {
        selector,
        requested: a.probes,
        include_tags: a.include_tags.clone(),
        exclude_tags: a.exclude_tags.clone(),
    }
}

/// A blocking client for one API base URL.
struct Client {
    agent: ureq::Agent,
    base: String,
    key: String,
}

impl Client {
    fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_string()
        } else {
            format!("{}{}", self.base.trim_end_matches('/'), path_or_url)
        }
    }

    fn answer(what: &str, r: Result<ureq::Response, ureq::Error>) -> anyhow::Result<String> {
        match r {
            Ok(resp) => {
                let mut body = String::new();
                resp.into_reader()
                    .read_to_string(&mut body)
                    .with_context(|| format!("{what}: reading the answer"))?;
                Ok(body)
            }
            Err(ureq::Error::Status(code, resp)) => {
                let body = resp.into_string().unwrap_or_default();
                Err(api::refusal(code, &body)).context(what.to_string())
            }
            Err(e) => Err(anyhow::Error::new(e).context(what.to_string())),
        }
    }

    fn get(&self, what: &str, path: &str) -> anyhow::Result<String> {
        let r = self
            .agent
            .get(&self.url(path))
            .set("Authorization", &format!("Key {}", self.key))
            .set("Accept", "application/json")
            .call();
        Self::answer(what, r)
    }

    fn post(&self, what: &str, path: &str, body: &serde_json::Value) -> anyhow::Result<String> {
        let r = self
            .agent
            .post(&self.url(path))
            .set("Authorization", &format!("Key {}", self.key))
            .set("Content-Type", "application/json")
            .send_string(&body.to_string());
        Self::answer(what, r)
    }
}

/// Draws the progress line on stderr (a bar on a terminal, plain lines otherwise).
fn progress(id: u64, s: &api::Status, elapsed: Duration) {
    let (done, total) = (s.participants.unwrap_or(0), s.requested.unwrap_or(0));
    let width = 30usize;
    let filled = if total > 0 {
        (done as usize * width / total as usize).min(width)
    } else {
        0
    };
    let line = format!(
        "msm {id}: [{}{}] {done}/{total} probes, {} ({}s)",
        "#".repeat(filled),
        ".".repeat(width - filled),
        s.name,
        elapsed.as_secs()
    );
    let mut err = std::io::stderr();
    if err.is_terminal() {
        let _ = write!(err, "\r{line}\x1b[K");
    } else {
        let _ = writeln!(err, "{line}");
    }
    let _ = err.flush();
}

/// Runs `tern atlas measure`.
pub fn run(a: MeasureArgs) -> anyhow::Result<Exit> {
    let Some(key) = std::env::var(KEY_ENV).ok().filter(|k| !k.trim().is_empty()) else {
        bail!("no API key: set {KEY_ENV} (create one at https://atlas.ripe.net/keys/)");
    };
    if !(a.poll > 0.0 && a.poll.is_finite() && a.timeout >= 0.0 && a.timeout.is_finite()) {
        bail!("--poll must be > 0 and --timeout >= 0 seconds");
    }
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let client = Client {
        agent: ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(20))
            .timeout(Duration::from_secs(300))
            .build(),
        base: a.api.clone(),
        key: key.trim().to_string(),
    };
    let body = api::create_body(&[definition(&a)], &selection(&a), true);
    let created = client.post("creating the measurement", api::CREATE_PATH, &body)?;
    let ids = api::parse_created(&created)?;
    let mut exit = Exit::Ok;
    for id in ids {
        eprintln!("created measurement {id}");
        let start = Instant::now();
        let status = loop {
            let s = api::parse_status(&client.get("measurement status", &api::status_path(id))?)?;
            progress(id, &s, start.elapsed());
            if s.is_final() {
                break s;
            }
            if start.elapsed().as_secs_f64() >= a.timeout {
                break s;
            }
            std::thread::sleep(Duration::from_secs_f64(a.poll.min(a.timeout)));
        };
        if std::io::stderr().is_terminal() {
            eprintln!();
        }
        if status.is_failure() {
            eprintln!("error: measurement {id} ended: {}", status.name);
            exit = Exit::Findings;
            continue;
        }
        if !status.is_final() {
            eprintln!(
                "warning: measurement {id} still {} after {}s; downloading the results so far",
                status.name, a.timeout
            );
            exit = Exit::Findings;
        }
        let results = client.get("downloading results", &api::results_path(id))?;
        let results_file = a.out.join(format!("results-{id}.json"));
        std::fs::write(&results_file, &results)
            .with_context(|| format!("cannot write {}", results_file.display()))?;
        let parsed = tern_atlas::parse_results(&results, &results_file.display().to_string())?;
        let mut ids: Vec<u32> = parsed.records.iter().map(|r| r.prb_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut probes = Vec::new();
        for path in api::probes_paths(&ids) {
            let mut next = Some(path);
            while let Some(p) = next {
                let (items, n) =
                    api::parse_probe_page(&client.get("downloading probe metadata", &p)?)?;
                probes.extend(items);
                next = n;
            }
        }
        let probes_file = a.out.join(format!("probes-{id}.json"));
        let doc = serde_json::json!({"count": probes.len(), "next": null, "previous": null, "results": probes});
        std::fs::write(&probes_file, serde_json::to_string(&doc)?)
            .with_context(|| format!("cannot write {}", probes_file.display()))?;
        println!(
            "measurement {id}: {} results from {} probes ({} skipped) → {}; metadata of {} probes → {}",
            parsed.records.len(),
            ids.len(),
            parsed.skipped.count,
            results_file.display(),
            probes.len(),
            probes_file.display()
        );
        println!(
            "next: tern atlas analyse {} --probes {}",
            results_file.display(),
            probes_file.display()
        );
    }
    Ok(exit)
}
