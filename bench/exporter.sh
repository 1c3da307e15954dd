#!/usr/bin/env bash
# Benchmark of `skew exporter`, everything on loopback inside a network namespace of our own.
#
#   bench/exporter.sh long  [SECONDS]   4 chronyd servers at the default poll (64 s), scraped
#                                       every 15 s: CPU share of a core and RSS over the run
#                                       (default 1200 s)
#   bench/exporter.sh scale [SECONDS]   1,000 servers (one chronyd answering on 1,000 loopback
#                                       addresses) at --poll 1s: CPU, RSS over the run
#                                       (default 300 s), then /metrics scrape latency p50/p99
#                                       over 1,000 scrapes
#   bench/exporter.sh probe [ROUNDS]    /probe?target=X&samples=4 against `skew probe -n 4` of the
#                                       same chronyd, alternating (default 20 rounds): offsets,
#                                       bound half-widths, wall times
#
# CPU is (utime + stime) from /proc/PID/stat (threads that ended included) over the wall
# time after a 10 s warm-up; RSS is VmRSS sampled every 10 s. Every process started here is
# stopped by its PID; chronyd always runs with -x.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-long}
source bench/lib.sh
bench_skew_binary "$PWD"
if [ -z "${SKEW_BENCH_INSIDE:-}" ]; then
  bench_enter_netns "$0" "$@"
fi
bench_setup
cd "$tmp"
hz=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# start_exporter PORT ARGS...: the exporter in the background; $exp its PID.
start_exporter() {
  local port=$1
  shift
  "$SKEW" exporter --listen "127.0.0.1:$port" "$@" >"$tmp/exporter.out" 2>&1 &
  exp=$!
  pids+=("$exp")
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/-/healthy" && return 0
    sleep 0.1
  done
  echo "$0: the exporter did not come up:" >&2
  cat "$tmp/exporter.out" >&2
  exit 1
}

# observe PID PORT SECONDS SCRAPE_EVERY: CPU and RSS of PID over SECONDS, scraping PORT.
observe() {
  local pid=$1 port=$2 secs=$3 every=$4 t0 c0 rss=() t c1 elapsed next_scrape
  sleep 10
  t0=$(date +%s.%N)
  c0=$(cpu_ticks "$pid")
  next_scrape=0
  for t in $(seq 0 "$secs"); do
    if [ "$t" -ge "$next_scrape" ]; then
      curl -s -o /dev/null "http://127.0.0.1:$port/metrics"
      next_scrape=$((t + every))
    fi
    if [ $((t % 10)) -eq 0 ]; then rss+=("$(rss_kb "$pid")"); fi
    sleep 1
  done
  c1=$(cpu_ticks "$pid")
  elapsed=$(python3 -c "import time; print(time.time() - $t0)")
  python3 - "$hz" "$c0" "$c1" "$elapsed" "${rss[@]}" <<'PY'
import sys
hz, c0, c1, el = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
rss = [int(x) for x in sys.argv[5:]]
cpu = (c1 - c0) / hz
print(f"wall {el:.0f} s, CPU {cpu:.2f} s = {100 * cpu / el:.4f} % of a core")
n = len(rss)
q = max(1, n // 4)
print(f"RSS kB: first {rss[0]}, last {rss[-1]}, min {min(rss)}, max {max(rss)}; "
      f"mean of first quarter {sum(rss[:q]) / q:.0f}, of last quarter {sum(rss[-q:]) / q:.0f} ({n} samples)")
PY
}

case $mode in
long)
  secs=${2:-1200}
  servers=()
  for i in 1 2 3 4; do
    port=$((12300 + i))
    start_chronyd "s$i" 127.0.0.1 "$port" "local stratum 8"
    servers+=("127.0.0.1:$port")
  done
  for s in "${servers[@]}"; do wait_ready "$s" 8; done
  start_exporter 19123 "${servers[@]}"
  echo "== skew exporter, 4 servers, default poll (64 s), scraped every 15 s, $secs s"
  echo "load before: ${SKEW_BENCH_LOAD_BEFORE:-?}"
  observe "$exp" 19123 "$secs" 15
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  curl -s "http://127.0.0.1:19123/metrics" | grep -E '^skew_(sourcestats_samples|exporter_polls_total|ntp_reach)\{' | head -12
  ;;
