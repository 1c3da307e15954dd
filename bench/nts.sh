#!/usr/bin/env bash
# Benchmark of `skew probe --nts` against one loopback chronyd serving NTS (issue 17,
# "Measure"): wall time split into the key exchange and the samples, offset error and bound
# against the plain probe of the same server, and chronyd's own NTS client, in one run.
#
#   bench/nts.sh [RUNS]        RUNS runs of each client (default 20)
#
# Figures and discussion: docs/benchmarks/nts.md.
#
# The server: chronyd 4.3 with -x (never touches the clock), `local stratum 2`, NTS-KE on a
# free port with a certificate from a test CA made here with openssl (leaf CA:FALSE, SAN
# IP:127.0.0.1 and DNS:localhost, EKU serverAuth). It serves this machine's clock: the true
# offset is exactly 0.
# Clients, one process per run, interleaved run by run so that load changes hit them alike:
#   skew --nts   skew probe --nts --nts-ca CA --json -n 4 --interval 10ms 127.0.0.1:KE
#   skew --nts, CA-only store   the same with SSL_CERT_FILE=CA and SSL_CERT_DIR empty: the
#                difference is the time spent reading the system's trust anchors
#   skew plain   skew probe --json -n 4 --interval 10ms 127.0.0.1:NTP
#   chronyd -Q   chronyd -Q -x 'server 127.0.0.1 port NTP nts ntsport KE iburst maxsamples 4
#                minpoll -6 maxpoll -6' 'ntstrustedcerts CA'  (-Q only prints)
#
# Output: a Markdown table on stdout (progress on stderr). error = measured offset − 0;
# p99 is nearest-rank (the maximum for RUNS < 100); "bound ±" is skew's hard-bound
# half-width; "key exchange" is the JSON's nts.ke_duration_s; "samples" is first T1 to last
# T4 of the run's samples; "wall" is the client process's wall time.
#
# Environment:
#   SKEW=path              skew binary (default: build and use target/release/skew)
#   SKEW_BENCH_SAMPLES=4   -n
#   SKEW_BENCH_INTERVAL=10ms
#   SKEW_BENCH_KEEP=dir    keep the raw results
set -euo pipefail

runs=${1:-20}
if ! [[ $runs =~ ^[0-9]+$ ]] || [ "$runs" -lt 1 ] || [ "$runs" -gt 1000 ]; then
  echo "usage: bench/nts.sh [RUNS]   (RUNS: 1..1000, default 20)" >&2
  exit 64
fi
samples=${SKEW_BENCH_SAMPLES:-4}
interval=${SKEW_BENCH_INTERVAL:-10ms}
repo=$(cd "$(dirname "$0")/.." && pwd)
for tool in chronyd python3 openssl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench/nts.sh: $tool not found" >&2; exit 1; }
done
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
bench_skew_binary "$repo"
SKEW_BENCH_LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
bench_setup

# Test PKI.
pki=$tmp/pki
mkdir -m 755 "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/ca.key" \
  -out "$pki/ca.crt" -days 30 -subj "/CN=skew bench CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/server.key" \
  -out "$pki/server.csr" -subj "/CN=localhost" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' >"$pki/ext.cnf"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
  -out "$pki/server.crt" -days 10 -extfile "$pki/ext.cnf" 2>/dev/null
cat "$pki/server.crt" "$pki/ca.crt" >"$pki/chain.crt"
chmod 644 "$pki"/*
mkdir -m 1777 "$tmp/dump"
mkdir "$tmp/no-certs"

# chronyd runs with -4 here: its NTS-KE listener binds 127.0.0.1 only.
read -r ntp_port ke_port < <(python3 -c '
import socket
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", 0))
b = socket.socket(socket.AF_INET, socket.SOCK_STREAM); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')

start_chronyd nts 127.0.0.1 "$ntp_port" "local stratum 2" "ntsport $ke_port" \
  "ntsserverkey $pki/server.key" "ntsservercert $pki/chain.crt" "ntsdumpdir $tmp/dump"
wait_ready "127.0.0.1:$ntp_port" 2
for i in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$ke_port") 2>/dev/null && break
  sleep 0.1
done

res=$tmp/results.tsv
printf 'client\trun\tok\toffset_s\tlo_s\thi_s\tke_s\tsamples_s\twall_s\n' >"$res"

# run_skew LABEL RUN ARGS...: one skew run, a line of results.tsv.
run_skew() {
  local label=$1 run=$2 t0 t1 out
  shift 2
  t0=$EPOCHREALTIME
  "$SKEW" probe --json -n "$samples" --interval "$interval" "$@" >"$tmp/$label-$run.json" 2>"$tmp/$label-$run.err" || true
  t1=$EPOCHREALTIME
  out=$(python3 -c '
import json, sys
try:
    p = json.load(open(sys.argv[1]))["probes"][0]
    assert p["status"] == "ok"
    ke = p["nts"]["ke_duration_s"] if p.get("nts") else ""
    s = p["samples"]
    span = (s[-1]["t4_ns"] - s[0]["t1_ns"]) / 1e9
    print(1, repr(p["offset_s"]), repr(p["bound_lo_s"]), repr(p["bound_hi_s"]), ke, repr(span), sep="\t")
except Exception:
    print(0, "", "", "", "", "", sep="\t")
' "$tmp/$label-$run.json")
  printf '%s\t%s\t%s\t%s\n' "$label" "$run" "$out" "$(python3 -c "print($t1 - $t0)")" >>"$res"
}

run_chronyd_q() {
  local run=$1 t0 t1 text x ok=1
  t0=$EPOCHREALTIME
  text=$(chronyd -4 -U -x -Q -t 15 "${chrony_user[@]}" -f /dev/null \
    "server 127.0.0.1 port $ntp_port nts ntsport $ke_port iburst maxsamples $samples minpoll -6 maxpoll -6" \
    "ntstrustedcerts $pki/ca.crt" "pidfile $tmp/run/q.pid" "cmdport 0" </dev/null 2>&1 || true)
  t1=$EPOCHREALTIME
  x=$(sed -n 's/.*System clock wrong by \([-+0-9.eE]*\) seconds.*/\1/p' <<<"$text" | head -1)
  [ -n "$x" ] || { ok=0; echo "$text" >>"$tmp/chronyd-q-failures.log"; }
  printf 'chronyd -Q\t%s\t%s\t%s\t\t\t\t\t%s\n' "$run" "$ok" "$x" "$(python3 -c "print($t1 - $t0)")" >>"$res"
}

