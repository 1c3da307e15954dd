#!/usr/bin/env bash
# Benchmark of `skew probe` against the reference clients chronyd -Q and ntpdig, on real
# chronyd servers over loopback (issue 2, "Benchmark").
#
#   bench/probe.sh [RUNS]        RUNS runs of each client against each server (default 30)
#
# Figures, the machine and the discussion: docs/benchmarks/probe.md (bench/probe-residual.sh
# splits skew's residual error into its causes).
#
# Two servers, both chronyd with -x (they never touch the system clock):
#   truth     serves the local clock (local stratum 8): the true offset is exactly 0;
#   follower  follows `truth` with `offset 0.25`: it serves truth + 0.25 s (stratum 9), up to
#             its own tracking error of a few µs.
# Clients, one process per run, interleaved run by run so that load changes hit them alike:
#   skew      skew probe --json -n $SAMPLES --interval $INTERVAL   (release build)
#   skew --interleaved   the same with --interleaved (RFC 9769)
#   chronyd   chronyd -U -x -Q -t 10 'server ADDR port P iburst minpoll -6 maxpoll -6'
#             ("System clock wrong by X seconds"; -Q only prints, -x never controls the clock)
#   chronyd xleave   the same with `xleave maxsamples 8` and `log measurements`: the offset of
#             its lowest-delay interleaved sample, to 1 ns (its console line stops at 1 µs)
#   ntpdig    ntpdig -j -t 2 ADDR  (one request, no -s/-S: it only prints)
#
# ntpdig has no port option, so the whole benchmark runs in a network namespace of its own
# (`unshare --net`, or `unshare --user --map-root-user --net` when not root) with truth on
# 127.0.0.1:123 and follower on 127.0.0.2:123; every client asks those same two servers and no
# packet leaves the namespace. Where no namespace can be created, truth and follower serve on
# free loopback ports of the host and ntpdig is skipped (the table says so).
#
# Output: a Markdown table on stdout (progress on stderr). error = measured offset − true offset
# (0 for truth, +0.25 s for follower); p99 is nearest-rank, i.e. the maximum for RUNS < 100;
# "bound ±" is skew's hard-bound half-width (bound_hi_s − bound_lo_s)/2; "in bound" counts runs
# whose bound contains the true offset; "wall" is the client process's wall time per run.
#
# Environment:
#   SKEW=path                 skew binary (default: build and use target/release/skew)
#   SKEW_BENCH_SAMPLES=4      skew's -n
#   SKEW_BENCH_INTERVAL=10ms  skew's --interval
#   SKEW_BENCH_XLEAVE_SAMPLES=8  chronyd xleave's maxsamples
#   SKEW_BENCH_KEEP=dir       keep the raw results (results.tsv, skew JSON per run, chronyd logs)
#   SKEW_BENCH_NO_NETNS=1     do not create a network namespace (host loopback, no ntpdig)
set -euo pipefail

runs=${1:-30}
if ! [[ $runs =~ ^[0-9]+$ ]] || [ "$runs" -lt 1 ] || [ "$runs" -gt 1000 ]; then
  echo "usage: bench/probe.sh [RUNS]   (RUNS: 1..1000, default 30)" >&2
  exit 64
fi
samples=${SKEW_BENCH_SAMPLES:-4}
interval=${SKEW_BENCH_INTERVAL:-10ms}
xleave_samples=${SKEW_BENCH_XLEAVE_SAMPLES:-8}
follower_offset=0.25
repo=$(cd "$(dirname "$0")/.." && pwd)

for tool in chronyd python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench/probe.sh: $tool not found (scripts/test.sh installs it)" >&2; exit 1; }
done
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"

# Outside: build, then re-run this script inside a network namespace of its own.
if [ -z "${SKEW_BENCH_INSIDE:-}" ]; then
  bench_skew_binary "$repo"
  bench_enter_netns "$0" "$runs"
  echo "bench/probe.sh: no network namespace ($SKEW_BENCH_NO_NETNS_REASON): host loopback, ntpdig skipped" >&2
  export SKEW_BENCH_NO_NETNS_REASON
  SKEW_BENCH_INSIDE=host exec bash "$0" "$runs"
fi

# The benchmark proper (inside the namespace, or on the host loopback).
mode=$SKEW_BENCH_INSIDE
bench_setup

if [ "$mode" = host ]; then
  # Two distinct free UDP ports on 127.0.0.1 (both sockets are open at once).
  read -r truth_port follower_port < <(python3 -c '
import socket
a, b = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2))
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
  truth_addr=127.0.0.1 follower_addr=127.0.0.1
else
  truth_addr=127.0.0.1 truth_port=123
  follower_addr=127.0.0.2 follower_port=123
fi

start_chronyd truth "$truth_addr" "$truth_port" "local stratum 8"
wait_ready "$truth_addr:$truth_port" 8
start_chronyd follower "$follower_addr" "$follower_port" \
  "server $truth_addr port $truth_port iburst minpoll -6 maxpoll -6 offset $follower_offset"
