#!/usr/bin/env bash
# Static analysis: clang-tidy (checks in .clang-tidy) on every src/**/*.cpp, then cppcheck
# (suppressions in .cppcheck-suppressions). Exits non-zero on any finding.
#
#   tools/lint.sh                 # uses build/compile_commands.json (configures build/ if needed)
#   MZ_LINT_BUILD=build-dev tools/lint.sh
#   MZ_LINT_JOBS=4 tools/lint.sh  # parallel clang-tidy processes (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."

build="${MZ_LINT_BUILD:-build}"
jobs="${MZ_LINT_JOBS:-$(nproc)}"
tidy="$(command -v clang-tidy-14 || command -v clang-tidy || true)"
[ -n "$tidy" ] || { echo "lint: clang-tidy not found" >&2; exit 2; }
command -v cppcheck >/dev/null || { echo "lint: cppcheck not found" >&2; exit 2; }

# compile_commands.json must list every source file: (re)configure when one is missing.
mapfile -t sources < <(find src -name '*.cpp' | sort)
refresh=0
[ -f "$build/compile_commands.json" ] || refresh=1
if [ "$refresh" = 0 ]; then
  for f in "${sources[@]}"; do
    grep -q "$PWD/$f\"" "$build/compile_commands.json" || { refresh=1; break; }
  done
fi
if [ "$refresh" = 1 ]; then
  echo "lint: configuring $build for compile_commands.json"
  cmake -S . -B "$build" -G Ninja >/dev/null
fi

status=0
echo "lint: clang-tidy on ${#sources[@]} files ($jobs jobs)"
start=$(date +%s)
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# One clang-tidy per file, $jobs at a time; each prints only its findings. GCC-only
# warning flags in the compile commands (a GCC 12 Release build turns off -Wrestrict and
# others) are not findings.
if ! printf '%s\n' "${sources[@]}" |
    xargs -P "$jobs" -n 1 "$tidy" -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option >"$log" 2>&1; then
  status=1
fi
grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^Error while processing' "$log" || true
echo "lint: clang-tidy $( [ $status = 0 ] && echo clean || echo FINDINGS ) in $(( $(date +%s) - start )) s"

start=$(date +%s)
if ! cppcheck --enable=warning,performance,portability --std=c++20 --inline-suppr \
    --suppressions-list=.cppcheck-suppressions --error-exitcode=1 -j "$jobs" --quiet -I include src; then
  status=1
  echo "lint: cppcheck FINDINGS in $(( $(date +%s) - start )) s"
else
  echo "lint: cppcheck clean in $(( $(date +%s) - start )) s"
fi
exit $status
