#!/usr/bin/env bash
# skiff.sh — the two commands of the README.
#   ./skiff.sh demo   install what is missing, build, run the main job: a UDP
#                     echo service on skiff over AF_XDP in a namespace/veth pair
#                     it creates, driven by sockperf from the kernel side, next to
#                     the same service on the kernel's sockets (needs root)
#   ./skiff.sh test   install what is missing, build, run every test suite
#   ./skiff.sh loop-demo  two stacks in one process over the loop driver
# BUILD_DIR (default build) selects the build directory.
set -euo pipefail
cd "$(dirname "$0")"
BUILD_DIR=${BUILD_DIR:-build}

build() {
  bash tools/deps.sh
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    meson setup "$BUILD_DIR" --buildtype=debugoptimized >/dev/null
  fi
  ninja -C "$BUILD_DIR" >/dev/null
}

case "${1:-}" in
  demo)
    build
    shift
    if [ "$(id -u)" -ne 0 ]; then
      echo "skiff.sh demo: needs root (network namespaces, XDP); try: sudo $0 demo" >&2
      exit 2
    fi
    exec bash bench/veth_bench.sh --echo "$BUILD_DIR/tools/skiff-echo" --variants afxdp,kernel --seconds 3 "$@"
    ;;
  loop-demo)
    build
    shift
    exec "$BUILD_DIR/tools/skiff-demo" "$@"
    ;;
  test)
    build
    shift
    exec meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2 "$@"
    ;;
  *)
    echo "usage: $0 demo|test|loop-demo" >&2
    exit 2
    ;;
esac