wait_ready "$follower_addr:$follower_port" 9
sleep 3 # let the follower's estimate settle (it polls every 1/64 s)

have_ntpdig=0
ntpdig_note=""
if [ "$mode" = host ]; then
  ntpdig_note="skipped: ntpdig has no port option and no network namespace could be used (${SKEW_BENCH_NO_NETNS_REASON:-})"
elif ! command -v ntpdig >/dev/null 2>&1; then
  ntpdig_note="skipped: ntpdig not installed (Debian package ntpsec-ntpdig)"
else
  have_ntpdig=1
fi

res=$tmp/results.tsv
printf 'client\tserver\trun\tok\toffset_s\tlo_s\thi_s\tstart_s\tend_s\n' >"$res"

# One run of one client; appends a line to results.tsv. run_skew CLIENT SERVER ADDR PORT RUN [FLAGS...]
run_skew() {
  local client=$1 server=$2 addr=$3 port=$4 run=$5 t0 t1 out tag
  shift 5
  tag=${client// /_}
  t0=$EPOCHREALTIME
  "$SKEW" probe --json -n "$samples" --interval "$interval" "$@" "$addr:$port" >"$tmp/$tag-$server-$run.json" 2>"$tmp/$tag-$server-$run.err" || true
  t1=$EPOCHREALTIME
  out=$(python3 -c '
import json, sys
try:
    p = json.load(open(sys.argv[1]))["probes"][0]
    assert p["status"] == "ok"
    print(1, repr(p["offset_s"]), repr(p["bound_lo_s"]), repr(p["bound_hi_s"]), sep="\t")
except Exception:
    print(0, "", "", "", sep="\t")
' "$tmp/$tag-$server-$run.json")
  printf '%s\t%s\t%s\t%s\t%s\n' "$client" "$server" "$run" "$out" "$t0	$t1" >>"$res"
}

# chronyd -Q in interleaved mode (xleave), its offsets read from `log measurements` (1 ns;
# the console line stops at 1 µs): the offset of its lowest-delay interleaved sample (of a
# basic one when none was interleaved), as skew reports its best sample.
run_chronyd_xleave() {
  local server=$1 addr=$2 port=$3 run=$4 t0 t1 logs x ok=1
  logs=$tmp/xleave-$server-$run
  mkdir -m 1777 "$logs"
  t0=$EPOCHREALTIME
  chronyd -4 -U -x -Q -t 10 "${chrony_user[@]}" -f /dev/null \
    "server $addr port $port iburst minpoll -6 maxpoll -6 xleave maxsamples $xleave_samples" \
    "logdir $logs" "log measurements" "pidfile $tmp/run/qx.pid" "cmdport 0" </dev/null >"$logs/console" 2>&1 || true
  t1=$EPOCHREALTIME
  x=$(python3 -c '
import sys
best = None
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 18 or f[17] not in ("4I", "4B"):
        continue
    key = (f[17] != "4I", float(f[12]))  # interleaved first, then the lowest delay
    if best is None or key < best[0]:
        best = (key, f[11])
print(best[1] if best else "")
' "$logs/measurements.log" 2>/dev/null || true)
  [ -n "$x" ] || { ok=0; cat "$logs/console" >>"$tmp/chronyd-xleave-failures.log"; }
  printf 'chronyd -Q xleave\t%s\t%s\t%s\t%s\t\t\t%s\n' "$server" "$run" "$ok" "$x" "$t0	$t1" >>"$res"
}

run_chronyd_q() {
  local server=$1 addr=$2 port=$3 run=$4 t0 t1 text x ok=1
  t0=$EPOCHREALTIME
  text=$(chronyd -4 -U -x -Q -t 10 "${chrony_user[@]}" \
    "server $addr port $port iburst minpoll -6 maxpoll -6" \
    "pidfile $tmp/run/q.pid" "cmdport 0" </dev/null 2>&1 || true)
  t1=$EPOCHREALTIME
  x=$(sed -n 's/.*System clock wrong by \([-+0-9.eE]*\) seconds.*/\1/p' <<<"$text" | head -1)
  [ -n "$x" ] || { ok=0; echo "$text" >>"$tmp/chronyd-q-failures.log"; }
  printf 'chronyd -Q\t%s\t%s\t%s\t%s\t\t\t%s\n' "$server" "$run" "$ok" "$x" "$t0	$t1" >>"$res"
}

run_ntpdig() {
  local server=$1 addr=$2 run=$3 t0 t1 text x ok=1
  t0=$EPOCHREALTIME
  text=$(ntpdig -j -t 2 "$addr" 2>&1 </dev/null || true)
  t1=$EPOCHREALTIME
  x=$(python3 -c '
import json, sys
for line in sys.argv[1].splitlines():
    try:
        print(repr(json.loads(line)["offset"])); break
    except Exception:
        pass
' "$text")
  [ -n "$x" ] || { ok=0; echo "$text" >>"$tmp/ntpdig-failures.log"; }
  printf 'ntpdig\t%s\t%s\t%s\t%s\t\t\t%s\n' "$server" "$run" "$ok" "$x" "$t0	$t1" >>"$res"
}

echo "bench/probe.sh: $runs runs per client and server ($mode), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for run in $(seq 1 "$runs"); do
  for server in truth follower; do
    if [ "$server" = truth ]; then addr=$truth_addr port=$truth_port; else addr=$follower_addr port=$follower_port; fi
    run_skew skew "$server" "$addr" "$port" "$run"
    run_skew "skew --interleaved" "$server" "$addr" "$port" "$run" --interleaved
    run_chronyd_q "$server" "$addr" "$port" "$run"
    # `log measurements` prints 4 significant digits: 1 ns only for offsets below 10 µs, so
    # only the truth server (offset 0) can be compared to the ns.
    [ "$server" != truth ] || run_chronyd_xleave "$server" "$addr" "$port" "$run"
    [ "$have_ntpdig" = 0 ] || run_ntpdig "$server" "$addr" "$run"
  done
  [ $((run % 10)) -ne 0 ] || echo "  $run/$runs" >&2
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
SKEW_BENCH_ENV="$(date -u +%Y-%m-%dT%H:%M:%SZ); $(nproc) × $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), \
Linux $(uname -r), clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo '?'); \
$("$SKEW" --version) ($(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')), \
chrony $(chronyd -v | sed -n 's/.*version \([^ ]*\).*/\1/p'), \
$(if [ "$have_ntpdig" = 1 ]; then ntpdig -V 2>&1 | head -1; else echo 'no ntpdig'; fi)"
export SKEW_BENCH_ENV

python3 - "$res" "$follower_offset" "$samples" "$interval" "$runs" "$mode" \
  "${SKEW_BENCH_LOAD_BEFORE:-?}" "$load_after" "$ntpdig_note" <<'EOF'
import csv, math, os, statistics, sys

path, follower_offset, samples, interval, runs, mode, load_before, load_after, ntpdig_note = sys.argv[1:]
truth = {"truth": 0.0, "follower": float(follower_offset)}
rows = list(csv.DictReader(open(path), delimiter="\t"))

def p99(xs):
    xs = sorted(xs)
    return xs[max(0, math.ceil(0.99 * len(xs)) - 1)]

def us(x):
    return "-" if x is None else f"{x * 1e6:.2f} µs"

def ms(x):
    return "-" if x is None else f"{x * 1e3:.1f} ms"

clients = ["skew", "skew --interleaved", "chronyd -Q", "chronyd -Q xleave", "ntpdig"]
labels = {
    "skew": f"skew probe -n {samples} --interval {interval}",
    "skew --interleaved": f"skew probe --interleaved -n {samples} --interval {interval}",
    "chronyd -Q": "chronyd -Q (minpoll -6)",
    "chronyd -Q xleave": "chronyd -Q xleave (minpoll -6), `log measurements`",
    "ntpdig": "ntpdig",
}
print(f"| client | server (true offset) | ok/runs | median \\|error\\| | p99 \\|error\\| | median error | "
      f"median bound ± | truth in bound | median wall |")
print("|---|---|---|---|---|---|---|---|---|")
for c in clients:
    for s in ["truth", "follower"]:
        rs = [r for r in rows if r["client"] == c and r["server"] == s]
        name = f"{s} ({truth[s]:+g} s)"
        if not rs:
            print(f"| {labels[c]} | {name} | skipped (see below) | | | | | | |")
            continue
        ok = [r for r in rs if r["ok"] == "1"]
        err = [float(r["offset_s"]) - truth[s] for r in ok]
        aerr = [abs(e) for e in err]
        walls = [float(r["end_s"]) - float(r["start_s"]) for r in rs]
        if c.startswith("skew") and ok:
            half = [(float(r["hi_s"]) - float(r["lo_s"])) / 2 for r in ok]
            inb = sum(float(r["lo_s"]) <= truth[s] <= float(r["hi_s"]) for r in ok)
            hb, ib = us(statistics.median(half)), f"{inb}/{len(ok)}"
        else:
            hb, ib = "-", "-"
        print(f"| {labels[c]} | {name} | {len(ok)}/{len(rs)} | "
              f"{us(statistics.median(aerr)) if ok else '-'} | {us(p99(aerr)) if ok else '-'} | "
              f"{us(statistics.median(err)) if ok else '-'} | {hb} | {ib} | {ms(statistics.median(walls))} |")
print()
print(f"Run: {os.environ.get('SKEW_BENCH_ENV', '?')}.")
print()
print(f"Command: `bench/probe.sh {runs}` (SKEW_BENCH_SAMPLES={samples}, SKEW_BENCH_INTERVAL={interval}); "
      f"mode {mode}; load average before {load_before}, after {load_after}. "
      f"error = measured − true offset; p99 is nearest-rank (the maximum below 100 runs).")
if ntpdig_note:
    print(f"ntpdig {ntpdig_note}.")
print("chronyd -Q xleave runs against truth only: `log measurements` prints offsets with 4 "
      "significant digits, 1 ns below 10 µs but 0.1 ms at the follower's 0.25 s.")
EOF
