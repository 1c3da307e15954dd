#!/usr/bin/env bash
# How well `skew leap` sees a smearing server, against real chronyd peers on loopback.
#
# Peers (all chronyd -x: they never touch the system clock; stopped by PID on exit):
#   slow   `local stratum 8` under libfaketime FAKETIME="+2 x0.9999884": its clock runs
#          11.6 ppm slow (the 24 h noon-to-noon smear's rate) from +2 s
#   smear  follows `slow` with `offset -2`: serves true time minus a linear 11.6 ppm ramp, LI = 0
#   h1 h2  `local stratum 8`: honest
# For each (samples, interval), runs `skew leap --at 2016-12-31T18:00:00Z` REPEAT times and
# prints the smear verdict and the measured rate against the majority (truth: -11.6 ppm).
#
#   bench/leap-smear.sh            (builds the release binary first)
#   REPEAT=5 bench/leap-smear.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-3}
cargo build --release -q -p skew
SKEW=target/release/skew
FAKE=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
dir=$(mktemp -d /tmp/skew-leap-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() { # name port extra-config-line [env...]
  local name=$1 port=$2 line=$3; shift 3
  mkdir -p "$dir/$name"
  cat > "$dir/$name/c.conf" <<CONF
$line
allow 127.0.0.0/8
bindaddress 127.0.0.1
port $port
cmdport 0
bindcmdaddress /
pidfile $dir/$name/pid
CONF
  env "$@" chronyd -U -x -d -f "$dir/$name/c.conf" > "$dir/$name/log" 2>&1 &
  pids+=($!)
}

p_slow=$(free_port); p_smear=$(free_port); p_h1=$(free_port); p_h2=$(free_port)
start slow "$p_slow" "local stratum 8" LD_PRELOAD=$FAKE "FAKETIME=+2 x0.9999884" FAKETIME_DONT_FAKE_MONOTONIC=1
start h1 "$p_h1" "local stratum 8"
start h2 "$p_h2" "local stratum 8"
sleep 1
start smear "$p_smear" "server 127.0.0.1 port $p_slow iburst minpoll -6 maxpoll -6 offset -2"
sleep 5

printf '%-8s %-9s %-7s %-9s %-22s %s\n' samples interval run_s verdict "rate vs majority" "honest rates"
for combo in "10 250ms" "20 250ms" "30 500ms" "60 500ms"; do
  set -- $combo
  for _ in $(seq "$REPEAT"); do
    t0=$(date +%s.%N)
    json=$($SKEW leap --json --no-kernel --at 2016-12-31T18:00:00Z -n "$1" --interval "$2" \
      "127.0.0.1:$p_smear" "127.0.0.1:$p_h1" "127.0.0.1:$p_h2" || true)
    t1=$(date +%s.%N)
    SKEW_JSON="$json" python3 - "$1" "$2" "$t0" "$t1" <<'PY'
import json, os, sys
n, iv, t0, t1 = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
v = json.loads(os.environ["SKEW_JSON"])
s = v["servers"]
def rate(x):
    r, e = x["rate_vs_majority_ppm"], x["rate_sigma_ppm"]
    return "-" if r is None else f"{r:+.2f} ± {e:.2f} ppm"
verdict = {True: "smearing", False: "not", None: "unknown"}[s[0]["smearing"]]
print(f"{n:<8} {iv:<9} {t1 - t0:<7.1f} {verdict:<9} {rate(s[0]):<22} {rate(s[1])}, {rate(s[2])}")
PY
  done
done
