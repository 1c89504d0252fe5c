//! The `tern lab demo` scenario: up, measure, fail the busiest site and time the failover,
//! heal it and time the way back (and say why it waits), apply a traffic-engineering change by
//! reload (and show its diff), measure, compare the catchments with tern-atlas's diff, down.
//!
//! The scenario reports what happens as [`Event`]s; printing them is the binary's job. Every
//! measurement is written as RIPE Atlas files and read back with tern-atlas, so the catchment
//! change at the end is `tern atlas diff`'s, on the lab's own output. A raised [`Interrupt`]
//! (SIGINT, SIGTERM) stops the scenario at the next step, and the lab is removed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tern_types::SiteId;

use crate::atlas;
use crate::error::LabError;
use crate::interrupt::Interrupt;
use crate::measure::{self, Measurement};
use crate::orchestrate::{self, Applied, DownReport, UpOptions};
use crate::siterun;
use crate::state::{LabState, SpeakerKind};
use crate::watch;

/// The lab example compiled into the binary (the demo's network).
pub const NETWORK: &str = include_str!("../../../examples/lab/tern.toml");
/// The same network with a traffic-engineering change (ewr prepends 3x), applied by reload.
pub const NETWORK_TE: &str = include_str!("../../../examples/lab/tern-prepend.toml");
/// How often the failover watchers query.
pub const WATCH_EVERY: Duration = Duration::from_millis(10);

/// How to run the demo.
#[derive(Clone, Debug)]
pub struct Options {
    /// Lab state root.
    pub root: PathBuf,
    /// The lab's tag (fresh when `None`).
    pub tag: Option<String>,
    /// The `tern` executable.
    pub exe: PathBuf,
    /// What runs at the sites.
    pub speaker: SpeakerKind,
    /// Keep the RIPE Atlas files of each measurement here (else in a temporary directory).
    pub out: Option<PathBuf>,
    /// Keep the lab running at the end.
    pub keep: bool,
    /// Raised by SIGINT/SIGTERM.
    pub interrupt: Interrupt,
}

