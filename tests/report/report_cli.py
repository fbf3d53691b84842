#!/usr/bin/env python3
"""`sparsim report` and `simulate --report` end to end, with the real gnuplot: the page is
written, self-contained, names its inputs; bad input exits 2 with the file named; an existing
index.html is kept without --force; a missing gnuplot is a clear run failure (exit 1).

usage: report_cli.py SPARSIM SOURCE_DIR
"""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from clitest import Cli  # noqa: E402

sparsim, src = sys.argv[1], sys.argv[2]
tiny = os.path.join(src, "tests", "data", "tiny.yaml")
cli = Cli(sparsim)
run, expect, failures = cli.run, cli.expect, cli.failures


def check(cond, what):
    if not cond:
        failures.append(what)


with tempfile.TemporaryDirectory() as tmp:
    p = lambda f: os.path.join(tmp, f)
    # two variants of tiny (2 nodes and 4 nodes: 8 and 16 devices), one with a resolved config
    # and a trace next to it
    expect(["simulate", tiny, "--json", p("a.json"), "--resolved", p("a.resolved.yaml")], 0)
    expect(["simulate", tiny, "--set", "cluster.nodes=4", "--set", "plan.dp=4", "--json", p("b.json")], 0)
    with open(p("a.trace.json"), "w") as f:
        f.write('{"traceEvents": []}\n')
    out = p("rep")
    expect(["report", p("a.json"), p("b.json"), "--out", out], 0, "index.html")
    html = open(os.path.join(out, "index.html")).read()
    # expected: breakdown, device memory, host memory, variants and scaling (two device counts)
    # are drawn = 5 images; no measured result, so the scatter is a sentence
    imgs = re.findall(r'<img [^>]*src="data:image/svg\+xml;base64,', html)
    check(len(imgs) == 5, f"expected 5 embedded SVG images, found {len(imgs)}")
    check("No result has backend" in html, "the measured plot is not explained away")
    check(not re.search(r'(src|href)="https?:', html), "the page references the network")
    check("<title>sparsim report" in html, "no title")
    check('<a href="a.trace.json">' in html, "no link to the trace")
    check(os.path.isfile(os.path.join(out, "a.trace.json")), "the trace was not copied next to the page")
    check("resolved configuration" in html and "seq_len" in html, "the resolved config is not embedded")
    check("1.00x" in html, "no ratio to the first result")

    # an existing index.html is kept without --force and replaced with it
    before = open(os.path.join(out, "index.html")).read()
    expect(["report", p("b.json"), "--out", out], 2, "--force")
    check(open(os.path.join(out, "index.html")).read() == before, "index.html overwritten without --force")
    expect(["report", p("b.json"), "--out", out, "--force"], 0)
    check(open(os.path.join(out, "index.html")).read() != before, "--force did not replace index.html")

    # bad input: exit 2, the file and what is wrong are named
    expect(["report", p("nope.json"), "--out", p("r2")], 2, "nope.json", "no such file")
    with open(p("notjson.json"), "w") as f:
        f.write("{\n  \"schema\": oops\n}\n")
    expect(["report", p("notjson.json"), "--out", p("r2")], 2, "notjson.json:2:", "not valid JSON")
    # found by fuzz_result: a number beyond a double was an uncaught exception (abort), not exit 2
    with open(p("huge.json"), "w") as f:
        f.write(open(p("a.json")).read().replace('"step_time_s": ', '"step_time_s": 1e999, "x": ', 1))
    expect(["report", p("huge.json"), "--out", p("r2")], 2, "huge.json:", "out of range")
    with open(p("wrong.json"), "w") as f:
        f.write(open(p("a.json")).read().replace("sparsim.result/1", "sparsim.result/9"))
    expect(["report", p("wrong.json"), "--out", p("r2")], 2, "wrong.json", "key 'schema'", "sparsim.result/9")
    # a schema that is not a string: picking the page threw nlohmann's type_error (exit 1, "run
    # failed") before report::schema_of; now the result reader names it
    with open(p("numschema.json"), "w") as f:
        f.write(open(p("a.json")).read().replace('"sparsim.result/1"', "5"))
    expect(["report", p("numschema.json"), "--out", p("r2")], 2, "numschema.json", "key 'schema'")
    expect(["report", p("a.json")], 2, "--out")
    expect(["report", "--out", p("r2")], 2, "missing the result files")
    with open(p("afile"), "w") as f:
        f.write("x")
    expect(["report", p("a.json"), "--out", p("afile")], 2, "not a directory")
    check(not os.path.exists(p("r2")), "a failed report left a directory behind")
    expect(["report", "--help"], 0, "--out")

    # gnuplot missing: not bad input but a failed run (exit 1), saying what to install
    env = dict(os.environ, PATH=p("empty-path"))
    expect(["report", p("a.json"), "--out", p("r3")], 1, "gnuplot-nox", env=env)

    # simulate --report writes the same page for its one result, and respects --force
    expect(["simulate", tiny, "--report", p("sim")], 0, "step time")
    sim_html = open(os.path.join(p("sim"), "index.html")).read()
    check(sim_html.count("<img ") == 3, "simulate --report: expected 3 images (breakdown, memory x2)")
    check("tiny" in sim_html and "analytic" in sim_html, "simulate --report: scenario/backend not stated")
    check("resolved configuration" in sim_html, "simulate --report: resolved config not embedded")
    expect(["simulate", tiny, "--report", p("sim")], 2, "--force")

for f in failures:
    print("FAIL:", f)
print(f"report_cli: {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
