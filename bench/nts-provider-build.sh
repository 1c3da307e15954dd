#!/usr/bin/env bash
# Cold build time and binary size of rustls 0.23 with the *ring* provider and with
# aws-lc-rs, on this machine (issue 17: "choose the ring or aws-lc-rs provider and say why,
# including the build time on this 2-core machine").
#
#   bench/nts-provider-build.sh
#
# Each provider gets a scratch crate (a TLS 1.3 ClientConfig, as skew-nts-io builds) with its
# own target directory, fetched first so only compilation is timed; then a cold debug build
# and a cold release build. Prints a Markdown table; the load average before and after
# (other builds on the machine make every figure longer).
set -euo pipefail
work=$(mktemp -d /tmp/skew-provider-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "| provider | cold debug build | cold release build | release binary |"
echo "|---|---|---|---|"
for p in ring aws_lc_rs; do
  feat=${p//_/-}
  d=$work/tls-$feat
  mkdir -p "$d/src"
  cat >"$d/Cargo.toml" <<TOML
[package]
name = "tls-$feat"
version = "0.1.0"
edition = "2021"

[dependencies]
rustls = { version = "0.23", default-features = false, features = ["std", "$feat"] }
TOML
  cat >"$d/src/main.rs" <<RS
#![allow(deprecated)]
use std::sync::Arc;
fn main() {
    let provider = Arc::new(rustls::crypto::$p::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13]).unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    println!("{:?}", cfg.alpn_protocols);
}
RS
  (cd "$d" && cargo fetch -q)
  t0=$EPOCHREALTIME
  (cd "$d" && cargo build -q 2>/dev/null)
  t1=$EPOCHREALTIME
  rm -rf "$d/target"
  (cd "$d" && cargo build -q --release 2>/dev/null)
  t2=$EPOCHREALTIME
  size=$(stat -c %s "$d/target/release/tls-$feat")
  python3 -c "print(f'| $feat | {$t1 - $t0:.1f} s | {$t2 - $t1:.1f} s | {$size / 1e6:.2f} MB |')"
done
echo
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ); $(nproc) × $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); $(rustc --version); load before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg)"
