#!/usr/bin/env bash
# Benchmark of `skew serve` against chronyd on loopback, and of `skew proxy`'s own
# scheduling error. Everything runs on 127.0.0.1, bounded in count and time; every
# process started here is stopped by its PID; chronyd runs with -x (never touches the clock).
#
#   bench/serve.sh                 3 rounds of 5 s per server, proxy runs of 5 s
#   ROUNDS=5 SECONDS_PER_RUN=10 bench/serve.sh
#   PARTS=proxy bench/serve.sh     only the proxy part (PARTS=serve: only the server part)
#
# Output: one line per run, then a summary (median replies/s per server, peak RSS before and
# after the load, proxy scheduling error p50/p99/max).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SECS=${SECONDS_PER_RUN:-5}
WINDOW=${WINDOW:-256}
PARTS=${PARTS:-serve,proxy}
cargo build --release --quiet -p skew -p skew-fault-io --examples
SKEW=target/release/skew
LOAD=target/release/examples/ntp_load
work=$(mktemp -d /tmp/skew-bench-serve.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Pin the server to CPU 1 and the load generator to CPU 0 when taskset exists (2 cores).
# (Arrays, not a function: a backgrounded function would be a subshell whose PID is not the
# server's; taskset execs the program, so $! is the server's own PID.)
PIN0=(); PIN1=()
if command -v taskset >/dev/null; then PIN0=(taskset -c 0); PIN1=(taskset -c 1); fi
wait_ready() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; echo "not ready: $1" >&2; exit 1; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# chronyd serving the local clock (as skew-testkit starts it).
CPORT=$(free_port)
cat > "$work/chronyd.conf" <<CONF
local stratum 8
allow 127.0.0.0/8
bindaddress 127.0.0.1
port $CPORT
cmdport 0
bindcmdaddress /
pidfile $work/chronyd.pid
CONF
"${PIN1[@]}" chronyd -U -x -d -f "$work/chronyd.conf" > "$work/chronyd.log" 2>&1 &
CPID=$!; pids+=("$CPID")
for _ in $(seq 100); do grep -q "chronyd version" "$work/chronyd.log" 2>/dev/null && break; sleep 0.05; done
sleep 0.5

if [[ $PARTS == *serve* ]]; then
# skew serve, stopping by itself after the benchmark at the latest.
"${PIN1[@]}" "$SKEW" serve --listen 127.0.0.1:0 --ready-file "$work/serve.ready" --stats-json \
  --max-seconds $(( (ROUNDS * 2 * SECS) + 60 )) > "$work/serve.out" 2>&1 &
SPID=$!; pids+=("$SPID")
wait_ready "$work/serve.ready"
SADDR=$(sed -n 's/^listening on //p' "$work/serve.ready" | head -1)
echo "chronyd $(chronyd --version | head -1 | awk '{print $2, $3, $4}') on 127.0.0.1:$CPORT (pid $CPID); skew serve on $SADDR (pid $SPID)"
echo "load: ntp_load --window $WINDOW --seconds $SECS, $ROUNDS rounds, alternating"
s_hwm0=$(hwm "$SPID"); c_hwm0=$(hwm "$CPID")
: > "$work/rates"
for r in $(seq "$ROUNDS"); do
  for target in chronyd skew; do
    if [ "$target" = chronyd ]; then addr="127.0.0.1:$CPORT"; else addr="$SADDR"; fi
    line=$("${PIN0[@]}" "$LOAD" "$addr" --seconds "$SECS" --requests 100000000 --window "$WINDOW")
    echo "round $r $target $line"
    rate=$(echo "$line" | sed 's/.*"replies_per_s":\([0-9]*\).*/\1/')
    echo "$target $rate" >> "$work/rates"
  done
done
s_hwm1=$(hwm "$SPID"); c_hwm1=$(hwm "$CPID"); s_rss=$(rss "$SPID")
kill -TERM "$SPID"; wait "$SPID" || true
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
c_med=$(awk '$1=="chronyd" {print $2}' "$work/rates" | median)
s_med=$(awk '$1=="skew" {print $2}' "$work/rates" | median)
echo
echo "== serve: median replies/s  chronyd $c_med  skew serve $s_med  (ratio $(awk -v a="$s_med" -v b="$c_med" 'BEGIN{printf "%.2f", a/b}'))"
echo "== serve: peak RSS kB  skew serve $s_hwm0 -> $s_hwm1 (RSS at end $s_rss)  chronyd $c_hwm0 -> $c_hwm1"
sed -n '/"received"/p;/"answered"/p;/"sent"/p' "$work/serve.out" | tr -d ' ,' | paste -sd' '

fi

# skew proxy in front of chronyd: its own scheduling error. Not pinned: a light load, and a
# pinned process cannot escape to the idle core when something else runs on its own.
proxy_run() {
  local name=$1; shift
  "$SKEW" proxy --listen 127.0.0.1:0 --upstream "127.0.0.1:$CPORT" --ready-file "$work/$name.ready" \
    --stats-json --max-seconds $(( SECS + 30 )) "$@" > "$work/$name.out" 2>&1 &
  local pid=$!; pids+=("$pid")
  wait_ready "$work/$name.ready"
  local addr; addr=$(sed -n 's/^listening on //p' "$work/$name.ready" | head -1)
  "${PROXY_LOAD[@]/ADDR/$addr}" > "$work/$name.load" 2>&1 || true
  kill -TERM "$pid"; wait "$pid" || true
  python3 - "$work/$name.out" "$name" "$*" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
r = json.loads(text[text.index('{'):])
def fmt(s):
    return (f"{s['count']} datagrams: p50 {s['p50_s']*1e6:.1f} us, p90 {s['p90_s']*1e6:.1f} us, "
            f"p99 {s['p99_s']*1e6:.1f} us, p99.9 {s['p999_s']*1e6:.1f} us, max {s['max_s']*1e6:.1f} us")
print(f"== proxy {sys.argv[2]} ({sys.argv[3] or 'no delay'}):")
print(f"   scheduling error  {fmt(r['scheduling_error'])}")
print(f"   immediate latency {fmt(r['immediate_latency'])}")
print(f"   received {r['received']}, answered {r['answered']}, dropped {r['dropped']}")
PY
}
# A probing client: 100 requests per second for SECS seconds.
[[ $PARTS == *proxy* ]] || exit 0
# The machine's own floor: how often a thread spinning on the clock loses the CPU (other
# processes, interrupts, the hypervisor). No release can be more precise than this.
echo "== machine hiccups while spinning 3 s (reference): $(target/release/examples/hiccup_floor 3)"
PROXY_LOAD=("$SKEW" probe -n $(( SECS * 100 )) --interval 10ms --timeout 200ms ADDR)
proxy_run probe-paced --fwd 1ms --back 1ms --fwd-jitter 2ms --back-jitter 2ms
if [ "$(id -u)" = 0 ]; then
  proxy_run probe-paced-rt --fwd 1ms --back 1ms --fwd-jitter 2ms --back-jitter 2ms --rt-priority 10
fi
proxy_run probe-zero-delay
# A loaded proxy: 64 requests in flight through 1 ms ± 1 ms each way.
PROXY_LOAD=("${PIN0[@]}" "$LOAD" ADDR --seconds "$SECS" --requests 100000000 --window 64)
proxy_run loaded-window-64 --fwd 1ms --back 1ms --fwd-jitter 1ms --back-jitter 1ms
