#!/usr/bin/env python3
"""Runs one scenario under the given backend and compares its result JSON with a golden file.

usage: golden.py SPARSIM SCENARIO GOLDEN [--backend analytic] [--update]

Numbers must agree to a relative 1e-6 (the model is deterministic; the tolerance absorbs
printing). Strings, booleans and lists must be equal. --update rewrites the golden file
(scripts/regen-golden.sh does that for every scenario).
"""
import json
import math
import os
import subprocess
import sys

REL = 1e-6


def compare(path, want, got, errors):
    if isinstance(want, dict):
        if not isinstance(got, dict):
            errors.append(f"{path}: expected an object")
            return
        for k in sorted(set(want) | set(got)):
            if k not in got:
                errors.append(f"{path}.{k}: missing")
            elif k not in want:
                errors.append(f"{path}.{k}: not in the golden file")
            else:
                compare(f"{path}.{k}", want[k], got[k], errors)
    elif isinstance(want, bool) or isinstance(want, str) or isinstance(want, list):
        if want != got:
            errors.append(f"{path}: expected {want!r}, got {got!r}")
    elif isinstance(want, (int, float)):
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            errors.append(f"{path}: expected a number, got {got!r}")
        elif not math.isclose(want, got, rel_tol=REL, abs_tol=1e-12):
            errors.append(f"{path}: expected {want}, got {got}")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    update = "--update" in sys.argv
    backend = "analytic"
    for a in sys.argv:
        if a.startswith("--backend="):
            backend = a.split("=", 1)[1]
    sparsim, scenario, golden = args
    run = subprocess.run([sparsim, "simulate", scenario, "--backend", backend, "--format", "json"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        print(run.stderr, file=sys.stderr)
        print(f"FAIL: sparsim exited {run.returncode}", file=sys.stderr)
        return 1
    got = json.loads(run.stdout)
    if update:
        os.makedirs(os.path.dirname(golden), exist_ok=True)
        with open(golden + ".tmp", "w") as f:
            json.dump(got, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(golden + ".tmp", golden)
        print(f"updated {golden}")
        return 0
    if not os.path.exists(golden):
        print(f"FAIL: no golden file {golden}; run scripts/regen-golden.sh", file=sys.stderr)
        return 1
    with open(golden) as f:
        want = json.load(f)
    errors = []
    compare("", want, got, errors)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        print(f"FAIL: {scenario} differs from {golden}", file=sys.stderr)
        return 1
    print(f"ok: {scenario} step {got['step_time_s']:.6g} s, {got['tokens_per_s']:.6g} tokens/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
