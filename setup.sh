#!/usr/bin/env bash
# Megzawicol set-up: installs what is missing (Debian packages), builds, then runs.
#
#   ./setup.sh run     install + build + run the default scenario (scenarios/default.json)
#   ./setup.sh test    install + build + run the test suite (ctest); with CI=true or
#                      MZ_FULL=1 also static analysis (tools/lint.sh: clang-tidy and
#                      cppcheck, failing on any finding), a sanitizer build (ASan+UBSan,
#                      build-asan/) with its ctest, then the libFuzzer targets (clang,
#                      build-fuzz/), each run for MZ_FUZZ_TIME seconds (default 20)
#   ./setup.sh build   install + build only
#
# Environment: BUILD_DIR (default: build), JOBS (default: number of cores),
# MZ_CMAKE_ARGS (extra CMake arguments), MZ_TEST_ARGS (extra ctest arguments),
# MZ_FULL=1 (the sanitizer and fuzz passes of `test`, always on when CI=true),
# MZ_FUZZ_TIME (seconds per fuzz target, default 20), MZ_ASAN_TEST_ARGS (ctest arguments of
# the sanitizer pass, default: -LE "integrity|soak"; the soak's memory bound is checked in the
# regular pass, since ASan's quarantine grows RSS by design).
set -euo pipefail
cd "$(dirname "$0")"

mode=${1:-run}
case "$mode" in run|test|build) ;; *) echo "usage: $0 run|test|build" >&2; exit 2 ;; esac

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
packages=(build-essential cmake ninja-build ccache pkg-config python3
          libboost-dev libboost-program-options-dev libcrypto++-dev nlohmann-json3-dev doctest-dev)
[ "$mode" = test ] && packages+=(tshark chromium)
full=false
if [ "$mode" = test ] && { [ "${CI:-}" = true ] || [ "${MZ_FULL:-}" = 1 ]; }; then
  full=true
  packages+=(clang libclang-rt-14-dev)  # libFuzzer and clang's sanitizer runtimes
  packages+=(clang-tidy cppcheck)        # static analysis (tools/lint.sh)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer "no" without a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake_args=(-S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo)
command -v ccache >/dev/null && cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
[ "${CI:-}" = true ] && cmake_args+=(-DMZ_WERROR=ON)
# shellcheck disable=SC2206
cmake_args+=(${MZ_CMAKE_ARGS:-})
echo "== configuring ($BUILD_DIR)"
cmake "${cmake_args[@]}" >/dev/null
echo "== building with $JOBS jobs"
cmake --build "$BUILD_DIR" -j "$JOBS"

case "$mode" in
  run)
    exec "$BUILD_DIR/sim/megzawicol" run scenarios/default.json --out out/default ;;
  test)
    # shellcheck disable=SC2086
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" ${MZ_TEST_ARGS:-}
    $full || exit 0

    # (0) Static analysis first (fails fast on a finding): clang-tidy with .clang-tidy and
    # cppcheck with .cppcheck-suppressions, on the regular build's compile_commands.json.
    echo "== static analysis (tools/lint.sh)"
    t0=$SECONDS
    MZ_LINT_BUILD="$BUILD_DIR" MZ_LINT_JOBS="$JOBS" tools/lint.sh
    echo "== static analysis: $((SECONDS - t0)) s"

    # (a) The suite again under AddressSanitizer + UndefinedBehaviorSanitizer (g++, Debug).
    ASAN_DIR=${ASAN_BUILD_DIR:-build-asan}
    asan_args=(-S . -B "$ASAN_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMZ_SANITIZE=ON -DMZ_BUILD_BENCH=OFF)
    command -v ccache >/dev/null && asan_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    [ "${CI:-}" = true ] && asan_args+=(-DMZ_WERROR=ON)
    echo "== sanitizer pass: configuring ($ASAN_DIR)"
    t0=$SECONDS
    cmake "${asan_args[@]}" >/dev/null
    cmake --build "$ASAN_DIR" -j "$JOBS"
    # shellcheck disable=SC2086
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
      ctest --test-dir "$ASAN_DIR" --output-on-failure -j "$JOBS" ${MZ_ASAN_TEST_ARGS:--LE "integrity|soak"}
    echo "== sanitizer pass: $((SECONDS - t0)) s"

    # (b) The libFuzzer targets (clang, ASan + UBSan), each for a bounded time.
    FUZZ_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
    fuzz_time=${MZ_FUZZ_TIME:-20}
    # Asserts stay on (no NDEBUG), Boost's included: Beast's own checks run under the fuzzers
    # too (src/l7/http.cpp keeps from Beast 1.74 the buffer shapes its chunk parser asserts on).
    fuzz_args=(-S . -B "$FUZZ_DIR" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo
               "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" -DMZ_BUILD_FUZZ=ON -DMZ_BUILD_TESTS=OFF -DMZ_BUILD_TOOLS=OFF -DMZ_BUILD_BENCH=OFF)
    command -v ccache >/dev/null && fuzz_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    echo "== fuzz pass: configuring ($FUZZ_DIR)"
    t0=$SECONDS
    cmake "${fuzz_args[@]}" >/dev/null
    cmake --build "$FUZZ_DIR" -j "$JOBS" --target mz_fuzzers
    # Each corpus replayed once, then each target fuzzed for $fuzz_time s. New inputs go to
    # $FUZZ_DIR/corpus/<target> (the committed seeds stay as they are), crashes to
    # $FUZZ_DIR/artifacts/.
    ctest --test-dir "$FUZZ_DIR/tests/fuzz" --output-on-failure -j "$JOBS"
    mkdir -p "$FUZZ_DIR/artifacts"
    failed=()
    for seeds in tests/fuzz/corpus/*/; do
      t=$(basename "$seeds")
      mkdir -p "$FUZZ_DIR/corpus/$t"
      echo "== fuzzing $t for ${fuzz_time}s"
      if ! "$FUZZ_DIR/tests/fuzz/fuzz_$t" -max_total_time="$fuzz_time" -timeout=10 -rss_limit_mb=2048 \
           -print_final_stats=1 -artifact_prefix="$FUZZ_DIR/artifacts/$t-" \
           "$FUZZ_DIR/corpus/$t" "$seeds" >"$FUZZ_DIR/artifacts/$t.log" 2>&1; then
        tail -n 60 "$FUZZ_DIR/artifacts/$t.log"
        failed+=("$t")
      else
        grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$FUZZ_DIR/artifacts/$t.log" | tail -n 1 || true
      fi
    done
    echo "== fuzz pass: $((SECONDS - t0)) s"
    if [ ${#failed[@]} -gt 0 ]; then
      echo "== fuzz targets that failed: ${failed[*]} (inputs in $FUZZ_DIR/artifacts/)" >&2
      exit 1
    fi ;;
esac
