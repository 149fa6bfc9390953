#!/usr/bin/env bash
# Runs the benchmark suite: prints the table and writes bench/results.json.
#
#   bench/run.sh [--quick] [--large] [--only GROUP]... [other megzawicol-bench options]
#
# Builds megzawicol-bench (Release) in $BUILD_DIR (default: build-bench) first, unless
# MZ_BENCH_NO_BUILD=1. Set JSON=path to write the results elsewhere.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="${BUILD_DIR:-$root/build-bench}"
json="${JSON:-$here/results.json}"

if [[ "${MZ_BENCH_NO_BUILD:-0}" != 1 ]]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  gen=()
  command -v ninja >/dev/null && [[ ! -f "$build/CMakeCache.txt" ]] && gen=(-G Ninja)
  cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
  cmake --build "$build" --target megzawicol-bench -j "$(nproc)" >/dev/null
  # The command-line binary only serves the socket-mode check: a failure there is not fatal.
  cmake --build "$build" --target megzawicol -j "$(nproc)" >/dev/null 2>&1 || echo "run.sh: megzawicol did not build; the socket-mode check will skip" >&2
fi

bin="$build/bench/megzawicol-bench"
[[ -x "$bin" ]] || { echo "run.sh: $bin not found (build it, or set BUILD_DIR)" >&2; exit 1; }
exec "$bin" --json "$json" "$@"
