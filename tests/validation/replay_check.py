#!/usr/bin/env python3
"""validate's gate can still catch a broken model (issue 21): replay a recorded validate run
(tests/data/validate-replay), as is and with the model's GEMM cost scaled by 0.7 and by 1.3.

usage: replay_check.py SPARSIM RECORDED_DIR SHARED_TOLERANCE

As recorded, the replay passes (exit 0). With GEMMs 30 % cheaper or dearer it must fail (exit 1),
and every configuration's predicted step must move the way the perturbation says. A replay
measures nothing, so this test is exact and cannot be noisy.
"""
import re
import shutil
import subprocess
import sys
import tempfile

STEP = re.compile(r"^(\S+(?: \(again\))?)\s+(\d+)\s+step\s+([0-9.]+)\s+([0-9.]+)\s+([+-][0-9.]+)%")


def replay(sparsim, out, tolerance, *extra):
    p = subprocess.run([sparsim, "validate", "--replay", "--out", out, "--shared-tolerance", tolerance, *extra],
                       capture_output=True, text=True)
    steps = {}
    for line in p.stdout.splitlines():
        m = STEP.match(line)
        if m:
            steps[(m.group(1), int(m.group(2)))] = (float(m.group(3)), float(m.group(5)))
    return p.returncode, steps, p.stdout + p.stderr


def main():
    sparsim, recorded, tolerance = sys.argv[1:4]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        out = shutil.copytree(recorded, tmp + "/replay")
        rc, base, text = replay(sparsim, out, tolerance)
        if rc != 0 or len(base) < 7:
            failures.append(f"the recorded run replays with exit {rc} and {len(base)} configurations (expected 0 and 7):\n{text}")
        for factor, direction in (("0.7", -1), ("1.3", +1)):
            rc, steps, text = replay(sparsim, out, tolerance, "--perturb", f"gemm={factor}")
            if rc != 1:
                failures.append(f"gemm={factor}: exit {rc}, expected 1 (the gate missed a 30% error):\n{text}")
            for key, (predicted, _) in base.items():
                moved = steps.get(key, (None,))[0]
                if moved is None or (moved - predicted) * direction <= 0:
                    failures.append(f"gemm={factor}: {key} predicted {predicted} -> {moved}, expected to move {'down' if direction < 0 else 'up'}")
            print(f"gemm x{factor}: exit {rc}; step errors " +
                  ", ".join(f"{k[0]}/{k[1]} {v[1]:+.1f}%" for k, v in steps.items()))
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