scale)
  secs=${2:-300}
  n=${SERVERS:-1000}
  start_chronyd big 0.0.0.0 12400 "local stratum 8"
  wait_ready 127.0.0.1:12400 8
  servers=()
  for i in $(seq 0 $((n - 1))); do
    servers+=("127.1.$((i / 250)).$((i % 250 + 1)):12400")
  done
  start_exporter 19124 --poll 1s --timeout 500ms --no-leap "${servers[@]}"
  echo "== skew exporter, $n servers, --poll 1s, scraped every 15 s, $secs s"
  echo "load before: ${SKEW_BENCH_LOAD_BEFORE:-?}"
  observe "$exp" 19124 "$secs" 15
  curl -s "http://127.0.0.1:19124/metrics" >metrics.txt
  echo "/metrics: $(wc -c <metrics.txt) bytes, $(grep -vc '^#' metrics.txt) samples," \
    "$(grep -c '^skew_ntp_up{.*} 1' metrics.txt) servers up"
  python3 - 19124 "${SCRAPES:-1000}" <<'PY'
import http.client, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
lat = []
for _ in range(n):
    t = time.perf_counter()
    conn.request("GET", "/metrics")
    body = conn.getresponse().read()
    lat.append(time.perf_counter() - t)
lat.sort()
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
print(f"scrape latency over {n} scrapes ({len(body)} bytes each): p50 {p(0.5):.2f} ms, "
      f"p90 {p(0.9):.2f} ms, p99 {p(0.99):.2f} ms, max {lat[-1] * 1000:.2f} ms")
PY
  ;;
probe)
  rounds=${2:-20}
  start_chronyd p1 127.0.0.1 12501 "local stratum 8"
  wait_ready 127.0.0.1:12501 8
  start_exporter 19125 --no-leap --no-clock --poll 64s --probe-interval 10ms 127.0.0.1:12501
  echo "== /probe?samples=4 (--probe-interval 10ms) against skew probe -n 4 --interval 10ms, same chronyd, $rounds rounds alternating"
  echo "load before: ${SKEW_BENCH_LOAD_BEFORE:-?}"
  # Each round: the HTTP round trip of /probe (python's http.client, a fresh connection) and
  # the wall time of a `skew probe` process, both timed with perf_counter in one script.
  python3 - "$rounds" "$SKEW" <<'PY'
import http.client, subprocess, sys, time
n, skew = int(sys.argv[1]), sys.argv[2]
for r in range(1, n + 1):
    t = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", 19125, timeout=30)
    c.request("GET", "/probe?target=127.0.0.1:12501&samples=4")
    body = c.getresponse().read()
    c.close()
    open(f"probe.{r}.wall", "w").write(str(time.perf_counter() - t))
    open(f"probe.{r}.prom", "wb").write(body)
    t = time.perf_counter()
    out = subprocess.run([skew, "probe", "--json", "-n", "4", "--interval", "10ms", "127.0.0.1:12501"],
                         capture_output=True)
    open(f"cli.{r}.wall", "w").write(str(time.perf_counter() - t))
    open(f"cli.{r}.json", "wb").write(out.stdout)
    time.sleep(2.1)  # etiquette between rounds, as for a public server
PY
  python3 - "$rounds" <<'PY'
import json, statistics as st, sys
n = int(sys.argv[1])
def prom(path):
    v = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        name, val = line.rsplit(" ", 1)
        v[name.split("{")[0]] = float(val)
    return v
rows = {"/probe": [], "skew probe": []}
for r in range(1, n + 1):
    p = prom(f"probe.{r}.prom")
    rows["/probe"].append((p["skew_ntp_offset_seconds"],
        (p["skew_ntp_bound_upper_seconds"] - p["skew_ntp_bound_lower_seconds"]) / 2,
        float(open(f"probe.{r}.wall").read()), p["probe_duration_seconds"]))
    c = json.load(open(f"cli.{r}.json"))["probes"][0]
    rows["skew probe"].append((c["offset_s"], (c["bound_hi_s"] - c["bound_lo_s"]) / 2,
        float(open(f"cli.{r}.wall").read()), None))
for k, v in rows.items():
    off = [x[0] * 1e6 for x in v]; hw = [x[1] * 1e6 for x in v]; wall = [x[2] * 1e3 for x in v]
    print(f"{k:10s}: offset median {st.median(off):+.2f} us (min {min(off):+.2f}, max {max(off):+.2f}); "
          f"bound half-width median {st.median(hw):.2f} us; wall median {st.median(wall):.1f} ms "
          f"(max {max(wall):.1f})")
pd = [x[3] * 1e3 for x in rows["/probe"]]
print(f"/probe's own probe_duration_seconds: median {st.median(pd):.1f} ms")
PY
  ;;
*)
  echo "usage: $0 long|scale|probe [SECONDS|ROUNDS]" >&2
  exit 64
  ;;
esac
