//! What a running lab consists of, kept on disk so that `down`, `status`, `measure`, `fail`,
//! `heal` and `apply` work from any process.
//!
//! One directory per lab, `<root>/<tag>/` (root default [`DEFAULT_ROOT`]), holding
//! `state.json`, the BIRD configs, sockets, pid files and logs. Every namespace of the lab is
//! named `tern-<tag>-<node>`, so `down` also finds namespaces an interrupted `up` created but had
//! not yet recorded, and never touches anyone else's.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use tern_types::SiteId;

use crate::error::LabError;
use crate::topology::Topology;

/// Where lab state lives unless `--state-dir` says otherwise.
pub const DEFAULT_ROOT: &str = "/run/tern-lab";
/// Longest tag: keeps `tern-<tag>-<node>` readable.
pub const MAX_TAG: usize = 12;

/// What kind of process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProcKind {
    /// A BIRD daemon.
    Bird,
    /// The lab's "which site" endpoints at a site (BIRD stand-in).
    Whoami,
    /// The site daemon `tern run` (the default site speaker).
    TernRun,
    /// A site's small service, whose health check gates the site's anycast prefixes.
    Service,
}

/// One process the lab started.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Proc {
    /// Node name.
    pub node: String,
    /// What it is.
    pub kind: ProcKind,
    /// Process id, once known.
    pub pid: Option<u32>,
}

/// A lab on disk.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LabState {
    /// The tag (`a1b2c3`).
    pub tag: String,
    /// The lab's directory.
    pub dir: PathBuf,
    /// The tern.toml it was built from (last applied).
    pub config: PathBuf,
    /// Unix seconds of `up`.
    pub created: u64,
    /// Whether link delays are applied (netem available).
    pub netem: bool,
    /// What runs at the sites.
    pub speaker: SpeakerKind,
    /// Namespaces created, in order.
    pub namespaces: Vec<String>,
    /// Processes started.
    pub processes: Vec<Proc>,
    /// The design (set before anything is created).
    pub topology: Option<Topology>,
    /// `up` finished.
    pub complete: bool,
    /// Sites currently failed with `tern lab fail`.
    pub failed: Vec<SiteId>,
    /// The `tern` executable that started the lab (runs `tern run`, the services, `tern ctl`).
    #[serde(default)]
    pub exe: Option<PathBuf>,
    /// TCP-MD5 key (RFC 2385) of the sessions between `tern run` and the provider routers.
    #[serde(default)]
    pub md5: Option<String>,
    /// The process running `up` (while `complete` is false: still building if it is alive,
    /// interrupted or killed if not).
    #[serde(default)]
    pub up_pid: Option<u32>,
}

impl LabState {
    /// A new, empty state for `tag` under `root`.
    pub fn new(root: &Path, tag: &str, config: &Path, speaker: SpeakerKind) -> LabState {
        LabState {
            tag: tag.to_owned(),
            dir: root.join(tag),
            config: config.to_path_buf(),
            created: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            netem: false,
            speaker,
            namespaces: Vec::new(),
            processes: Vec::new(),
            topology: None,
            complete: false,
            failed: Vec::new(),
            exe: None,
            md5: None,
            up_pid: None,
        }
    }

    /// The namespace name of a node.
    pub fn ns(&self, node: &str) -> String {
        format!("{}{node}", ns_prefix(&self.tag))
    }

    /// The BIRD control socket of a node.
    pub fn socket(&self, node: &str) -> PathBuf {
        self.dir.join(format!("{node}.ctl"))
    }

    /// The design; an error if `up` did not get that far.
    pub fn topo(&self) -> Result<&Topology, LabError> {
        self.topology.as_ref().ok_or_else(|| LabError::State {
            path: self.dir.clone(),
            message: "the lab has no topology (up failed early)".into(),
        })
    }

    /// Writes `state.json` (atomically).
    pub fn save(&self) -> Result<(), LabError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| LabError::io(&self.dir, e))?;
        let path = self.dir.join("state.json");
        let tmp = self.dir.join("state.json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(|e| LabError::State {
            path: path.clone(),
            message: e.to_string(),
        })?;
        std::fs::write(&tmp, text).map_err(|e| LabError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| LabError::io(&path, e))
    }

    /// Reads `<dir>/state.json`.
    pub fn load(dir: &Path) -> Result<LabState, LabError> {
        let path = dir.join("state.json");
        let text = std::fs::read_to_string(&path).map_err(|e| LabError::io(&path, e))?;
        serde_json::from_str(&text).map_err(|e| LabError::State {
            path,
            message: e.to_string(),
        })
    }
}

/// The prefix of every namespace of a lab.
pub fn ns_prefix(tag: &str) -> String {
    format!("tern-{tag}-")
}

/// Is this a usable tag (1–12 lowercase letters and digits)?
pub fn valid_tag(tag: &str) -> bool {
    (1..=MAX_TAG).contains(&tag.len())
        && tag
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A fresh tag from the clock and the process id.
pub fn new_tag() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in nanos
        .to_le_bytes()
        .iter()
        .chain(std::process::id().to_le_bytes().iter())
    {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    format!("{:06x}", h & 0xff_ffff)
}

/// A fresh TCP-MD5 key for a lab's site sessions, from the clock and the pid (a
/// lab secret only: it keeps the sessions honest about MD5, it protects nothing).
pub fn new_key() -> String {
    let a = new_tag();
    std::thread::sleep(std::time::Duration::from_micros(3));
    let b = new_tag();
    format!("tern{a}lab{b}")
}

/// Tags of the labs under `root`.
pub fn labs(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().join("state.json").exists())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The lab a command means: `tag` when given, else the only lab under `root`.
pub fn find(root: &Path, tag: Option<&str>) -> Result<LabState, LabError> {
    let tag = match tag {
        Some(t) => t.to_owned(),
        None => {
            let all = labs(root);
            match all.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(LabError::NotFound(format!(
                        "no lab is running (nothing under {})",
                        root.display()
                    )));
                }
                many => {
                    return Err(LabError::NotFound(format!(
                        "several labs are running ({}); say which with --tag",
                        many.join(", ")
                    )));
                }
            }
        }
    };
    if !valid_tag(&tag) {
        return Err(LabError::NotFound(format!("{tag:?} is not a lab tag")));
    }
    LabState::load(&root.join(&tag))
}

/// The site speaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpeakerKind {
    /// BIRD 2 with tern-bird's config, plus the lab's whoami endpoints.
    Bird,
    /// The site daemon `tern run`, with a small health-checked service.
    TernRun,
}

impl FromStr for SpeakerKind {
    type Err = LabError;

    fn from_str(s: &str) -> Result<Self, LabError> {
        match s {
            "bird" => Ok(SpeakerKind::Bird),
            "tern-run" => Ok(SpeakerKind::TernRun),
            _ => Err(LabError::Design(format!(
                "site speaker {s:?}: use tern-run or bird"
            ))),
        }
    }
}

impl SpeakerKind {
    /// For status output.
    pub fn describe(self) -> &'static str {
        match self {
            SpeakerKind::Bird => "BIRD 2 stand-in (tern-bird config) + lab whoami endpoints",
            SpeakerKind::TernRun => {
                "tern run (http check of the site's service every 1 s, rise 2, fall 2)"
            }
        }
    }

    /// Does the site run a BIRD the lab can ask with `birdc`?
    pub fn has_bird(self) -> bool {
        self == SpeakerKind::Bird
    }
}
