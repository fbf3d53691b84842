#!/usr/bin/env python3
"""Prediction vs published figures (issue 4): prints a Markdown table with the error of each
prediction, for the analytic and the discrete-event backend. Nothing is fitted: the scenarios
carry their assumptions, and the hardware files their sources.

usage: scripts/published_figures.py [SPARSIM]   (default build/release/sparsim)
"""
import json
import os
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sparsim = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "release", "sparsim")


def run(scenario, backend):
    r = subprocess.run([sparsim, "simulate", os.path.join(root, "scenarios", scenario), "--backend", backend,
                        "--format", "json"], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def samples_per_s(result, batch):
    return batch / result["step_time_s"]


rows = []
for backend in ("analytic", "des"):
    ecss = run("pangu-sigma/pangu-sigma-rre-ecss-512.yaml", backend)
    offload = run("pangu-sigma/pangu-sigma-rre-offload-512.yaml", backend)
    moe = run("deepspeed-moe/ds-moe-1.3b-128e-128xa100.yaml", backend)
    dense = run("deepspeed-moe/ds-dense-6.7b-128xa100.yaml", backend)
    rows += [
        ("PanGu-Σ RRE+ECSS, 512 Ascend 910: tokens/s", "§0, §1.1", 69905, ecss["tokens_per_s"], backend),
        ("PanGu-Σ ECSS / plain heterogeneous: throughput ratio", "§0", 6.3,
         ecss["tokens_per_s"] / offload["tokens_per_s"], backend),
        ("DeepSpeed-MoE 1.3B+MoE-128, 128 A100: samples/s", "§13", 372, samples_per_s(moe, 512), backend),
        ("DeepSpeed 6.7B dense, 128 A100: samples/s", "§13", 70, samples_per_s(dense, 1024), backend),
        ("DeepSpeed-MoE vs dense: throughput ratio", "§13", 372 / 70,
         samples_per_s(moe, 512) / samples_per_s(dense, 1024), backend),
    ]

print("| published figure | source (published-figures.md) | published | backend | predicted | error |")
print("|---|---|---:|---|---:|---:|")
for name, src, pub, pred, backend in rows:
    fmt = "{:,.2f}" if pub < 10 else "{:,.0f}"
    print(f"| {name} | {src} | {fmt.format(pub)} | {backend} | {fmt.format(pred)} | {100 * (pred - pub) / pub:+.0f}% |")
