#!/usr/bin/env bash
# Scale benchmark of `skew probe`: thousands of targets in one run, all on loopback.
#
#   bench/scale.sh                         10,000 targets (9,000 served, 1,000 unreachable), 3 rounds
#   TARGETS=1000 UNREACHABLE=100 bench/scale.sh
#   SAMPLES=3 INTERVAL=1s bench/scale.sh   3 samples per target, 1 s apart
#   EXTRA="--max-inflight 512" bench/scale.sh
#
# Served targets are the listening ports of SERVERS `skew serve` processes (each with many
# --listen 127.0.0.1:0 sockets); unreachable targets are 127.0.0.2 on those ports, where
# nothing listens (their requests time out). The two kinds are interleaved in the target
# list. Every process started here is stopped by its PID; traffic never leaves loopback.
#
# Per round: wall time of the run, probes/s (targets × samples / wall), peak RSS, the
# largest number of open file descriptors seen (sampled every 2 ms from /proc), the status
# counts, and starvation checks: every served target must be ok with `sent` = SAMPLES,
# every unreachable one `timeout` with `sent` = SAMPLES.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=${TARGETS:-10000}
UNREACHABLE=${UNREACHABLE:-1000}
SERVERS=${SERVERS:-4}
SAMPLES=${SAMPLES:-1}
INTERVAL=${INTERVAL:-2s}
TIMEOUT=${TIMEOUT:-1s}
ROUNDS=${ROUNDS:-3}
EXTRA=${EXTRA:-}
source bench/lib.sh
bench_skew_binary "$PWD"
work=$(mktemp -d /tmp/skew-bench-scale.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

served=$((TARGETS - UNREACHABLE))
launched=()
per=$(((served + SERVERS - 1) / SERVERS))
left=$served
for i in $(seq 1 "$SERVERS"); do
  n=$((left < per ? left : per))
  left=$((left - n))
  [ "$n" -gt 0 ] || continue
  args=()
  for _ in $(seq 1 "$n"); do args+=(--listen 127.0.0.1:0); done
  "$SKEW" serve "${args[@]}" --ready-file "$work/ready.$i" --stats-json --max-seconds 3600 \
    >"$work/serve.$i.out" 2>&1 &
  pids+=($!)
  launched+=("$i")
done
for i in "${launched[@]}"; do
  for _ in $(seq 600); do [ -s "$work/ready.$i" ] && break; sleep 0.05; done
  [ -s "$work/ready.$i" ] || { echo "skew serve $i not ready:" >&2; cat "$work/serve.$i.out" >&2; exit 1; }
done
cat "$work"/ready.* | sed -n 's/^listening on //p' >"$work/served.txt"
echo "$(wc -l <"$work/served.txt") served ports in $SERVERS skew serve processes (pids ${pids[*]}), $UNREACHABLE unreachable targets; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$SKEW" "$work/served.txt" "$UNREACHABLE" "$SAMPLES" "$INTERVAL" "$TIMEOUT" "$ROUNDS" "$EXTRA" <<'PY'
import json, os, subprocess, sys, time
skew, served_file, unreachable, samples, interval, timeout, rounds, extra = sys.argv[1:]
served = [l.strip() for l in open(served_file) if l.strip()]
unreachable, samples, rounds = int(unreachable), int(samples), int(rounds)
dead = ["127.0.0.2:" + a.rsplit(":", 1)[1] for a in served[:unreachable]]
# Interleave: one unreachable target after every k served ones.
targets, k = [], max(1, len(served) // max(1, unreachable))
d = iter(dead)
for i, a in enumerate(served):
    targets.append(a)
    if (i + 1) % k == 0:
        targets.append(next(d, None))
targets = [t for t in targets if t] + list(d)
dead_set = set(dead)
out_path, err_path = served_file + ".probe.json", served_file + ".probe.err"
def dur(text):
    for unit, scale in (("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3), ("s", 1.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    return float(text)
cmd = [skew, "probe", "--json", "-n", str(samples), "--interval", interval, "--timeout", timeout]
cmd += extra.split() + targets
print(f"{len(targets)} targets, -n {samples} --interval {interval} --timeout {timeout} {extra}".rstrip())
for r in range(1, rounds + 1):
    t0 = time.monotonic()
    # GNU time reports the peak RSS of skew alone (a wait4 in Python would include the
    # forked interpreter's memory from before the exec), on stderr (an -o file would be
    # one more descriptor inherited by skew).
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M"] + cmd,
                             stdout=out, stderr=err)
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
    if p.returncode not in (0, 1):
        sys.exit(f"skew probe failed ({p.returncode}): {open(err_path).read()}")
    rss_kb = int(open(err_path).read().split()[-1])  # GNU time's line comes last
    res = json.load(open(out_path))["probes"]
    status = {}
    for x in res:
        status[x["status"]] = status.get(x["status"], 0) + 1
    starved = [x["address"] for x in res
               if x["sent"] != samples
               or (x["address"] in dead_set) != (x["status"] == "timeout")
               or (x["address"] not in dead_set and x["status"] != "ok")]
    expected = (samples - 1) * max(dur(interval), dur(timeout)) + dur(timeout)
    print(f"round {r}: wall {wall:.3f} s, {len(targets) * samples / wall:,.0f} probes/s, "
          f"peak RSS {rss_kb / 1024:.1f} MiB, "
          f"max open fds {max_fds}, statuses {dict(sorted(status.items()))}, "
          f"starved or wrong {len(starved)}"
          + (f" (e.g. {starved[:3]})" if starved else "")
          + f"; (samples − 1) × max(interval, timeout) + timeout = {expected:.3f} s")
PY
# Stop the servers (SIGTERM, repeated once, then SIGKILL after 5 s each: a server killed
# this way prints no statistics and is left out of the count below).
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${pids[@]}"; do
  for k in $(seq 50); do
    kill -0 "$p" 2>/dev/null || break
    [ "$k" = 25 ] && kill -TERM "$p" 2>/dev/null
    sleep 0.1
  done
  kill -KILL "$p" 2>/dev/null && echo "skew serve $p did not stop on SIGTERM: killed" >&2
  wait "$p" 2>/dev/null || true
done
pids=()
python3 - "$work" <<'PY'
import glob, json, sys
recv = ans = 0
for f in glob.glob(sys.argv[1] + "/serve.*.out"):
    t = open(f).read()
    if "{" not in t:
        continue
    s = json.loads(t[t.index("{"):])
    recv += s["received"]; ans += s["answered"]
print(f"servers received {recv} requests, answered {ans}")
PY
