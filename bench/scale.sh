#!/usr/bin/env bash
# Scale benchmark of `skew probe`: sweeps of thousands of targets in one run, all on loopback
# (issue 10, issue 16.1). Three scenarios, each with default flags unless EXTRA says otherwise:
#
#   a  10,000 targets answered by ONE chronyd bound to 0.0.0.0 (127.1.x.y, as an anycast or
#      load-balanced service answers many addresses from one socket), -n 1 --timeout 1s.
#      Goal: >= 99.9 % ok within timeout + 0.5 s.
#   b  10,000 targets: 9,000 ports of SERVERS `skew serve` processes + 1,000 dead addresses
#      (127.0.0.2 on those ports, where nothing listens), interleaved, -n 1 --timeout 1s.
#      Goal: >= 99.9 % of the served ones ok, every dead one timeout or unreachable, each
#      target asked exactly once, within timeout + 0.5 s.
#   s  as b, but the dead addresses are silent: sockets that never read (no ICMP error, no
#      reply), so only the window's rules keep them from holding back the live ones.
#   c  100,000 targets of C_SERVERS chronyd bound to 0.0.0.0 on distinct ports, -n 1.
#      Goal: >= 99.9 % ok in under 5 s, peak RSS under 200 MiB, the same 4 descriptors.
#
#   bench/scale.sh                        a, b, s and c, ROUNDS rounds each
#   SCENARIOS="a c" ROUNDS=5 bench/scale.sh
#   EXTRA="--rate 20000" bench/scale.sh   other flags for every `skew probe`
#   SKEW=/path/to/other/skew bench/scale.sh
#
# Everything runs inside a network namespace of its own (`unshare --net`, or with a user
# namespace when not root), so chronyd can bind 0.0.0.0 and port 123 there and no packet
# leaves it; where none can be created, it runs on the host loopback with free ports. Every
# process started here is stopped by its PID.
#
# Per round: wall time, the status counts and the share ok, the peak RSS (GNU time), the
# largest number of open descriptors seen (/proc/PID/fd every 2 ms), and the receive-buffer
# drops of the run (/proc/net/snmp Udp RcvbufErrors, per namespace: the servers' sockets
# overflowing). Figures and discussion: docs/benchmarks/scale.md.
#
# Environment: SCENARIOS (a b s c), ROUNDS (3), TIMEOUT (1s), EXTRA, A_TARGETS (10000),
# B_TARGETS (10000), B_UNREACHABLE (1000), SERVERS (4, skew serve processes of b),
# C_TARGETS (100000), C_SERVERS (4), SKEW, SKEW_BENCH_NO_NETNS=1.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
SCENARIOS=${SCENARIOS:-a b s c}
ROUNDS=${ROUNDS:-3}
TIMEOUT=${TIMEOUT:-1s}
EXTRA=${EXTRA:-}
A_TARGETS=${A_TARGETS:-10000}
B_TARGETS=${B_TARGETS:-10000}
B_UNREACHABLE=${B_UNREACHABLE:-1000}
SERVERS=${SERVERS:-4}
C_TARGETS=${C_TARGETS:-100000}
C_SERVERS=${C_SERVERS:-4}
export SCENARIOS ROUNDS TIMEOUT EXTRA A_TARGETS B_TARGETS B_UNREACHABLE SERVERS C_TARGETS C_SERVERS
for tool in chronyd python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench/scale.sh: $tool not found" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench/scale.sh: /usr/bin/time not found (Debian package time)" >&2; exit 1; }
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"

if [ -z "${SKEW_BENCH_INSIDE:-}" ]; then
  bench_skew_binary "$repo"
  bench_enter_netns "$0"
  echo "bench/scale.sh: no network namespace ($SKEW_BENCH_NO_NETNS_REASON): host loopback" >&2
  SKEW_BENCH_INSIDE=host exec bash "$0"
fi
bench_setup
echo "bench/scale.sh ($SKEW_BENCH_INSIDE): $(nproc) cores, load before $(cut -d' ' -f1-3 /proc/loadavg); skew $("$SKEW" --version 2>/dev/null || true)"

