#!/usr/bin/env python3
"""`sparsim calibrate --gpu` without a CUDA device says so and exits 3, writing nothing.

usage: calibrate_gpu_cli.py SPARSIM WORKDIR
Where a GPU is present this check does not apply: exit 77 (ctest SKIPPED).
"""
import os
import shutil
import subprocess
import sys

sparsim, work = sys.argv[1], sys.argv[2]
if shutil.which("nvidia-smi") and subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0:
    print("SKIPPED: a GPU is present")
    sys.exit(77)
out = os.path.join(work, "gpu-node.yaml")
if os.path.exists(out):
    os.remove(out)
r = subprocess.run([sparsim, "calibrate", "--gpu", "--out", out], capture_output=True, text=True)
ok = r.returncode == 3 and "no CUDA device" in r.stderr and not os.path.exists(out)
print(f"exit {r.returncode}: {r.stderr.strip()}")
sys.exit(0 if ok else 1)
