#!/usr/bin/env bash
# Rewrites tests/golden/ from the current build, for both backends: run after an intended change
# of the model, then read the diff (git diff tests/golden README.md docs) before committing it.
# Also regenerates the README's figures and docs/pangu-sigma.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SPARSIM_BIN:-build/release/sparsim}
for s in scenarios/*/*.yaml; do
  group=$(basename "$(dirname "$s")")
  case "$group" in hardware|models) continue ;; esac
  case "$s" in *.compare.yaml|*.runs.yaml) continue ;; esac
  name=$(basename "$s" .yaml)
  python3 tests/golden.py "$bin" "$s" "tests/golden/$group/$name.json" --update
  grep -q '^# sparsim-test: no-des' "$s" && continue  # planner scale: no DES golden (tests/CMakeLists.txt)
  python3 tests/golden.py "$bin" "$s" "tests/golden/$group/$name.des.json" --backend=des --update
done
# the README's figures come from the same model (ctest readme.figures)
python3 scripts/readme_figures.py --sparsim "$bin"
python3 scripts/pangu_sensitivity.py --sparsim "$bin"
