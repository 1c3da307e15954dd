#!/usr/bin/env bash
# Where `skew probe`'s residual error against chronyd on loopback comes from (see
# docs/benchmarks/probe.md): splits each exchange into its legs with a packet capture.
#
#   bench/probe-residual.sh [SAMPLES]     one `skew probe -n SAMPLES --interval 10ms` (default 100)
#
# Inside a network namespace of its own (needed: it captures on that namespace's lo), it starts
# a chronyd serving the local clock on 127.0.0.1:123 (-x; true offset 0) and an AF_PACKET
# capture of lo with kernel timestamps (SO_TIMESTAMPNS). The capture socket is only read after
# the probe ends, so nobody is woken per packet (a reader blocked in recvmsg adds ~5 µs to each
# packet's path). Each packet is seen twice on lo: leaving (the device's transmit tap, just
# before the driver's software TX timestamp) and arriving (the receive timestamp that the
# receiving socket also gets). It prints a Markdown table of the medians, per sample, of:
#   T2 − T1            request leg: skew's kernel TX timestamp → chronyd's kernel RX timestamp
#   T4 − T3            reply leg:   chronyd's T3 (read in user space before sendmsg) → skew's kernel RX
#   reply tap − T3     how long before the reply reaches lo chronyd read T3
#   reply tap → rx     reply leg measured kernel to kernel
#   T4 − reply rx      (0: skew's T4 is the kernel RX timestamp of that packet)
#   offset θ           skew's per-sample offset (truth: 0)
#   θ with tap T3      θ recomputed with the reply's lo transmit time in place of chronyd's T3
set -euo pipefail

samples=${1:-100}
if ! [[ $samples =~ ^[0-9]+$ ]] || [ "$samples" -lt 4 ] || [ "$samples" -gt 10000 ]; then
  echo "usage: bench/probe-residual.sh [SAMPLES]   (4..10000, default 100)" >&2
  exit 64
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"

if [ -z "${SKEW_BENCH_INSIDE:-}" ]; then
  bench_skew_binary "$repo"
  bench_enter_netns "$0" "$samples"
  echo "bench/probe-residual.sh: needs a network namespace to capture in: $SKEW_BENCH_NO_NETNS_REASON" >&2
  exit 1
fi

bench_setup
start_chronyd truth 127.0.0.1 123 "local stratum 8"
wait_ready 127.0.0.1:123 8

capture_s=$(python3 -c "print($samples * 0.01 + 2)")
python3 - "$capture_s" "$tmp/capture.txt" "$tmp/capture.ready" <<'EOF' &
import socket, struct, sys, time

SO_TIMESTAMPNS, SO_RCVBUFFORCE, ETH_P_ALL = 35, 33, 0x0003
seconds, out_path, ready_path = float(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
s.bind(("lo", 0))
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
open(ready_path, "w").close()
time.sleep(seconds)  # packets queue in the socket; nobody is woken while they flow
s.setblocking(False)

def ntp_ns(b):
    sec, frac = struct.unpack("!II", b)
    return (sec - 2208988800) * 10**9 + ((frac * 10**9) >> 32)

with open(out_path, "w") as out:
    while True:
        try:
            data, anc, _, addr = s.recvmsg(2048, 1024)
        except BlockingIOError:
            break
        ts = next(struct.unpack("qq", d[:16]) for lvl, typ, d in anc
                  if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS)
        ip = data[14:]
        if len(ip) < 28 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
        ntp = ip[ihl + 8:]
        if len(ntp) < 48 or 123 not in (sport, dport):
            continue
        way = "out" if addr[2] == socket.PACKET_OUTGOING else "in"
        kind = "reply" if sport == 123 else "request"
        # for a reply: its receive (T2) and transmit (T3) fields
        t2, t3 = (ntp_ns(ntp[32:40]), ntp_ns(ntp[40:48])) if kind == "reply" else (0, 0)
        out.write(f"{ts[0] * 10**9 + ts[1]} {kind} {way} {t2} {t3}\n")
EOF
pids+=($!)
for _ in $(seq 1 100); do [ -e "$tmp/capture.ready" ] && break; sleep 0.05; done
load=$(cut -d' ' -f1-3 /proc/loadavg)
"$SKEW" probe --json -n "$samples" --interval 10ms 127.0.0.1:123 >"$tmp/probe.json"
wait "${pids[-1]}" || true
unset "pids[-1]" # reaped: its PID must not be signalled again

python3 - "$tmp/capture.txt" "$tmp/probe.json" "$samples" "$load" <<'EOF'
import json, statistics as st, sys

cap = [line.split() for line in open(sys.argv[1])]
probe = json.load(open(sys.argv[2]))["probes"][0]
# Replies are matched to samples by their receive field T2 (±2 ns: NTP fractions round).
replies = {}
for ts, kind, way, t2, t3 in cap:
    if kind == "reply":
        replies.setdefault(int(t2), {})[way] = int(ts)

def reply_for(t2):
    for d in range(-2, 3):
        if t2 + d in replies and len(replies[t2 + d]) == 2:
            return replies[t2 + d]
    return None

legs = {k: [] for k in ["T2 − T1 (request leg)", "T4 − T3 (reply leg)", "reply tap − T3",
                        "reply tap → rx", "T4 − reply rx", "offset θ", "θ with tap T3"]}
for s in probe["samples"]:
    r = reply_for(s["t2_ns"])
    if r is None:
        continue
    legs["T2 − T1 (request leg)"].append(s["t2_ns"] - s["t1_ns"])
    legs["T4 − T3 (reply leg)"].append(s["t4_ns"] - s["t3_ns"])
    legs["reply tap − T3"].append(r["out"] - s["t3_ns"])
    legs["reply tap → rx"].append(r["in"] - r["out"])
    legs["T4 − reply rx"].append(s["t4_ns"] - r["in"])
    legs["offset θ"].append(s["offset_s"] * 1e9)
    legs["θ with tap T3"].append(((s["t2_ns"] - s["t1_ns"]) + (r["out"] - s["t4_ns"])) / 2)

n = len(legs["offset θ"])
print(f"| per sample ({n} of {len(probe['samples'])} matched) | median | p10 | p90 |")
print("|---|---|---|---|")
for k, xs in legs.items():
    if not xs:
        continue
    q = st.quantiles(xs, n=10) if len(xs) > 1 else [xs[0]] * 9
    print(f"| {k} | {st.median(xs) / 1e3:+.2f} µs | {q[0] / 1e3:+.2f} µs | {q[-1] / 1e3:+.2f} µs |")
print()
print(f"skew's result: offset {probe['offset_s'] * 1e6:+.2f} µs, delay {probe['delay_s'] * 1e6:.2f} µs, "
      f"bound [{probe['bound_lo_s'] * 1e6:+.2f}, {probe['bound_hi_s'] * 1e6:+.2f}] µs. "
      f"Command: `bench/probe-residual.sh {sys.argv[3]}`; load average {sys.argv[4]}.")
EOF