echo "bench/nts.sh: $runs runs per client, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for run in $(seq 1 "$runs"); do
  run_skew nts "$run" --nts --nts-ca "$pki/ca.crt" "127.0.0.1:$ke_port"
  SSL_CERT_FILE=$pki/ca.crt SSL_CERT_DIR=$tmp/no-certs run_skew nts-ca-only "$run" --nts --nts-ca "$pki/ca.crt" "127.0.0.1:$ke_port"
  run_skew plain "$run" "127.0.0.1:$ntp_port"
  run_chronyd_q "$run"
  [ $((run % 10)) -ne 0 ] || echo "  $run/$runs" >&2
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
env_line="$(date -u +%Y-%m-%dT%H:%M:%SZ); $(nproc) × $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), \
Linux $(uname -r); $("$SKEW" --version) ($(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')), \
chrony $(chronyd -v | sed -n 's/.*version \([^ ]*\).*/\1/p'); load before ${SKEW_BENCH_LOAD_BEFORE}, after $load_after"

python3 - "$res" "$samples" "$interval" "$runs" "$env_line" <<'EOF'
import csv, math, statistics, sys

path, samples, interval, runs, env = sys.argv[1:]
rows = list(csv.DictReader(open(path), delimiter="\t"))

def p99(xs):
    xs = sorted(xs)
    return xs[max(0, math.ceil(0.99 * len(xs)) - 1)]

def med(xs):
    return statistics.median(xs) if xs else None

def us(x):
    return "-" if x is None else f"{x * 1e6:.1f} µs"

def ms(x):
    return "-" if x is None else f"{x * 1e3:.2f} ms"

labels = {
    "nts": f"skew probe --nts -n {samples} --interval {interval}",
    "nts-ca-only": "the same, trust store = the test CA only (SSL_CERT_FILE)",
    "plain": f"skew probe -n {samples} --interval {interval} (same server, no NTS)",
    "chronyd -Q": f"chronyd -Q with nts (maxsamples {samples}, minpoll -6)",
}
print("| client | ok/runs | median \\|error\\| | p99 \\|error\\| | median error | median bound ± | truth in bound | median key exchange | median samples | median wall |")
print("|---|---|---|---|---|---|---|---|---|---|")
for c in ["nts", "nts-ca-only", "plain", "chronyd -Q"]:
    rs = [r for r in rows if r["client"] == c]
    ok = [r for r in rs if r["ok"] == "1"]
    err = [float(r["offset_s"]) for r in ok]
    abs_err = [abs(e) for e in err]
    bounds = [(float(r["hi_s"]) - float(r["lo_s"])) / 2 for r in ok if r["lo_s"]]
    inb = sum(1 for r in ok if r["lo_s"] and float(r["lo_s"]) <= 0.0 <= float(r["hi_s"]))
    ke = [float(r["ke_s"]) for r in ok if r["ke_s"]]
    span = [float(r["samples_s"]) for r in ok if r["samples_s"]]
    wall = [float(r["wall_s"]) for r in rs]
    print(f"| {labels[c]} | {len(ok)}/{len(rs)} | {us(med(abs_err))} | {us(p99(abs_err) if abs_err else None)} | "
          f"{us(med(err))} | {us(med(bounds))} | {f'{inb}/{len(ok)}' if bounds else '-'} | "
          f"{ms(med(ke))} | {ms(med(span))} | {ms(med(wall))} |")
print()
print(f"Runs: {runs} per client, interleaved. {env}.")
EOF
if [ -n "${SKEW_BENCH_KEEP:-}" ]; then cp "$res" "$SKEW_BENCH_KEEP/" 2>/dev/null || true; fi