# A free UDP port (the namespace is ours, but the host fallback is shared).
free_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_wide_chronyd NAME PORT: a chronyd serving the local clock on 0.0.0.0:PORT.
start_wide_chronyd() {
  start_chronyd "$1" 0.0.0.0 "$2" "local stratum 8"
  local i
  for i in $(seq 100); do
    "$SKEW" probe --json -n 1 --timeout 200ms "127.0.0.1:$2" 2>/dev/null | grep -q '"status": "ok"' && return 0
    sleep 0.1
  done
  echo "chronyd $1 on port $2 does not answer; log:" >&2
  cat "$tmp/$1.log" >&2
  exit 1
}

targets_a() {
  local port=$1
  python3 -c "
n = $A_TARGETS
print('\n'.join(f'127.1.{i // 250}.{i % 250 + 1}:$port' for i in range(n)))" >"$tmp/targets.a"
}

targets_c() {
  python3 - "$C_TARGETS" "$@" >"$tmp/targets.c" <<'PY'
import sys
n, ports = int(sys.argv[1]), sys.argv[2:]
for i in range(n):
    a = i // len(ports)
    print(f"127.{1 + a // 62500}.{(a // 250) % 250}.{a % 250 + 1}:{ports[i % len(ports)]}")
PY
}

# targets_b: SERVERS skew serve processes with 9,000 ports, 1,000 dead, interleaved.
targets_b() {
  local served=$((B_TARGETS - B_UNREACHABLE)) per left n i args=()
  per=$(((served + SERVERS - 1) / SERVERS))
  left=$served
  for i in $(seq 1 "$SERVERS"); do
    n=$((left < per ? left : per))
    left=$((left - n))
    [ "$n" -gt 0 ] || continue
    args=()
    for _ in $(seq 1 "$n"); do args+=(--listen 127.0.0.1:0); done
    (ulimit -n 65536 2>/dev/null || true; exec "$SKEW" serve "${args[@]}" --ready-file "$tmp/ready.$i" \
      --stats-json --max-seconds 3600) >"$tmp/serve.$i.out" 2>&1 &
    pids+=($!)
    for _ in $(seq 600); do [ -s "$tmp/ready.$i" ] && break; sleep 0.05; done
    [ -s "$tmp/ready.$i" ] || { echo "skew serve $i not ready:" >&2; cat "$tmp/serve.$i.out" >&2; exit 1; }
  done
  cat "$tmp"/ready.* | sed -n 's/^listening on //p' >"$tmp/served.b"
  python3 - "$tmp/served.b" "$B_UNREACHABLE" "$tmp" <<'PY'
import sys
served = [l.strip() for l in open(sys.argv[1]) if l.strip()]
unreachable, tmp = int(sys.argv[2]), sys.argv[3]
dead = ["127.0.0.2:" + a.rsplit(":", 1)[1] for a in served[:unreachable]]
# Interleaved: one dead target after every k served ones.
k = max(1, len(served) // max(1, unreachable))
out, d = [], iter(dead)
for i, a in enumerate(served):
    out.append(a)
    if (i + 1) % k == 0:
        out.append(next(d, None))
open(f"{tmp}/targets.b", "w").write("\n".join([t for t in out if t] + list(d)) + "\n")
open(f"{tmp}/dead.b", "w").write("\n".join(dead) + "\n")
PY
}

# targets_s: the targets of b, with a silent sink on each dead address: sockets bound to
# 127.0.0.2 on those ports that never read, so nothing answers and no ICMP error comes back.
targets_s() {
  [ -s "$tmp/targets.b" ] || targets_b
  cp "$tmp/targets.b" "$tmp/targets.s"
  cp "$tmp/dead.b" "$tmp/dead.s"
  python3 - "$tmp/dead.s" "$tmp/sink.ready" <<'PY' &
import resource, signal, socket, sys, time
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
socks = []
for a in open(sys.argv[1]).read().split():
    host, port = a.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, int(port)))
    socks.append(s)
open(sys.argv[2], "w").write(f"{len(socks)}\n")
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
time.sleep(3600)
PY
  pids+=($!)
  for _ in $(seq 200); do [ -s "$tmp/sink.ready" ] && break; sleep 0.05; done
  [ -s "$tmp/sink.ready" ] || { echo "the silent sink did not start" >&2; exit 1; }
}

