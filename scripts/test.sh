#!/usr/bin/env bash
# Quick start, command 2: install, build (warnings are errors) and run the whole test suite.
#   --sanitizers   then also (CI does): the suite again under ASan + UBSan, less the tests that
#                  time this machine (labels validate, bench) or run no compiled code
#                  (nobinary), and each fuzz target for 60 s (scripts/fuzz.sh;
#                  SPARSIM_FUZZ_SECONDS changes it). docs/hardening.md.
# Each phase ends with a line of its wall, user and system seconds (stderr).
set -euo pipefail
cd "$(dirname "$0")/.."
TIMEFORMAT="test.sh: %R s wall, %U s user, %S s sys"
phase() { echo "test.sh: $1 ($(date -u +%T))" >&2; }
phase "build ci"
time ./scripts/build.sh ci >&2
phase "ctest ci"
time ctest --preset ci -j "$(nproc)"
if [[ ${1:-} == --sanitizers ]]; then
  phase "build asan"
  time ./scripts/build.sh asan >&2
  phase "ctest asan"
  time ctest --preset asan -j "$(nproc)" -LE 'validate|bench|nobinary'
  phase "fuzz"
  time ./scripts/fuzz.sh -t "${SPARSIM_FUZZ_SECONDS:-60}"
fi
