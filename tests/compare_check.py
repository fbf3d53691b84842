#!/usr/bin/env python3
"""`sparsim compare FILE` shows each variant's own result: the JSON it writes equals, number for
number, `sparsim simulate` of that variant's scenario file, and the table names every variant
and the baseline ratio 1.00x, has one verdict row (each variant's verdict, as its JSON says) and
says under it why each variant that does not run does not.

usage: compare_check.py SPARSIM COMPARE_FILE
"""
import json
import math
import os
import re
import subprocess
import sys
import tempfile

sparsim, cmp_file = sys.argv[1], sys.argv[2]
# The variants block of a comparison file: "  name: file.yaml" lines under "variants:".
variants, baseline, inside = {}, None, False
for line in open(cmp_file):
    if line.startswith("baseline:"):
        baseline = line.split(":", 1)[1].strip()
    if line.startswith("variants:"):
        inside = True
        continue
    m = re.match(r"^  ([\w-]+):\s*(\S+\.yaml)\s*$", line)
    if inside and m:
        variants[m.group(1)] = os.path.join(os.path.dirname(cmp_file), m.group(2))
    elif inside and line.strip() and not line.startswith(" "):
        inside = False

with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "c.json")
    r = subprocess.run([sparsim, "compare", cmp_file, "--json", out], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: compare exited {r.returncode}\n{r.stderr}")
    results = json.load(open(out))

failures = []
if len(results) != len(variants):
    failures.append(f"{len(results)} results for {len(variants)} variants")
for (name, path), got in zip(variants.items(), results):
    s = subprocess.run([sparsim, "simulate", path, "--format", "json"], capture_output=True, text=True)
    want = json.loads(s.stdout)
    for key in ("step_time_s", "tokens_per_s", "mfu"):
        if not math.isclose(want[key], got[key], rel_tol=1e-12):
            failures.append(f"{name}.{key}: compare {got[key]} != simulate {want[key]}")
    if want["memory"]["fits"] != got["memory"]["fits"]:
        failures.append(f"{name}: memory verdicts differ")
    if (want["verdict"], want["verdict_reason"]) != (got["verdict"], got["verdict_reason"]):
        failures.append(f"{name}: verdict {got['verdict']} ({got['verdict_reason']}) != simulate's {want['verdict']}")
    text = {"does-not-fit": "does not fit", "infeasible": "infeasible plan"}.get(got["verdict"])
    if text and f"\n{name}: {text} ({got['verdict_reason']})\n" not in r.stdout:
        failures.append(f"{name}: the table does not say why it does not run")
    if name not in r.stdout:
        failures.append(f"{name} missing from the table")
# the verdict row: a 22-column label, then each variant's short verdict right-aligned in 16
short = {"runs": "runs", "does-not-fit": "does not fit", "infeasible": "infeasible"}
row = "verdict".ljust(22) + "".join(short[g["verdict"]].rjust(16) for g in results)
if row not in r.stdout.splitlines():
    failures.append(f"no verdict row {row!r}")
if baseline and "1.00x" not in r.stdout:
    failures.append("the baseline's ratio 1.00x is missing")
if failures:
    sys.exit("FAIL:\n" + "\n".join(failures))
print(r.stdout)
print(f"ok: {len(results)} variants of {cmp_file}")
