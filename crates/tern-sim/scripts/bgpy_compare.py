#!/usr/bin/env python3
"""Cross-check and bench tern-sim against bgpy (PyPI bgpy-pkg 13) on one CAIDA graph.

Same graph, same attachments (our AS, 4200000001, a customer of each provider AS given; one
site per provider), plain Gao-Rexford. Agreement: every AS where tern has one site gets the
same site from bgpy; where tern has a tie set, bgpy's choice (its lowest-neighbour-ASN
tie-break) must be inside it. Also bgpy's timings (graph build, one propagation) next to
tern's (tern's bench: `cargo bench -p tern-sim --bench propagate`).

  /opt/tern-venv/bin/python crates/tern-sim/scripts/bgpy_compare.py \
      ../shared/data/asrel/20161101.as-rel.txt.bz2 20473 53667 16509 14061 24940

Needs bgpy-pkg in the interpreter (`bash scripts/setup --bench` installs it into /opt/tern-venv;
by hand: /opt/tern-venv/bin/pip install bgpy-pkg==13.0.13) and a release build of the plain_gr example.
Prints SKIPPED and exits 0 when the data or bgpy is missing.
"""
import bz2
import json
import os
import subprocess
import sys
import tempfile
import time

OUR_AS = 4200000001
PREFIX = "2001:db8::/32"


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    path, providers = sys.argv[1], [int(a) for a in sys.argv[2:]]
    if not os.path.exists(path):
        print(f"SKIPPED: {path} not found")
        return 0
    try:
        from bgpy.as_graphs import CAIDAASGraphConstructor
        from bgpy.shared.enums import Relationships
        from bgpy.simulation_engine import Announcement, SimulationEngine
    except ImportError as e:
        print(f"SKIPPED: bgpy not importable ({e})")
        return 0

    root = os.path.dirname(os.path.abspath(__file__))
    workspace = os.path.abspath(os.path.join(root, "../../.."))
    # tern side.
    t = time.perf_counter()
    out = subprocess.run(
        ["cargo", "run", "-q", "--release", "-p", "tern-sim", "--example", "plain_gr", "--", path]
        + [str(p) for p in providers],
        cwd=workspace, check=True, capture_output=True, text=True,
    )
    sys.stderr.write(out.stderr)
    tern = {}
    for line in out.stdout.splitlines():
        r = json.loads(line)
        tern[r["asn"]] = (r["sites"], r["pick"])

    # bgpy side: its CAIDA constructor reads a plain text file.
    with tempfile.TemporaryDirectory() as d:
        plain = os.path.join(d, "as-rel.txt")
        opener = bz2.open if path.endswith(".bz2") else open
        # bgpy reads serial-2 (four columns): add the source column to serial-1 lines.
        with opener(path, "rt") as f, open(plain, "w") as o:
            for line in f:
                if not line.startswith("#") and line.count("|") == 2:
                    line = line.rstrip("\n") + "|bgp\n"
                o.write(line)
        t = time.perf_counter()
        c = CAIDAASGraphConstructor()
        from pathlib import Path
        info = c._get_as_graph_info(Path(plain))
        graph = c._get_as_graph(info)
        load = time.perf_counter() - t
    engine = SimulationEngine(graph)
    t = time.perf_counter()
    for p in providers:
        ann = Announcement(
            prefix=PREFIX, as_path=(p, OUR_AS), next_hop_asn=OUR_AS, seed_asn=p,
            recv_relationship=Relationships.CUSTOMERS,
        )
        graph.as_dict[p].policy.seed_ann(ann)
    engine._propagate(0, None)
    prop = time.perf_counter() - t
    print(f"bgpy: graph build {load * 1e3:.0f} ms, one propagation {prop * 1e3:.0f} ms")

    untied = untied_same = tied = tied_inside = missing = pick_same = 0
    for as_obj in graph:
        ann = as_obj.policy.local_rib.get(PREFIX)
        if ann is None:
            continue
        site = f"as{ann.as_path[-2]}"
        sites, pick = tern.get(as_obj.asn, ([], None))
        if not sites:
            missing += 1
            continue
        pick_same += pick == site
        if len(sites) == 1:
            untied += 1
            untied_same += sites[0] == site
        else:
            tied += 1
            tied_inside += site in sites
    n = untied + tied + missing
    print(f"ASes with a bgpy route: {n}")
    print(f"  tern untied: {untied}, same site as bgpy: {untied_same} ({100 * untied_same / max(untied, 1):.2f} %)")
    print(f"  tern tied: {tied}, bgpy's choice inside the tie set: {tied_inside} ({100 * tied_inside / max(tied, 1):.2f} %)")
    print(f"  tern pick (lowest neighbour ASN) equal to bgpy's: {pick_same} of {n}")
    print(f"  no tern route: {missing}")
    return 0 if untied_same == untied and tied_inside == tied and missing == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
