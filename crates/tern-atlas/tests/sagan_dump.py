#!/usr/bin/env python3
"""Dumps ripe.atlas.sagan's view of traceroute result files as JSON (used by tests/sagan.rs).

For every record, in file order: prb_id, last_median_rtt, total_hops, destination_ip_responded,
and the minimum packet RTT of the hop that gave last_median_rtt (computed from sagan's hop objects).
With --time N, parses the files N times instead and prints the fastest pass in seconds.
"""
import json
import sys
import time

try:
    from ripe.atlas.sagan import Result
except ImportError:
    sys.stderr.write("ripe.atlas.sagan is missing: pip install ripe.atlas.sagan\n")
    sys.exit(3)


def view(r):
    last_min = None
    for hop in reversed(r.hops):
        if hop.median_rtt:
            last_min = min(p.rtt for p in hop.packets if p.rtt and "late" not in p.raw_data)
            break
    return {
        "prb_id": r.probe_id,
        "last_median_rtt": r.last_median_rtt,
        "last_min_rtt": last_min,
        "total_hops": r.total_hops,
        "destination_ip_responded": r.destination_ip_responded,
    }


def main():
    args = sys.argv[1:]
    passes = 0
    if args and args[0] == "--time":
        passes = int(args[1])
        args = args[2:]
    data = []
    for path in args:
        with open(path) as f:
            data.append(f.read())
    if passes:
        # The fastest pass: the least disturbed by other load on the machine.
        best = None
        for _ in range(passes):
            start = time.perf_counter()
            for text in data:
                # Parse and analyse as tern does: every hop, then the per-probe values.
                for raw in json.loads(text):
                    r = Result.get(raw, on_error=Result.ACTION_IGNORE, on_malformation=Result.ACTION_IGNORE)
                    view(r)
            t = time.perf_counter() - start
            best = t if best is None else min(best, t)
        print(json.dumps({"seconds_per_pass": best}))
        return
    out = []
    for text in data:
        out.append([view(Result.get(raw, on_error=Result.ACTION_IGNORE, on_malformation=Result.ACTION_IGNORE)) for raw in json.loads(text)])
    json.dump(out, sys.stdout)


main()
