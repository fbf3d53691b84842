#!/usr/bin/env python3
"""Bad input to validate's tolerances and trainer_mpi's keys: exit 2, the key named, nothing run.

Usage: bad_input.py SPARSIM TRAINER_MPI WORKDIR
"""
import os
import subprocess
import sys

sparsim, trainer, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
cases = [
    # --shared-tolerance must be > 0, like --tolerance
    ([sparsim, "validate", "--shared-tolerance", "0", "--out", os.path.join(work, "v")], "--shared-tolerance", "expected > 0"),
    ([sparsim, "validate", "--tolerance", "-1", "--out", os.path.join(work, "v")], "--tolerance", "expected > 0"),
    # trainer_mpi (run without mpirun: a singleton MPI process) takes speed_probe=0 or 1 only
    ([trainer, "speed_probe=yes", "steps=1"], "speed_probe", "expected 0 or 1, found 'yes'"),
    # routers, placements and domain layouts by the simulator's names (config/enums.hpp); of the
    # routers the trainer implements topk and rre (and dense: no router)
    ([trainer, "router=rrr", "steps=1"], "router", "unknown router 'rrr'; known: rre, topk, hash, switch"),
    ([trainer, "router=switch", "steps=1"], "router", "router 'switch' is not implemented by the reference trainer; it implements: topk, rre"),
    ([trainer, "placement=host", "steps=1"], "placement", "unknown placement 'host'; known: device, offload, ecss"),
    ([trainer, "domain_data=sorted", "steps=1"], "domain_data", "unknown domain_data 'sorted'; known: grouped, mixed"),
]
bad = 0
for cmd, key, expected in cases:
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    ok = p.returncode == 2 and key in p.stderr and expected in p.stderr
    print(f"{' '.join(os.path.basename(c) if i == 0 else c for i, c in enumerate(cmd))}: exit {p.returncode}, "
          f"{p.stderr.strip()!r} {'ok' if ok else 'WRONG'}")
    bad += not ok
# nothing ran: validate made no calibration
if os.path.exists(os.path.join(work, "v", "calibrate.log")):
    print("validate calibrated despite bad input")
    bad += 1
sys.exit(1 if bad else 0)
