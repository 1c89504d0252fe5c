#!/usr/bin/env bash
# GeoDNS benchmark (issue 13 §7): dnsperf against tern dns, NSD, Knot and gdnsd serving the
# same zone on loopback, one server at a time, in one run. Not run by CI.
#
#   bash crates/tern-geodns/benches/dnsperf.sh [SECONDS]     (default 8 s per measurement)
#
# Needs: Debian dnsperf nsd knot gdnsd python3; a release build of tern (built if missing).
# Per server and workload it measures: the most queries per second dnsperf gets answered
# (10 outstanding queries, one client thread), p50/p99 latency at a fixed 5000 qps (from
# dnsperf -v per-query lines), and the server's peak RSS. Workloads:
#   static: A and AAAA of a static name (all four servers);
#   geo:    A of a GeoDNS name with ECS 198.51.100.0/24, answered by measured latency (tern)
#           or by gdnsd's geoip plugin with the same network → datacenter data (`nets`).
# Every server gets one UDP worker thread; client and server share this host's cores, so the
# numbers are ratios on one machine, not absolute capacity. Prints a Markdown table.
set -euo pipefail

SECS=${1:-8}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
W=$(mktemp -d /tmp/tern-dnsperf.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT

TERN=${TERN:-"$ROOT/target/release/tern"}
[ -x "$TERN" ] || (cd "$ROOT" && cargo build --release -p tern)
for t in dnsperf nsd knotd gdnsd python3; do
    command -v "$t" >/dev/null || { echo "missing $t (apt-get install dnsperf nsd knot gdnsd)"; exit 2; }
done

# ---- the zone, once, for everybody -------------------------------------------------------
cat >"$W/example.net.zone" <<'EOF'
$ORIGIN example.net.
$TTL 3600
@       IN SOA ns1.example.net. hostmaster.example.net. 1 3600 600 604800 60
@       IN NS  ns1.example.net.
ns1     IN AAAA 2001:db8::53
static  IN A    192.0.2.80
static  IN AAAA 2001:db8::80
EOF

# ---- tern: the same static records, www bound to "best", map with the geo data ------------
mkdir -p "$W/tern"
cat >"$W/tern/tern.toml" <<'EOF'
[network]
asn = 65001
allocations = ["2001:db8::/32", "192.0.2.0/24"]
lab = true
[[prefix]]
prefix = "2001:db8::/48"
role = "anycast"
[site.ams]
lat = 52.37
lon = 4.90
router_id = "192.0.2.1"
[site.nyc]
lat = 40.71
lon = -74.01
router_id = "192.0.2.2"
[dns]
zone = "example.net"
ns = ["ns1.example.net"]
map = "map.json"
listen = ["127.0.0.1:5301"]
[dns.site.ams]
v4 = "127.0.0.1"
[dns.site.nyc]
v4 = "127.0.0.2"
[dns.health]
path = "/"
port = 5380
[[dns.record]]
name = "ns1"
type = "AAAA"
value = "2001:db8::53"
[[dns.record]]
name = "static"
type = "A"
value = "192.0.2.80"
[[dns.record]]
name = "static"
type = "AAAA"
value = "2001:db8::80"
[[dns.name]]
name = "www"
answer = "best"
EOF
cat >"$W/tern/map.json" <<'EOF'
{"version": 1, "prefixes": [
 {"prefix": "198.51.100.0/24", "clients": 1, "sites": [{"site": "ams", "rtt_ms": 5, "samples": 1}, {"site": "nyc", "rtt_ms": 80, "samples": 1}]},
 {"prefix": "203.0.113.0/24", "clients": 1, "sites": [{"site": "nyc", "rtt_ms": 4, "samples": 1}, {"site": "ams", "rtt_ms": 85, "samples": 1}]}]}
EOF

# ---- NSD ---------------------------------------------------------------------------------
mkdir -p "$W/nsd"
cp "$W/example.net.zone" "$W/nsd/"
cat >"$W/nsd/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1@5302
  server-count: 1
  zonesdir: "$W/nsd"
  zonelistfile: "$W/nsd/zone.list"
  xfrdfile: "$W/nsd/xfrd.state"
  pidfile: "$W/nsd/nsd.pid"
  database: ""
  username: ""
  chroot: ""
  verbosity: 0
  hide-version: yes
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: example.net
  zonefile: example.net.zone
EOF

# ---- Knot --------------------------------------------------------------------------------
mkdir -p "$W/knot"
cp "$W/example.net.zone" "$W/knot/"
cat >"$W/knot/knot.conf" <<EOF
server:
    listen: 127.0.0.1@5303
    rundir: "$W/knot"
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$W/knot"
log:
  - target: stderr
    any: error
zone:
  - domain: example.net
    storage: "$W/knot"
    file: example.net.zone
EOF

# ---- gdnsd: same static data plus www via geoip with the same network → DC data ----------
mkdir -p "$W/gdnsd/zones" "$W/gdnsd/run" "$W/gdnsd/state"
cat >"$W/gdnsd/config" <<EOF
options => {
  listen => [ 127.0.0.1:5304 ]
  udp_threads => 1
  tcp_threads => 1
  run_dir => $W/gdnsd/run
  state_dir => $W/gdnsd/state
}
plugins => {
  geoip => {
    maps => {
      m => {
        datacenters => [ ams, nyc ]
        nets => { 198.51.100.0/24 => [ ams, nyc ], 203.0.113.0/24 => [ nyc, ams ] }
      }
    }
    resources => {
      www => { map => m, service_types => up, dcmap => { ams => 127.0.0.1, nyc => 127.0.0.2 } }
    }
  }
}
EOF
{ cat "$W/example.net.zone"; echo 'www 30 DYNA geoip!www'; } >"$W/gdnsd/zones/example.net"

# ---- queries -----------------------------------------------------------------------------
printf 'static.example.net A\nstatic.example.net AAAA\n' >"$W/static.txt"
printf 'www.example.net A\n' >"$W/geo.txt"
ECS="8:00011800c63364" # family 1, source 24, scope 0, 198.51.100

wait_port() {
    for _ in $(seq 1 100); do
        dig +time=1 +tries=1 @127.0.0.1 -p "$1" static.example.net A +short 2>/dev/null | grep -q 192.0.2.80 && return 0
        sleep 0.1
    done
    echo "server on port $1 did not come up" >&2
    return 1
}

peak_rss_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# qps: max throughput; p50/p99: from per-query latencies at a fixed rate.
measure() { # port queries-file extra-args...
    local port=$1 file=$2
    shift 2
    local qps lat
    qps=$(dnsperf -s 127.0.0.1 -p "$port" -d "$file" -l "$SECS" -c 1 -T 1 -q 10 "$@" 2>/dev/null |
        awk '/Queries per second/ {print $4}')
    lat=$(dnsperf -s 127.0.0.1 -p "$port" -d "$file" -l "$SECS" -c 1 -T 1 -q 10 -Q 5000 -v "$@" 2>/dev/null |
        awk '$1 == ">" && NF >= 5 {print $NF}' | sort -g |
        awk '{v[NR] = $1} END {if (NR == 0) {print "- -"; exit} i50 = int(NR * 0.5); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1; printf "%.0f %.0f\n", v[i50] * 1e6, v[i99] * 1e6}')
    echo "$qps $lat"
}

ROWS=()
run_server() { # name port pid-var-cmd...
    local name=$1 port=$2
    shift 2
    "$@" >"$W/$name.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    wait_port "$port"
    read -r sq s50 s99 < <(measure "$port" "$W/static.txt")
    local gq="-" g50="-" g99="-" gcheck="-"
    if [ "$name" = tern ] || [ "$name" = gdnsd ]; then
        # tern's sites come up after rise (2) health checks.
        for _ in $(seq 1 50); do
            gcheck=$(dig +short @127.0.0.1 -p "$port" www.example.net A +subnet=198.51.100.0/24)
            [ "$gcheck" = 127.0.0.1 ] && break
            sleep 0.2
        done
        read -r gq g50 g99 < <(measure "$port" "$W/geo.txt" -E "$ECS")
    fi
    local rss
    rss=$(peak_rss_kb "$pid")
    ROWS+=("$name|$sq|$s50|$s99|$gq|$g50|$g99|$gcheck|$rss")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# tern's site health checks: an HTTP 200 on each site's address (127.0.0.1, 127.0.0.2).
for a in 127.0.0.1 127.0.0.2; do
    python3 -m http.server 5380 --bind "$a" --directory "$W" >/dev/null 2>&1 &
    PIDS+=($!)
done
sleep 0.5

run_server tern 5301 "$TERN" dns serve "$W/tern/tern.toml" --log warn
run_server nsd 5302 nsd -d -c "$W/nsd/nsd.conf"
run_server knot 5303 knotd -c "$W/knot/knot.conf"
run_server gdnsd 5304 gdnsd -c "$W/gdnsd" start

echo
echo "dnsperf, loopback, 1 UDP worker per server, ${SECS}s per figure, $(nproc) cores shared by client and server"
echo
echo "| server | static qps | static p50 µs | static p99 µs | geo+ECS qps | geo p50 µs | geo p99 µs | geo answer | peak RSS KiB |"
echo "|---|---|---|---|---|---|---|---|---|"
for r in "${ROWS[@]}"; do
    IFS='|' read -r n a b c d e f g h <<<"$r"
    echo "| $n | $a | $b | $c | $d | $e | $f | $g | $h |"
done