/// What the demo does, step by step.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A numbered step begins.
    Step(u32, String),
    /// The lab is up.
    Up(&'a LabState, Duration),
    /// A measurement.
    Measured(&'a Measurement),
    /// The site to fail and the probes it has.
    Failing {
        /// The site.
        site: &'a SiteId,
        /// Its probes.
        probes: &'a [String],
    },
    /// Every probe of the failed site moved.
    Failover {
        /// From `tern lab fail` to the last probe's first answer from elsewhere.
        took: Duration,
        /// What made it move.
        how: &'static str,
        /// (probe, from, to).
        moved: Vec<(String, String, String)>,
    },
    /// The catchment is back after heal.
    Healed {
        /// From `tern lab heal` to the last probe's first answer from its old site.
        took: Duration,
        /// Why it took that long (the damping hold-down), if the speaker has one.
        why: Option<String>,
    },
    /// The reload diff of the traffic-engineering change.
    Applied(&'a [Applied]),
    /// The catchment change (tern-atlas's diff): (probe, before, after); empty: none moved.
    Moved(Vec<(String, String, String)>),
    /// The lab was left running.
    Kept(&'a str),
    /// The lab was removed.
    Down(&'a DownReport),
    /// The demo ended.
    Finished(Duration),
}

/// Runs the demo. On an error or an interrupt the lab is removed (unless `keep`), and the
/// error carries what was removed.
pub fn run(opts: &Options, on: &mut dyn FnMut(Event<'_>)) -> Result<(), LabError> {
    let t0 = Instant::now();
    let work = std::env::temp_dir().join(format!("tern-lab-demo-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| LabError::io(&work, e))?;
    let result = run_in(opts, &work, t0, on);
    let _ = std::fs::remove_dir_all(&work);
    result?;
    on(Event::Finished(t0.elapsed()));
    Ok(())
}

fn run_in(
    opts: &Options,
    work: &Path,
    t0: Instant,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<(), LabError> {
    let base = work.join("tern.toml");
    let te = work.join("tern-prepend.toml");
    std::fs::write(&base, NETWORK).map_err(|e| LabError::io(&base, e))?;
    std::fs::write(&te, NETWORK_TE).map_err(|e| LabError::io(&te, e))?;
    on(Event::Step(1, "up: examples/lab/tern.toml".into()));
    let st = orchestrate::up(&UpOptions {
        config: base,
        root: opts.root.clone(),
        tag: opts.tag.clone(),
        exe: opts.exe.clone(),
        bird: PathBuf::from("bird"),
        speaker: opts.speaker,
        converge: orchestrate::DEFAULT_CONVERGE,
        interrupt: opts.interrupt.clone(),
    })?;
    // Removes the lab on every way out, a panic included (e.g. stdout closed under a pager).
    let mut guard = DownOnDrop(Some(st.clone()));
    on(Event::Up(&st, t0.elapsed()));
    let atlas_dir = opts.out.clone().unwrap_or_else(|| work.join("atlas"));
    let result = steps(st.clone(), &te, &atlas_dir, opts, on);
    guard.0 = None;
    if opts.keep {
        on(Event::Kept(&st.tag));
        return result;
    }
    if result.is_ok() {
        on(Event::Step(6, "down".into()));
    }
    let r = orchestrate::down(&st);
    match (result, opts.interrupt.signal()) {
        // After a signal, whatever failed failed because of it (see orchestrate::up).
        (Err(_), Some(signal)) => Err(LabError::Interrupted {
            signal,
            namespaces: r.namespaces.len(),
            processes: r.processes,
        }),
        (Err(e), None) => Err(e),
        (Ok(()), _) => {
            on(Event::Down(&r));
            Ok(())
        }
    }
}

/// Runs `down` on drop unless disarmed.
struct DownOnDrop(Option<LabState>);

impl Drop for DownOnDrop {
    fn drop(&mut self) {
        if let Some(st) = self.0.take() {
            let _ = orchestrate::down(&st);
        }
    }
}

fn steps(
    mut st: LabState,
    te: &Path,
    atlas_dir: &Path,
    opts: &Options,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<(), LabError> {
    let stop = &opts.interrupt;
    orchestrate::prerequisites(orchestrate::MEASURE_PROGRAMS)?;
    let mopts = measure::Options {
        exe: opts.exe.clone(),
        pings: 3,
        traceroute: true,
        http: true,
    };
    let save = |name: &str, m: &Measurement, st: &LabState| -> Result<PathBuf, LabError> {
        let dir = atlas_dir.join(name);
        let rtt = if st.netem {
            atlas::Rtt::Measured
        } else {
            atlas::Rtt::PlusModel
        };
        atlas::write(&dir, m, st.topo()?, rtt)?;
        Ok(dir)
    };
    on(Event::Step(2, "measure".into()));
    stop.check()?;
    let before = measure::measure(&st, &mopts)?;
    on(Event::Measured(&before));
    let before_dir = save("1-before", &before, &st)?;
    let base = sites_of(&before);
    let victim =
        pick_victim(&base).ok_or_else(|| LabError::NotFound("no probe reached any site".into()))?;
    let moving: Vec<String> = base
        .iter()
        .filter(|(_, s)| s.as_ref() == Some(&victim))
        .map(|(p, _)| p.clone())
        .collect();

    stop.check()?;
    on(Event::Step(3, format!("fail site {victim}")));
    on(Event::Failing {
        site: &victim,
        probes: &moving,
    });
    let w = watch::start(&st, &opts.exe, WATCH_EVERY)?;
    std::thread::sleep(Duration::from_millis(300));
    let start = measure::unix_now();
    orchestrate::fail(&mut st, victim.as_str())?;
    let (took, after) = w.until(start, Duration::from_secs(60), stop, &|p, s| {
        !moving.iter().any(|m| m == p) || s.is_some_and(|s| s != victim.as_str())
    })?;
    drop(w);
    let withdrawn = start + took.as_secs_f64();
    let how = match st.speaker {
        SpeakerKind::TernRun => {
            "service stopped -> tern run's http check fails twice (1 s apart) -> withdrawal; target 5 s"
        }
        SpeakerKind::Bird => "BGP withdrawal, no health checks: BIRD stand-in",
    };
    let moved = moving
        .iter()
        .map(|p| {
            let to = after.get(p).cloned().flatten().unwrap_or_default();
            (p.clone(), victim.to_string(), to)
        })
        .collect();
    on(Event::Failover { took, how, moved });
    stop.check()?;
    let failed = measure::measure(&st, &mopts)?;
    save("2-failed", &failed, &st)?;

    stop.check()?;
    on(Event::Step(4, format!("heal site {victim}")));
    let w = watch::start(&st, &opts.exe, WATCH_EVERY)?;
    std::thread::sleep(Duration::from_millis(300));
    let start = measure::unix_now();
    orchestrate::heal(&mut st, victim.as_str())?;
    let (took, _) = w.until(start, Duration::from_secs(60), stop, &|p, s| {
        base.get(p)
            .is_some_and(|b| b.as_ref().map(SiteId::as_str) == s)
    })?;
    drop(w);
    let why = (st.speaker == SpeakerKind::TernRun).then(|| {
        let hold = siterun::HOLD_DOWN;
        let left = (hold.as_secs_f64() - (start - withdrawn)).max(0.0);
        format!(
            "tern run's flap damping: after a flap the site may announce again only {} s after \
             the withdrawal (hold_down = \"{}s\" on its [[service]]; doubling per flap up to \
             600 s; \"0s\" turns it off), {left:.1} s of it were left at heal, and after {} good \
             checks {} apart",
            hold.as_secs(),
            hold.as_secs(),
            siterun::CHECK_RISE,
            siterun::CHECK_INTERVAL
        )
    });
    on(Event::Healed { took, why });

    stop.check()?;
    on(Event::Step(
        5,
        "apply a traffic-engineering change: examples/lab/tern-prepend.toml".into(),
    ));
    let applied = orchestrate::apply(&mut st, te)?;
    on(Event::Applied(&applied));
    // Let the catchment settle on what a full measurement then shows.
    std::thread::sleep(Duration::from_millis(500));
    stop.check()?;
    let te_m = measure::measure(&st, &mopts)?;
    on(Event::Measured(&te_m));
    let te_dir = save("3-prepend", &te_m, &st)?;
    on(Event::Moved(catchment_change(&before_dir, &te_dir, &te_m)?));
    Ok(())
}

/// Probe → site from a measurement.
fn sites_of(m: &Measurement) -> BTreeMap<String, Option<SiteId>> {
    m.results
        .iter()
        .map(|r| (r.probe.clone(), r.site.clone()))
        .collect()
}

/// The site most probes reach (the lowest name on a tie).
pub fn pick_victim(c: &BTreeMap<String, Option<SiteId>>) -> Option<SiteId> {
    let mut n: BTreeMap<&SiteId, usize> = BTreeMap::new();
    for s in c.values().flatten() {
        *n.entry(s).or_default() += 1;
    }
    n.into_iter()
        .max_by_key(|(s, k)| (*k, std::cmp::Reverse(*s)))
        .map(|(s, _)| s.clone())
}

/// The probes whose site changed between two measurements' RIPE Atlas files, as tern-atlas
/// sees them (`tern atlas diff`): (probe name, before, after).
pub fn catchment_change(
    before: &Path,
    after: &Path,
    m: &Measurement,
) -> Result<Vec<(String, String, String)>, LabError> {
    let analysis = |dir: &Path| -> Result<tern_atlas::Analysis, LabError> {
        let atlas_err = |e: tern_atlas::AtlasError| LabError::Design(e.to_string());
        let runs = ["traceroute.json", "dns.json"]
            .iter()
            .map(|f| tern_atlas::read_results(&dir.join(f)).map_err(atlas_err))
            .collect::<Result<Vec<_>, _>>()?;
        let probes = tern_atlas::read_probes(&dir.join("probes.json")).map_err(atlas_err)?;
        let hints = tern_atlas::SiteHints::load(&dir.join("sites.json")).map_err(atlas_err)?;
        Ok(tern_atlas::analyse(&runs, &probes, Some(&hints)))
    };
    let d = tern_atlas::diff::diff(&analysis(before)?, &analysis(after)?);
    let name: BTreeMap<u32, &str> = m
        .results
        .iter()
        .map(|r| (r.prb_id, r.probe.as_str()))
        .collect();
    Ok(d.probes
        .iter()
        .filter(|c| c.site_before != c.site_after)
        .map(|c| {
            (
                name.get(&c.prb_id)
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| format!("probe {}", c.prb_id)),
                c.site_before.clone(),
                c.site_after.clone(),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_victim_is_the_busiest_site() {
        let c: BTreeMap<String, Option<SiteId>> = [
            ("p1", Some("ams")),
            ("p2", Some("nrt")),
            ("p3", Some("nrt")),
            ("p4", None),
        ]
        .into_iter()
        .map(|(p, s)| (p.to_owned(), s.map(|s| s.parse().unwrap())))
        .collect();
        assert_eq!(pick_victim(&c).as_ref().map(SiteId::as_str), Some("nrt"));
        assert_eq!(pick_victim(&BTreeMap::new()), None);
    }
}
