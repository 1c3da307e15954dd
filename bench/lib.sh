# Shared by the bench/*.sh scripts (source it; it defines functions and sets nothing else).
#
# Rules kept here: every chronyd runs with -x (never controls the system clock) and -d (in the
# foreground, so $! is its PID); it is stopped by that PID on exit; traffic stays on loopback,
# inside a network namespace of our own where one can be created.

# bench_skew_binary REPO: sets SKEW to the release binary (building it) unless SKEW is set.
bench_skew_binary() {
  if [ -z "${SKEW:-}" ]; then
    (cd "$1" && cargo build --release -q -p skew) >&2
    SKEW=$1/target/release/skew
  fi
  [ -x "$SKEW" ] || { echo "$0: no skew binary at $SKEW" >&2; exit 1; }
  SKEW=$(cd "$(dirname "$SKEW")" && pwd)/$(basename "$SKEW")
  export SKEW
}

# bench_enter_netns SCRIPT ARGS...: re-executes SCRIPT inside a new network namespace
# (`unshare --net` as root, else `unshare --user --map-root-user --net`), with
# SKEW_BENCH_INSIDE=netns|userns. Returns only when no namespace can be created (or
# SKEW_BENCH_NO_NETNS=1), with the reason in SKEW_BENCH_NO_NETNS_REASON.
bench_enter_netns() {
  local script=$1
  shift
  SKEW_BENCH_LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
  export SKEW_BENCH_LOAD_BEFORE
  if [ "${SKEW_BENCH_NO_NETNS:-0}" = 1 ]; then
    SKEW_BENCH_NO_NETNS_REASON="SKEW_BENCH_NO_NETNS=1"
    return 0
  fi
  if ! command -v ip >/dev/null 2>&1; then
    SKEW_BENCH_NO_NETNS_REASON="ip(8) not found (Debian package iproute2)"
    return 0
  fi
  if unshare --net true 2>/dev/null; then
    SKEW_BENCH_INSIDE=netns exec unshare --net -- bash "$script" "$@"
  fi
  if unshare --user --map-root-user --net true 2>/dev/null; then
    SKEW_BENCH_INSIDE=userns exec unshare --user --map-root-user --net -- bash "$script" "$@"
  fi
  SKEW_BENCH_NO_NETNS_REASON="neither unshare --net nor unshare --user --map-root-user --net works here"
}

# bench_setup: a private temporary directory ($tmp), the stop-by-PID trap, and loopback up
# inside our namespace. $pids collects the PIDs of what we start; $chrony_user holds extra
# chronyd arguments.
bench_setup() {
  tmp=$(mktemp -d /tmp/skew-bench.XXXXXX)
  chmod 755 "$tmp"
  mkdir -m 1777 "$tmp/run" # chronyd drops root to its own user, then removes its pidfile here
  pids=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  chrony_user=()
  case ${SKEW_BENCH_INSIDE:-host} in
    netns) ip link set lo up ;;
    userns)
      ip link set lo up
      # In a user namespace "root" is the invoking user: chronyd cannot switch to _chrony.
      chrony_user=(-u root)
      ;;
  esac
}

# bench_cleanup: SIGTERM to each process we started, SIGKILL after 3 s; keeps the raw files
# in SKEW_BENCH_KEEP when set; removes $tmp.
bench_cleanup() {
  local p i
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for i in $(seq 1 30); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ -n "${SKEW_BENCH_KEEP:-}" ]; then
    mkdir -p "$SKEW_BENCH_KEEP" && cp -r "$tmp"/. "$SKEW_BENCH_KEEP"/ &&
      echo "raw results kept in $SKEW_BENCH_KEEP" >&2
  fi
  rm -rf "$tmp"
}

# start_chronyd NAME ADDR PORT [CONFIG LINE...]: a chronyd NTP server on ADDR:PORT (IPv4 only,
# no command port), -x, in the foreground; its PID goes to $pids, its log to $tmp/NAME.log.
start_chronyd() {
  local name=$1 addr=$2 port=$3 line
  shift 3
  {
    echo "allow 127.0.0.0/8"
    echo "bindaddress $addr"
    echo "port $port"
    echo "cmdport 0"
    echo "bindcmdaddress /"
    echo "pidfile $tmp/run/$name.pid"
    for line in "$@"; do echo "$line"; done
  } >"$tmp/$name.conf"
  chronyd -4 -U -x -d "${chrony_user[@]}" -f "$tmp/$name.conf" </dev/null >"$tmp/$name.log" 2>&1 &
  pids+=($!)
}

# wait_ready ADDR:PORT STRATUM: waits (at most 20 s) until the server answers `skew probe` ok
# at STRATUM (synchronized); else prints the chronyd logs and exits.
wait_ready() {
  local target=$1 stratum=$2 i out
  for i in $(seq 1 100); do
    out=$("$SKEW" probe --json -n 1 --timeout 200ms "$target" 2>/dev/null || true)
    if python3 -c '
import json, sys
p = json.loads(sys.argv[1])["probes"][0]
sys.exit(0 if p["status"] == "ok" and p["stratum"] == int(sys.argv[2]) else 1)' "$out" "$stratum" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  echo "$0: $target not synchronized at stratum $stratum within 20 s; logs:" >&2
  cat "$tmp"/*.log >&2
  exit 1
}
