#!/usr/bin/env bash
# Quick start, command 2: install, build (warnings are errors) and run the whole test suite.
#   --sanitizers   then also (CI does): the suite again under ASan + UBSan, less the tests that
#                  time this machine (labels validate, bench), and each fuzz target for 60 s
#                  (scripts/fuzz.sh; SPARSIM_FUZZ_SECONDS changes it). docs/hardening.md.
set -euo pipefail
cd "$(dirname "$0")/.."
phase() { echo "test.sh: $1 ($(date -u +%T), ${SECONDS}s in)" >&2; }
phase "build ci"
./scripts/build.sh ci >&2
phase "ctest ci"
ctest --preset ci -j "$(nproc)"
if [[ ${1:-} == --sanitizers ]]; then
  phase "build asan"
  ./scripts/build.sh asan >&2
  phase "ctest asan"
  ctest --preset asan -j "$(nproc)" -LE 'validate|bench|nobinary'
  phase "fuzz"
  ./scripts/fuzz.sh -t "${SPARSIM_FUZZ_SECONDS:-60}"
fi
phase "done"
