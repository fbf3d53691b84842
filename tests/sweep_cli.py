#!/usr/bin/env python3
"""`sparsim sweep` end to end: grid size and order, ranges, the CSV and JSON contents (each point is
`simulate` with its values as --set), the report, and bad input (exit 2 naming the key, nothing
written).

usage: sweep_cli.py SPARSIM DATA_DIR
"""
import csv
import io
import json
import os
import re
import sys
import tempfile

from clitest import Cli

sparsim, data = sys.argv[1], sys.argv[2]
tiny = os.path.join(data, "tiny.yaml")  # 2 nodes x 4 devices = 8; tp 2 x pp 2 x dp 2; global batch 16, micro 2
cli = Cli(sparsim)
run, expect, failures = cli.run, cli.expect, cli.failures


def check(cond, what):
    if not cond:
        failures.append(what)


def rows_of(text):
    return list(csv.DictReader(io.StringIO(text)))


# Grid size and order: 2 x 2 = 4 points, the first --vary (cluster.nodes) varying slowest. A point
# runs when devices = 4 * nodes equals tp * pp * dp = 4 * dp, i.e. nodes == dp: (2,2) and (4,4).
r = expect(["sweep", tiny, "--vary", "cluster.nodes=2,4", "--vary", "plan.dp=2,4", "--format", "csv"], 0)
rows = rows_of(r.stdout)
check([(x["cluster.nodes"], x["plan.dp"]) for x in rows] == [("2", "2"), ("2", "4"), ("4", "2"), ("4", "4")],
      f"grid order: {[(x['cluster.nodes'], x['plan.dp']) for x in rows]}")
check([x["verdict"] for x in rows] == ["runs", "infeasible", "infeasible", "runs"],
      f"verdicts: {[x['verdict'] for x in rows]}")

# A geometric range: 16..64*2 = 16, 32, 64. With pp = 2 a step has m = B / (micro 2 x dp 2) = 4, 8, 16
# micro-batches and a bubble of (pp - 1) / (m + pp - 1) of the step, which shrinks: tokens/s grows.
r = expect(["sweep", tiny, "--vary", "training.global_batch=16..64*2", "--format", "csv"], 0)
rows = rows_of(r.stdout)
check([x["training.global_batch"] for x in rows] == ["16", "32", "64"], f"geometric range: {rows}")
tps = [float(x["tokens_per_s"]) for x in rows]
check(tps[0] < tps[1] < tps[2], f"tokens/s should grow with the batch: {tps}")
# An arithmetic range with a unit: 1, 2, 3 us of network latency, carried into each value.
r = expect(["sweep", tiny, "--vary", "cluster.network.latency=1..3+1 us", "--format", "csv"], 0)
check([x["cluster.network.latency"] for x in rows_of(r.stdout)] == ["1 us", "2 us", "3 us"], "arithmetic range with a unit")

# The table: a title that states the order, one row per point, the infeasible point explained.
r = expect(["sweep", tiny, "--vary", "plan.tp=2,4"], 0, "first --vary varies slowest", "plan.tp=4: infeasible:")
check(len([l for l in r.stdout.splitlines() if re.match(r"\s+[24]\s", l)]) == 2, f"table rows:\n{r.stdout}")

