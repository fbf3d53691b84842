#!/usr/bin/env python3
"""`sparsim plan` against brute force: every plan of a small space evaluated through the loader
(`sparsim sweep`, one grid per tp and pp, the values written as --vary), the fastest that runs
must be the plan the search ranks first, to the last digit. Then its bad input: exit 2 naming
the option.

usage: plan_bruteforce.py SPARSIM SCENARIO DEVICES
"""
import json
import os
import subprocess
import sys
import tempfile

sparsim, scenario, devices = sys.argv[1], sys.argv[2], int(sys.argv[3])
# tiny.yaml: 4 layers, 8 heads, nodes of 4 devices, global batch 16
LAYERS, HEADS, NODE, BATCH = 4, 8, 4, 16

with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "plan.json")
    subprocess.run([sparsim, "plan", scenario, "--devices", str(devices), "--top", "1", "--json", out],
                   check=True, capture_output=True)
    searched = json.load(open(out))["sizes"][0]["best"][0]

    best, where, points = 0.0, None, 0
    for tp in (1, 2, 4, 8, 16):
        if tp > NODE or HEADS % tp:
            continue
        for pp in range(1, LAYERS + 1):
            if LAYERS % pp or devices % (tp * pp):
                continue
            dp = devices // (tp * pp)
            schedules = [("1f1b", 1)] + [("interleaved", v) for v in range(2, LAYERS // pp + 1) if pp > 1 and (LAYERS // pp) % v == 0]
            for schedule, v in schedules:
                f = os.path.join(tmp, f"s-{tp}-{pp}-{v}.json")
                cmd = [sparsim, "sweep", scenario, "--format", "json", "--json", f,
                       "--set", f"cluster.nodes={devices // NODE}", "--set", f"plan.tp={tp}", "--set", f"plan.pp={pp}",
                       "--set", f"plan.dp={dp}", "--set", f"plan.schedule={schedule}", "--set", f"plan.virtual_stages={v}",
                       "--vary", "training.micro_batch=" + ",".join(str(m) for m in (1, 2, 4, 8, 16) if BATCH % (dp * m) == 0),
                       "--vary", "plan.recompute=none,selective,full",
                       "--vary", "plan.sequence_parallel=" + ("false,true" if tp > 1 else "false"),
                       "--vary", "plan.zero=" + ("0,1,2,3" if dp > 1 else "0"),
                       "--vary", "plan.placement=device,offload",
                       "--vary", "plan.host_overlap=none,layers"]
                subprocess.run(cmd, check=True, capture_output=True)
                for p in json.load(open(f))["points"]:
                    points += 1
                    r = p["result"]
                    if r["verdict"] == "runs" and r["tokens_per_s"] > best:
                        best, where = r["tokens_per_s"], (tp, pp, v, p["values"])

print(f"brute force: {points} plans, best {best!r} tokens/s at {where}")
print(f"sparsim plan: {searched['tokens_per_s']!r} tokens/s, {searched['plan']}")
if searched["tokens_per_s"] != best:
    sys.exit("FAIL: the search's best is not the brute force's best")

for args, key in [(["--devices", "10"], "--devices"), (["--devices", "8..x"], "--devices"), (["--tokens", "lots"], "--tokens"),
                  (["--price", "2"], "--price"), (["--top", "0"], "--top")]:
    p = subprocess.run([sparsim, "plan", scenario] + args, capture_output=True, text=True)
    if p.returncode != 2 or key not in p.stderr:
        sys.exit(f"FAIL: sparsim plan {' '.join(args)}: exit {p.returncode}, {p.stderr!r}")
print("bad input: exit 2 naming the option, 5 of 5")

# The plan page: `plan --report DIR` and `report PLAN.json --out DIR` write the same page, with
# the front, the cost curve and the side-by-side breakdowns (tests/report/test_plan_page.cpp checks
# what is on them).
with tempfile.TemporaryDirectory() as tmp:
    plan_json, pages = os.path.join(tmp, "plan.json"), []
    for out, cmd in (("a", [sparsim, "plan", scenario, "--devices", "4..16", "--tokens", "1B", "--price", "2", "--json", plan_json]),
                     ("b", [sparsim, "report", plan_json])):
        d = os.path.join(tmp, out)
        subprocess.run(cmd + (["--report", d] if out == "a" else ["--out", d]), check=True, capture_output=True)
        pages.append(open(os.path.join(d, "index.html")).read())
    for h in ("Time to train against devices", "Cost against time to train", "The best plans side by side", "16 devices"):
        if h not in pages[0]:
            sys.exit(f"FAIL: the plan page lacks '{h}'")
    if pages[0] != pages[1]:
        sys.exit("FAIL: plan --report and report PLAN.json wrote different pages")
print("plan page: plan --report == report PLAN.json, with its front, cost and breakdowns")
