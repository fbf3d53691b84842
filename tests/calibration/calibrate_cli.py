#!/usr/bin/env python3
"""`sparsim calibrate --cpu --quick --out F` writes a node file that `simulate` loads.

usage: calibrate_cli.py SPARSIM TINY_SCENARIO WORKDIR
Checks: exit 0; the file exists and names its provenance (CPU model, OpenBLAS, date, method);
simulate with --set cluster.node=F (and the plan fitted to 1 device per node) exits 0 with a
positive step time; an existing file is not replaced without --force (exit 2).
"""
import json
import os
import subprocess
import sys

sparsim, tiny, work = sys.argv[1], sys.argv[2], sys.argv[3]
out = os.path.join(work, "calibrated-node.yaml")
if os.path.exists(out):
    os.remove(out)
failures = []

r = subprocess.run([sparsim, "calibrate", "--cpu", "--quick", "--out", out], capture_output=True, text=True)
sys.stderr.write(r.stderr)
if r.returncode != 0:
    sys.exit(f"calibrate exited {r.returncode}")
text = open(out).read()
for needle in ("source:", "cpu: ", "blas: OpenBLAS", "method:", "gemm_efficiency:", "median:", "triad:", "adamw_fp32:"):
    if needle not in text:
        failures.append(f"written file lacks {needle!r}")

# tiny.yaml: tp 2 x pp 2 x dp 2 = 8 devices; the calibrated node has 1 device, so 8 nodes.
r = subprocess.run([sparsim, "simulate", tiny, "--set", f"cluster.node={out}", "--set", "cluster.nodes=8",
                    "--format", "json"], capture_output=True, text=True)
if r.returncode != 0:
    failures.append(f"simulate exited {r.returncode}: {r.stderr}")
else:
    res = json.loads(r.stdout)
    if not res["step_time_s"] > 0:
        failures.append(f"step time {res['step_time_s']}")
    print(f"simulated step {res['step_time_s']:.4g} s on the calibrated node")

r = subprocess.run([sparsim, "calibrate", "--cpu", "--quick", "--out", out], capture_output=True, text=True)
if r.returncode != 2:
    failures.append(f"existing output without --force: exit {r.returncode}, expected 2")

# --model-shapes takes a trainer config; a bad one is an input error (exit 2) naming the key,
# before anything is measured
bad = os.path.join(work, "bad-trainer.yaml")
with open(bad, "w") as fh:
    fh.write("name: x\nmodel:\n  hidden: -3\n")
r = subprocess.run([sparsim, "calibrate", "--cpu", "--quick", "--force", "--model-shapes", bad, "--out", out],
                   capture_output=True, text=True)
if r.returncode != 2 or "bad-trainer.yaml:" not in r.stderr:
    failures.append(f"bad --model-shapes file: exit {r.returncode}, stderr {r.stderr.strip()!r}, expected 2 naming the file")

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
