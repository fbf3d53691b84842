#!/usr/bin/env bash
# Quick start, command 1: install, build and run the main job, printing its summary.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh release >&2
./build/release/sparsim simulate scenarios/dense/gpt3-175b-1024xa100.yaml