# run_rounds SCENARIO: ROUNDS runs of skew probe over $tmp/targets.SCENARIO, one line each.
run_rounds() {
  python3 - "$1" "$tmp" "$SKEW" "$TIMEOUT" "$ROUNDS" "$EXTRA" <<'PY'
import json, os, resource, subprocess, sys, time
scenario, tmp, skew, timeout, rounds, extra = sys.argv[1:]
targets = open(f"{tmp}/targets.{scenario}").read().split()
dead = set()
if scenario in ("b", "s"):
    dead = set(open(f"{tmp}/dead.{scenario}").read().split())
def dur(text):
    for unit, scale in (("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3), ("s", 1.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    return float(text)
def udp_drops():
    lines = [l.split() for l in open("/proc/net/snmp") if l.startswith("Udp:")]
    head, vals = lines[0], lines[1]
    return int(vals[head.index("RcvbufErrors")])
def big_stack():
    # 100,000 arguments exceed the default ARG_MAX (a quarter of the stack limit).
    resource.setrlimit(resource.RLIMIT_STACK, (256 << 20, 256 << 20))
cmd = [skew, "probe", "--json", "-n", "1", "--timeout", timeout] + extra.split() + targets
print(f"scenario {scenario}: {len(targets)} targets"
      + (f" ({len(targets) - len(dead)} served, {len(dead)} dead)" if dead else "")
      + f", skew probe --json -n 1 --timeout {timeout} {extra}".rstrip()
      + f"; load {open('/proc/loadavg').read().split()[0]}")
for r in range(1, int(rounds) + 1):
    out_path, err_path = f"{tmp}/probe.{scenario}.json", f"{tmp}/probe.{scenario}.err"
    drops0 = udp_drops()
    t0 = time.monotonic()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M %U %S"] + cmd,
                             stdout=out, stderr=err, preexec_fn=big_stack)
    max_fds, child = 0, None
    while p.poll() is None:
        try:
            if child is None:
                kids = open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()
                child = int(kids[0]) if kids else None
            if child is not None:
                max_fds = max(max_fds, len(os.listdir(f"/proc/{child}/fd")))
        except (OSError, ValueError):
            pass
        time.sleep(0.002)
    wall = time.monotonic() - t0
    drops = udp_drops() - drops0
    if p.returncode not in (0, 1):
        sys.exit(f"skew probe failed ({p.returncode}): {open(err_path).read()[-2000:]}")
    rss_kb, user_s, sys_s = open(err_path).read().split()[-3:]
    res = json.load(open(out_path))["probes"]
    status = {}
    for x in res:
        status[x["status"]] = status.get(x["status"], 0) + 1
    live = [x for x in res if x["address"] not in dead]
    ok = sum(x["status"] == "ok" for x in live)
    wrong_dead = sum(x["status"] not in ("timeout", "unreachable") for x in res if x["address"] in dead)
    asked = sum(x["sent"] != 1 for x in res)
    share = 100.0 * ok / max(1, len(live))
    limit = {"a": dur(timeout) + 0.5, "b": dur(timeout) + 0.5, "s": dur(timeout) + 0.5, "c": 5.0}[scenario]
    goal = share >= 99.9 and wall < limit and wrong_dead == 0 and asked == 0
    if scenario == "c":
        goal = goal and int(rss_kb) < 200 * 1024 and max_fds <= 4
    print(f"  round {r}: wall {wall:.3f} s (goal < {limit:.1f} s), ok {share:.2f} %, "
          f"statuses {dict(sorted(status.items()))}, receive-buffer drops {drops}, "
          f"peak RSS {int(rss_kb) / 1024:.1f} MiB, CPU {float(user_s) + float(sys_s):.2f} s, "
          f"max open fds {max_fds}"
          + (f", dead not timeout/unreachable {wrong_dead}" if dead else "")
          + (f", asked other than once {asked}" if asked else "")
          + f": {'goal met' if goal else 'GOAL MISSED'}", flush=True)
PY
}

for s in $SCENARIOS; do
  case $s in
    a)
      port=123
      [ "$SKEW_BENCH_INSIDE" = host ] && port=$(free_port)
      start_wide_chronyd a "$port"
      targets_a "$port"
      run_rounds a
      ;;
    b)
      targets_b
      run_rounds b
      ;;
    s)
      targets_s
      run_rounds s
      ;;
    c)
      ports=()
      for i in $(seq 1 "$C_SERVERS"); do
        if [ "$SKEW_BENCH_INSIDE" = host ]; then p=$(free_port); else p=$((1000 * i + 123)); fi
        start_wide_chronyd "c$i" "$p"
        ports+=("$p")
      done
      targets_c "${ports[@]}"
      run_rounds c
      ;;
    *) echo "bench/scale.sh: unknown scenario $s (a, b, s or c)" >&2; exit 64 ;;
  esac
done
