#!/usr/bin/env bash
# Installs dependencies (as root) and builds sparsim with a CMake preset (default: release).
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
if [[ $(id -u) -eq 0 ]]; then
  ./scripts/install-deps.sh
else
  echo "build.sh: not root, skipping scripts/install-deps.sh (run it as root once)" >&2
fi
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
