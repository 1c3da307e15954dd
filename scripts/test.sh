#!/usr/bin/env bash
# skew's test command: installs what the tests need when it is missing (Debian packages,
# non-interactive), then runs the whole suite: formatting, clippy, unit, property and
# integration tests against real NTP peers on loopback.
#
#   scripts/test.sh            everything (what CI runs)
#   SKEW_TEST_NO_INSTALL=1     skip the package check (offline machines that have them)
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests start as real peers or use as references.
#   chrony               chronyd servers, followers and `chronyd -Q` (always run with -x)
#   libfaketime faketime a server whose clock is shifted; REALTIME steps for `skew clocks`
#   ntpsec-ntpdig        a reference client (benchmarks)
#   prometheus           promtool: checks our metrics and alert rules
#   prometheus-node-exporter  reads our textfile metrics back over loopback
#   iproute2 util-linux  network/time namespaces for tests
#   groff-base           groff: every `skew man` page must render without warnings
#   openssl              a test CA and `openssl s_server`, the HTTPS server `skew leap --fetch` is tested against
#   tzdata (tzdata-legacy) leap-seconds.list for `skew leap`; right/UTC for chronyd `leapsectz`
need=()
command -v chronyd >/dev/null 2>&1 || [ -x /usr/sbin/chronyd ] || need+=(chrony)
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || need+=(libfaketime faketime)
command -v ntpdig >/dev/null 2>&1 || need+=(ntpsec-ntpdig)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-node-exporter >/dev/null 2>&1 || need+=(prometheus-node-exporter)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v groff >/dev/null 2>&1 || need+=(groff-base)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ -e /usr/share/zoneinfo/leap-seconds.list ] || need+=(tzdata)
if [ ! -e /usr/share/zoneinfo/right/UTC ]; then
  # The right/ zones are in tzdata up to Debian 12, in tzdata-legacy since Debian 13.
  if apt-cache show tzdata-legacy >/dev/null 2>&1; then need+=(tzdata-legacy); else need+=(tzdata); fi
fi

if [ "${SKEW_TEST_NO_INSTALL:-0}" != 1 ] && [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # Installing chrony or ntpsec must never start a system daemon that would discipline
  # this machine's clock: with no policy-rc.d, forbid service starts during the install.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  echo "scripts/test.sh: installing ${need[*]}" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace
