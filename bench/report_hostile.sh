#!/usr/bin/env bash
# Benchmark: what hostile or huge logs cost `skew report` in memory and time (issue 14.4: a
# 1 MB gzip of 1 GB of zeros took 2.1 GB of memory before its error, a 3 MB one aborted on
# allocation, a 2 GB sparse file took 4.2 GB and 11.6 s).
#
#   bench/report_hostile.sh            (SKEW_BEFORE=path/to/an/older/skew adds its figures)
#
# Inputs, written once into $SKEW_BENCH_DIR/hostile (default /tmp/skew-bench/hostile):
#   zeros-1g.csv.gz   1 GiB of zeros, gzip -9 in members of 1 MiB (1 MB)
#   zeros-3g.csv.gz   3 GiB of zeros, the same way (3 MB)
#   sparse-2g.csv     a 2 GiB sparse file (zeros, no line end)
#   drift-1m.csv      1,000,000 rows of a real-shaped log (gen_drift_log, 157 MB)
#   drift-10m.csv     10,000,000 rows (1.57 GB), and drift-10m.csv.gz (gzip -1)
# Each is reported once per binary with /usr/bin/time (peak RSS, wall), with the default
# --max-log-bytes and, where it matters, a raised one; the exit status and the first line of
# the error are printed. The load average before and after is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
DIR="${SKEW_BENCH_DIR:-/tmp/skew-bench}/hostile"
mkdir -p "$DIR"
bench_skew_binary "$PWD"
cargo build --release -q -p skew-report --example gen_drift_log >&2
GEN="$PWD/target/release/examples/gen_drift_log"

[ -s "$DIR/zeros-1g.csv.gz" ] || python3 - "$DIR" <<'EOF'
import gzip, io, sys
b = io.BytesIO()
with gzip.GzipFile(fileobj=b, mode="wb", compresslevel=9) as g:
    g.write(b"\0" * (1 << 20))
member = b.getvalue()
open(sys.argv[1] + "/zeros-1g.csv.gz", "wb").write(member * 1024)
open(sys.argv[1] + "/zeros-3g.csv.gz", "wb").write(member * 3072)
EOF
[ -e "$DIR/sparse-2g.csv" ] || truncate -s 2G "$DIR/sparse-2g.csv"
[ -s "$DIR/drift-1m.csv" ] || "$GEN" --out "$DIR/drift-1m.csv" --rows 1000000 >/dev/null 2>&1
[ -s "$DIR/drift-10m.csv" ] || "$GEN" --out "$DIR/drift-10m.csv" --rows 10000000 >/dev/null 2>&1
[ -s "$DIR/drift-10m.csv.gz" ] || gzip -1 -c "$DIR/drift-10m.csv" >"$DIR/drift-10m.csv.gz"

BINARIES=("after:$SKEW")
[ -n "${SKEW_BEFORE:-}" ] && BINARIES=("before:$SKEW_BEFORE" "${BINARIES[@]}")
echo "# $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| binary | input | options | exit | peak RSS (MiB) | wall (s) | message |"
echo "|---|---|---|---|---|---|---|"
run() { # NAME BINARY INPUT OPTIONS...
  local name=$1 bin=$2 input=$3
  shift 3
  local out rc rss wall msg
  set +e
  out=$(/usr/bin/time -f 'RSS=%M WALL=%e' "$bin" report "$DIR/$input" -o "$DIR/r.png" "$@" 2>&1 >/dev/null)
  rc=$?
  set -e
  rss=$(sed -n 's/.*RSS=\([0-9]*\).*/\1/p' <<<"$out" | tail -1)
  wall=$(sed -n 's/.*WALL=\([0-9.]*\).*/\1/p' <<<"$out" | tail -1)
  msg=$(grep -m1 '^skew:' <<<"$out" | cut -c1-110 || true)
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$input" "${*:-}" "$rc" \
    "$(python3 -c "print(f'{$rss/1024:.1f}')")" "$wall" "${msg:-report written}"
}
for b in "${BINARIES[@]}"; do
  name=${b%%:*} bin=${b#*:}
  run "$name" "$bin" zeros-1g.csv.gz
  run "$name" "$bin" zeros-3g.csv.gz
  run "$name" "$bin" sparse-2g.csv
  [ "$name" = after ] && run "$name" "$bin" sparse-2g.csv --max-log-bytes 4G
  run "$name" "$bin" drift-1m.csv
  run "$name" "$bin" drift-10m.csv
  [ "$name" = after ] && run "$name" "$bin" drift-10m.csv --max-log-bytes 2G
  run "$name" "$bin" drift-10m.csv.gz
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
