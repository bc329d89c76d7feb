#!/usr/bin/env bash
# skiff.sh — the two commands of the README.
#   ./skiff.sh demo   install what is missing, build, run the main job
#   ./skiff.sh test   install what is missing, build, run every test suite
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
    exec "$BUILD_DIR/tools/skiff-demo" "$@"
    ;;
  test)
    build
    shift
    exec meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2 "$@"
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
