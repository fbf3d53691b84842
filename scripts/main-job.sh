#!/usr/bin/env bash
# Quick start, command 1: install, build and run the main job — PanGu-Sigma 1.085T on 512 Ascend
# 910: learned-gate MoE (plain heterogeneous, the 6.3x baseline, and on the devices) vs RRE vs
# RRE+offload vs RRE+ECSS, with memory verdicts.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh release >&2
./build/release/sparsim compare scenarios/pangu-sigma/pangu-sigma-512.compare.yaml
