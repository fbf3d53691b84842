#!/usr/bin/env python3
"""Runs trainer_mpi with 4 ranks and with 1 rank on the same global batch and compares losses.

Expected: identical up to fp32 summation order. Both runs route the same tokens (capacity is
per sequence, RRE tables are per layer), initialise every tensor and expert from the same
seeds, and normalise by the global batch; what differs is the order of additions (GEMM blocking
over 1 vs 4 row blocks, the all-reduce of dense gradients), ~1e-7 relative per step, which AdamW
amplifies little over 8 steps. Tolerance: |l4 - l1| <= 1e-4 * max(1, |l1|) per step.
Usage: mpi_compare.py MPIEXEC TRAINER_MPI ROUTER WORKDIR [KEY=VALUE...]
  (rre domain_data=grouped: each rank reads its experts' domains, the dispatch stays in its
  group of 2 ranks; the step's sequences are the same set on 1 and on 4 ranks)
"""
import os
import subprocess
import sys

mpiexec, trainer, router, work = sys.argv[1:5]
extra = sys.argv[5:]
args = [f"router={router}", "steps=8", "batch=4", "experts=4", "domains=2", "progress=0", *extra]
tag = "-".join([router] + [e.replace("=", "-") for e in extra])


def run(np):
    out = os.path.join(work, f"losses-{tag}-np{np}.txt")
    cmd = [mpiexec, "--oversubscribe", "--allow-run-as-root", "-np", str(np), trainer, *args, f"losses={out}"]
    env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1", OPENBLAS_NUM_THREADS="1")
    subprocess.run(cmd, check=True, timeout=50, env=env)
    with open(out) as f:
        return [float(x) for x in f.read().split()]


l4, l1 = run(4), run(1)
if len(l1) != 8 or len(l4) != 8:
    sys.exit(f"expected 8 losses, got {len(l1)} and {len(l4)}")
bad = 0
for i, (a, b) in enumerate(zip(l1, l4)):
    ok = abs(a - b) <= 1e-4 * max(1.0, abs(a))
    print(f"step {i + 1}: np1 {a:.8f} np4 {b:.8f} {'ok' if ok else 'MISMATCH'}")
    bad += not ok
if l1[-1] >= l1[0]:
    sys.exit("loss did not decrease")
sys.exit(1 if bad else 0)
