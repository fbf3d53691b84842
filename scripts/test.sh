#!/usr/bin/env bash
# Quick start, command 2: install, build (warnings are errors) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh ci >&2
ctest --preset ci -j "$(nproc)"
