#!/usr/bin/env bash
# Megzawicol set-up: installs what is missing (Debian packages), builds, then runs.
#
#   ./setup.sh run     install + build + run the default scenario (scenarios/default.json)
#   ./setup.sh test    install + build + run the test suite (ctest)
#   ./setup.sh build   install + build only
#
# Environment: BUILD_DIR (default: build), JOBS (default: number of cores),
# MZ_CMAKE_ARGS (extra CMake arguments), MZ_TEST_ARGS (extra ctest arguments).
set -euo pipefail
cd "$(dirname "$0")"

mode=${1:-run}
case "$mode" in run|test|build) ;; *) echo "usage: $0 run|test|build" >&2; exit 2 ;; esac

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
packages=(build-essential cmake ninja-build ccache pkg-config python3
          libboost-dev libboost-program-options-dev libcrypto++-dev nlohmann-json3-dev doctest-dev)
[ "$mode" = test ] && packages+=(tshark)

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
    exec ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" ${MZ_TEST_ARGS:-} ;;
esac