with tempfile.TemporaryDirectory() as tmp:
    p = lambda f: os.path.join(tmp, f)
    args = ["sweep", tiny, "--vary", "plan.pp=1,2", "--vary", "plan.dp=2,4", "--set", "plan.zero=1"]
    expect(args + ["--json", p("s.json"), "--csv", p("s.csv"), "--report", p("rep")], 0)
    j = json.load(open(p("s.json")))
    check(j["schema"] == "sparsim.sweep/1", "schema")
    check([v["key"] for v in j["vary"]] == ["plan.pp", "plan.dp"], "vary keys")
    check(j["vary"][0]["values"] == ["1", "2"] and j["vary"][0]["numbers"] == [1, 2], "vary values")
    check(j["set"] == ["plan.zero=1"], "fixed sets")
    check([pt["index"] for pt in j["points"]] == [[0, 0], [0, 1], [1, 0], [1, 1]], "JSON point order")
    # Point 1 is pp=1, dp=4 (tp 2: 2 x 1 x 4 = 8 devices, runs): exactly what simulate says for it.
    sim = run("simulate", tiny, "--set", "plan.zero=1", "--set", "plan.pp=1", "--set", "plan.dp=4", "--format", "json")
    check(j["points"][1]["values"] == {"plan.pp": "1", "plan.dp": "4"}, "point values")
    check(j["points"][1]["result"] == json.loads(sim.stdout), "a point's result is simulate's with its values as --set")
    check([pt["verdict"] for pt in j["points"]] == ["infeasible", "runs", "runs", "infeasible"],
          f"verdicts (2 x pp x dp = 8 at pp=1,dp=4 and pp=2,dp=2): {[pt['verdict'] for pt in j['points']]}")
    rows = rows_of(open(p("s.csv")).read())
    # The CSV carries 9 significant digits (as simulate's): equal within 1e-8 relative.
    st = j["points"][1]["result"]["step_time_s"]
    check(len(rows) == 4 and abs(float(rows[1]["step_time_s"]) - st) <= 1e-8 * st, "the CSV row and the JSON result agree")
    # The report: one plot per varied key, both with two values.
    html = open(os.path.join(p("rep"), "index.html")).read()
    imgs = re.findall(r'<img [^>]*src="data:image/svg\+xml;base64,', html)
    check(len(imgs) == 2, f"expected 2 plots (one per varied key), found {len(imgs)}")
    # `report` reads the sweep JSON back into the same page.
    expect(["report", p("s.json"), "--out", p("rep2")], 0)
    check(open(os.path.join(p("rep2"), "index.html")).read() == html, "report SWEEP.json gives the sweep's page")
    # Outputs are kept without --force, replaced with it; the scenario never.
    before = open(p("s.csv")).read()
    expect(args + ["--csv", p("s.csv")], 2, "--force")
    check(open(p("s.csv")).read() == before, "the CSV was overwritten without --force")
    expect(args + ["--csv", p("s.csv"), "--force"], 0)
    expect(args + ["--csv", tiny, "--force"], 2, "input file")

    # The DES backend, each point in its own process.
    r = expect(["sweep", tiny, "--vary", "cluster.network.latency=1 us,2 us", "--backend", "des", "--format", "json"], 0)
    check([pt["result"]["backend"] for pt in json.loads(r.stdout)["points"]] == ["des", "des"], "des backend")

    # Bad input: exit 2, the key named, nothing on stdout, no file written.
    bad = [
        (["--vary", "plan.tp=4..1+1"], ["plan.tp", "greater than the end"]),
        (["--vary", "plan.tp=1..8*1"], ["plan.tp", "factor > 1"]),
        (["--vary", "plan.tp=1..4+0"], ["plan.tp", "step > 0"]),
        (["--vary", "plan.tp=1..100000+1"], ["plan.tp", "at most 10000"]),
        (["--vary", "plan.tp=1,,2"], ["plan.tp", "empty value"]),
        (["--vary", "cluster.nodes=2,-1"], ["--vary cluster.nodes=-1", "cluster.nodes"]),
        (["--vary", "cluster.node.nic.bandwidth=80 Gbps,-5 Gbps"], ["cluster.node.nic.bandwidth", "-5 Gbps"]),
        (["--vary", "plan.tq=1,2"], ["plan.tq", "unknown key"]),
        (["--vary", "model.heads=8,7"], ["--vary model.heads=7", "must be divisible by heads"]),
        (["--vary", "plan.tp=1,2", "--vary", "plan.tp=4"], ["plan.tp", "varied twice"]),
        (["--vary", "plan.tp=1,2", "--set", "plan.tp=4"], ["plan.tp", "also varied"]),
        (["--vary", "plan.tp=1..200+1", "--vary", "plan.dp=1..100+1"], ["plan.tp: 200 x plan.dp: 100"]),
        (["--vary", "plan.tp"], ["--vary plan.tp", "expected key.path="]),
        ([], ["missing --vary"]),
        (["--vary", "plan.tp=1,2", "--backend", "magic"], ["known: analytic"]),
    ]
    for extra, needles in bad:
        r = expect(["sweep", tiny, *extra, "--json", p("bad.json")], 2, *needles)
        check(r.stdout == "", f"{extra}: printed results before failing")
        check(not os.path.exists(p("bad.json")), f"{extra}: wrote the JSON despite bad input")

# A value that makes a key of the file wrong: its line (tiny-moe.yaml:19:14, "domains: 2") and
# the point (9 experts do not split into 2 domains).
expect(["sweep", os.path.join(data, "tiny-moe.yaml"), "--vary", "model.moe.experts=8,9"], 2, "tiny-moe.yaml:19:14",
       "model.moe.domains", "at the sweep point model.moe.experts=9")

if failures:
    print("\n".join(failures), file=sys.stderr)
    print(f"{len(failures)} failed", file=sys.stderr)
    sys.exit(1)
print("sweep cli: all cases passed")
