#!/usr/bin/env bash
# Benchmark: how `skew report`'s time grows with the rows when every 10 rows bring a new host
# or server (issue 14.6: it was quadratic in distinct hosts and servers; goal: linear, and
# 50,000 rows of 5,000 hosts in under 1 s).
#
#   bench/report_scaling.sh [REPEATS] [ROWS...]    (default 3 repeats; 6250 … 100000 rows)
#
# Three shapes of synthetic schema-1 log (crates/skew-report/examples/gen_drift_log.rs, each
# run of a host writes 4 ntp rows + agreement, clock, pause, leap):
#   hosts          ROWS/10 hosts, 4 servers each, hosts 1.3 s apart (the issue's shape)
#   hosts-nosplay  the same hosts all running at the same instants (every host in every
#                  matching window of the pairwise skew)
#   servers        one host probing ROWS/10 servers (about 10 runs)
# Each log is drawn REPEATS times (`skew report LOG -o PNG`, text output discarded); the
# median and best wall times are printed, with µs per row and the growth from one row count
# to the next (2.0 per doubling is linear, 4.0 quadratic), and the load average before and
# after. SKEW_BEFORE=path/to/an/older/skew adds that binary's times in the same run, up to
# SKEW_BEFORE_MAX_ROWS rows (default 50000: the quadratic binary needs minutes beyond).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
REPEATS="${1:-3}"
shift || true
ROWS=("$@")
[ ${#ROWS[@]} -gt 0 ] || ROWS=(6250 12500 25000 50000 100000)
DIR="${SKEW_BENCH_DIR:-/tmp/skew-bench}/scaling"
mkdir -p "$DIR"

bench_skew_binary "$PWD"
cargo build --release -q -p skew-report --example gen_drift_log >&2
GEN="$PWD/target/release/examples/gen_drift_log"

wall() { # prints the wall time of "$@" in seconds
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1 - $t0:.3f}')"
}

log_for() { # SHAPE ROWS: prints the path of the log, writing it when missing
  local shape=$1 rows=$2 f="$DIR/$1-$2.csv" n=$(($2 / 10))
  if [ ! -s "$f" ]; then
    case $shape in
      hosts) "$GEN" --out "$f" --rows "$rows" --hosts "$n" ;;
      hosts-nosplay) "$GEN" --out "$f" --rows "$rows" --hosts "$n" --splay 0s ;;
      servers) "$GEN" --out "$f" --rows "$rows" --servers "$n" ;;
    esac 2>/dev/null
  fi
  echo "$f"
}

BINARIES=("after:$SKEW")
[ -n "${SKEW_BEFORE:-}" ] && BINARIES=("before:$SKEW_BEFORE" "${BINARIES[@]}")
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "# $(date -u +%FT%TZ), $(nproc) CPUs, $REPEATS runs each"
echo "| binary | shape | rows | hosts × servers | median wall (s) | best (s) | µs/row | growth |"
echo "|---|---|---|---|---|---|---|---|"
for bin in "${BINARIES[@]}"; do
  name=${bin%%:*}
  exe=${bin#*:}
  for shape in hosts hosts-nosplay servers; do
    prev=""
    for rows in "${ROWS[@]}"; do
      if [ "$name" = before ] && [ "$rows" -gt "${SKEW_BEFORE_MAX_ROWS:-50000}" ]; then
        continue
      fi
      log=$(log_for "$shape" "$rows")
      times=""
      for _ in $(seq 1 "$REPEATS"); do
        times+="$(wall "$exe" report "$log" -o "$DIR/out.png") "
      done
      case $shape in
        servers) who="1 × $((rows / 10))" ;;
        *) who="$((rows / 10)) × 4" ;;
      esac
      # Prints the table row; the median goes to $DIR/median for the next growth figure.
      python3 - "$name" "$shape" "$rows" "$who" "$prev" "$DIR/median" $times <<'PY'
import statistics, sys
name, shape, rows, who, prev, out = sys.argv[1:7]
xs = [float(x) for x in sys.argv[7:]]
med = statistics.median(xs)
growth = f"{med / float(prev):.1f}" if prev else ""
print(f"| {name} | {shape} | {int(rows):,} | {who} | {med:.3f} | {min(xs):.3f} | {med / int(rows) * 1e6:.1f} | {growth} |")
open(out, "w").write(f"{med}")
PY
      prev=$(cat "$DIR/median")
    done
  done
done
echo "# load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
