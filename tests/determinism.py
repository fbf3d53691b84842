#!/usr/bin/env python3
"""The same inputs give byte-identical outputs (issue 21, item 5): result JSON, CSV, the table on
stdout, the Chrome trace, the resolved configuration and the HTML report of `simulate`, and the
table, JSON and CSV of `compare`, across runs and across thread settings, under both backends.

Each configuration runs three times, each in a fresh directory with the same relative output
names (so that paths written into the outputs agree), under different environments:
  1. as the caller's environment has it;
  2. OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=1, pinned to one CPU;
  3. OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=4 (more threads than this machine's 2 cores), every CPU.
The simulator itself is single-threaded (no std::thread in sim/, models/, reports/, apps/ but
validate; SimGrid runs its actors one at a time: contexts/nthreads is 1), so its results may not
depend on these; only the trainer and calibration kernels use threads (their measured results
are not deterministic by nature and are not covered). Any byte that differs is a failure: a
timestamp, an address, an unordered container, a thread count leaking into the output.

The scenarios are the shipped kinds at their smallest: dense (GPT-3 175B, 1,024 A100), learned-gate
MoE and RRE+ECSS (PanGu-Sigma on 512 Ascend 910), and the PanGu-Sigma comparison file.

usage: determinism.py SPARSIM SCENARIOS_DIR
"""
import os
import subprocess
import sys
import tempfile

sparsim, scenarios = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
SIMULATE = ["dense/gpt3-175b-1024xa100.yaml", "pangu-sigma/pangu-sigma-moe-512.yaml",
            "pangu-sigma/pangu-sigma-rre-ecss-512.yaml"]
COMPARE = "pangu-sigma/pangu-sigma-512.compare.yaml"


def environments():
    base = dict(os.environ)
    cpus = sorted(os.sched_getaffinity(0))
    one = dict(base, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    four = dict(base, OMP_NUM_THREADS="4", OPENBLAS_NUM_THREADS="4")
    return [("as given", base, None), ("1 thread, 1 cpu", one, {cpus[0]}), ("4 threads", four, set(cpus))]


def run(args, cwd, env, cpus):
    pre = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    r = subprocess.run([sparsim] + args, cwd=cwd, env=env, preexec_fn=pre, capture_output=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: sparsim {' '.join(args)} exited {r.returncode}\n{r.stderr.decode()}")
    return r.stdout


def files(top):
    """Every file under `top`: relative path -> bytes."""
    out = {}
    for d, _, names in os.walk(top):
        for n in names:
            p = os.path.join(d, n)
            out[os.path.relpath(p, top)] = open(p, "rb").read()
    return out


def first_difference(a, b):
    i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
    return f"byte {i}: {a[max(0, i - 40):i + 40]!r} vs {b[max(0, i - 40):i + 40]!r}"


failures = []
cases = []
for s in SIMULATE:
    for backend in ["analytic", "des"]:
        outs = ["--json", "r.json", "--csv", "r.csv", "--resolved", "r.resolved.yaml"]
        if backend == "des":  # the report (gnuplot) once per scenario: it embeds the result and trace
            outs += ["--trace", "r.trace.json", "--report", "report"]
        cases.append((f"simulate {s} ({backend})", ["simulate", os.path.join(scenarios, s), "--backend", backend] + outs))
for backend in ["analytic", "des"]:
    cases.append((f"compare {COMPARE} ({backend})",
                  ["compare", os.path.join(scenarios, COMPARE), "--backend", backend, "--json", "c.json", "--csv", "c.csv"]))

with tempfile.TemporaryDirectory() as tmp:
    for n, (name, args) in enumerate(cases):
        runs = []
        for k, (label, env, cpus) in enumerate(environments()):
            d = os.path.join(tmp, f"case{n}", f"run{k}")
            os.makedirs(d)
            stdout = run(args, d, env, cpus)
            got = files(d)
            got["<stdout>"] = stdout
            runs.append((label, got))
        label0, want = runs[0]
        expected = {"<stdout>", "r.json", "r.csv", "r.resolved.yaml"} if args[0] == "simulate" \
            else {"<stdout>", "c.json", "c.csv"}
        if "--trace" in args:
            expected |= {"r.trace.json", "report/index.html"}
        if not expected <= set(want):
            failures.append(f"{name}: missing outputs {sorted(expected - set(want))}")
        for label, got in runs[1:]:
            if set(got) != set(want):
                failures.append(f"{name}: files {sorted(got)} ({label}) vs {sorted(want)} ({label0})")
            for f in sorted(set(got) & set(want)):
                if got[f] != want[f]:
                    failures.append(f"{name}: {f} differs ({label} vs {label0}), {first_difference(got[f], want[f])}")
        print(f"ok: {name}: {len(want)} outputs identical over {len(runs)} runs"
              if not any(x.startswith(name) for x in failures) else f"FAIL: {name}")

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print("determinism: all outputs byte-identical")
