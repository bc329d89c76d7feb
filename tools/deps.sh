#!/usr/bin/env bash
# tools/deps.sh — install the Debian packages skiff needs, only those missing.
# Idempotent: a machine that has everything runs no apt-get at all.
set -euo pipefail

PKGS=(
  meson ninja-build pkg-config gcc g++ clang llvm libclang-rt-14-dev
  libcmocka-dev libbenchmark-dev
  libdpdk-dev libbpf-dev libxdp-dev bpftool
  python3 python3-scapy tshark tcpdump iproute2 ethtool iputils-ping sockperf
  iperf3 nginx-light redis-server redis-tools wrk curl libpython3.11-testsuite
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "skiff: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
