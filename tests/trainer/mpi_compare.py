#!/usr/bin/env python3
"""Runs trainer_mpi with 4 ranks and with 1 rank on the same global batch and compares losses.

Expected: identical up to fp32 summation order. Both runs route the same tokens (capacity is
per sequence, RRE tables are per layer), initialise every tensor and expert from the same
seeds, and normalise by the global batch; what differs is the order of additions (GEMM blocking
over 1 vs 4 row blocks, the all-reduce of dense gradients), ~1e-7 relative per step, which AdamW
amplifies little over 8 steps. Tolerance: |l4 - l1| <= 1e-4 * max(1, |l1|) per step.
Usage: mpi_compare.py MPIEXEC TRAINER_MPI ROUTER WORKDIR [KEY=VALUE...]
  (rre domain_data=grouped: each rank reads its experts' domains, the dispatch stays in its
  group of 2 ranks; the step's sequences are the same set on 1 and on 4 ranks; speed_probe=1:
  the ranks meet after each timed step, and rank 0 writes one probe sample per timed step)
"""
import json
import os
import subprocess
import sys

mpiexec, trainer, router, work = sys.argv[1:5]
extra = sys.argv[5:]
args = [f"router={router}", "steps=8", "batch=4", "experts=4", "domains=2", "progress=0", *extra]
tag = "-".join([router] + [e.replace("=", "-") for e in extra])


def run(np):
    out = os.path.join(work, f"losses-{tag}-np{np}.txt")
    files = [f"losses={out}", f"json={out}.json", f"routing={out}.routing.json"]
    cmd = [mpiexec, "--oversubscribe", "--allow-run-as-root", "-np", str(np), trainer, *args, *files]
    env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1", OPENBLAS_NUM_THREADS="1")
    subprocess.run(cmd, check=True, timeout=50, env=env)
    with open(out) as f:
        return [float(x) for x in f.read().split()]


def check_breakdown(np):
    """The measured breakdown adds up to the step; collectives count from their last rank's
    arrival, so rank 0's waits for peers are part of compute, and none with one rank."""
    out = os.path.join(work, f"losses-{tag}-np{np}.txt")
    with open(out + ".json") as f:
        r = json.load(f)
    with open(out + ".routing.json") as f:
        wait = json.load(f)["peer_wait_s"]
    b, step = r["breakdown_s"], r["step_time_s"]
    total = b["compute"] + sum(b["exposed_comm"].values()) + sum(b[k] for k in ("h2d", "d2h", "host_optimizer", "optimizer"))
    print(f"np{np}: step {step:.6f} s, breakdown sums to {total:.6f}, ep {b['exposed_comm']['ep']:.6f}, "
          f"dp {b['exposed_comm']['dp']:.6f}, waits for peers {wait:.6f}")
    if abs(total - step) > 1e-6 * step:
        sys.exit(f"np{np}: the breakdown does not add up to the step")
    if min(b["exposed_comm"]["ep"], b["exposed_comm"]["dp"], wait) < 0 or wait > b["compute"]:
        sys.exit(f"np{np}: waits outside [0, compute] or a negative collective time")
    if (np == 1) != (wait == 0 and b["exposed_comm"]["dp"] == 0):
        sys.exit(f"np{np}: one rank has neither waits nor a gradient all-reduce; several ranks have both")


l4, l1 = run(4), run(1)
check_breakdown(4)
check_breakdown(1)
if len(l1) != 8 or len(l4) != 8:
    sys.exit(f"expected 8 losses, got {len(l1)} and {len(l4)}")
bad = 0
for i, (a, b) in enumerate(zip(l1, l4)):
    ok = abs(a - b) <= 1e-4 * max(1.0, abs(a))
    print(f"step {i + 1}: np1 {a:.8f} np4 {b:.8f} {'ok' if ok else 'MISMATCH'}")
    bad += not ok
if l1[-1] >= l1[0]:
    sys.exit("loss did not decrease")
if "speed_probe=1" in extra:
    # rank 0's probe after each timed step (8 steps, 1 warm-up)
    for np in (4, 1):
        with open(os.path.join(work, f"losses-{tag}-np{np}.txt.routing.json")) as f:
            g = json.load(f).get("speed_probe_gflops", [])
        print(f"np{np}: speed probe {' '.join(f'{x:.0f}' for x in g)} GFLOP/s")
        if len(g) != 7 or min(g) <= 0:
            sys.exit(f"np{np}: expected 7 positive speed-probe samples")
sys.exit(1 if bad else 0)
