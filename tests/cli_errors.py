#!/usr/bin/env python3
"""The CLI turns bad input into a one-line error naming file:line:column and key, exit code 2,
never a crash or a stack; output files are not overwritten without --force.

usage: cli_errors.py SPARSIM DATA_DIR
"""
import os
import sys
import tempfile

from clitest import Cli

sparsim, data = sys.argv[1], sys.argv[2]
cli = Cli(sparsim)
run, expect, failures = cli.run, cli.expect, cli.failures


d = lambda f: os.path.join(data, f)
# expected: the file, line and column of the mistake (see tests/data/*.yaml) and the key path
expect(["simulate", d("err_unknown_key.yaml")], 2, "err_unknown_key.yaml:9:3", "model.hiden", "unknown key")
expect(["simulate", d("err_wrong_type.yaml")], 2, "err_wrong_type.yaml:8:11", "model.layers")
expect(["simulate", d("err_bad_unit.yaml")], 2, "cluster.network.latency", "parsec")
expect(["simulate", d("err_missing_file.yaml")], 2, "nowhere.yaml")
expect(["simulate", d("err_syntax.yaml")], 2, "YAML syntax error")
expect(["simulate", d("tiny.yaml"), "--set", "plan.tq=2"], 2, "--set plan.tq=2", "plan.tq")
# inputs that crashed sparsim (aborts, SIGFPE) before the fuzzing work; see the files' comments
expect(["simulate", d("err_key_not_scalar.yaml")], 2, "err_key_not_scalar.yaml:18:1", "single value")
expect(["simulate", d("err_int_overflow.yaml")], 2, "err_int_overflow.yaml:12:", "model.heads", "2147483647")
expect(["simulate", d("err_alias.yaml")], 2, "err_alias.yaml:17:35", "aliases")
expect(["simulate", d("err_einsum_rre.yaml")], 2, "err_einsum_rre.yaml:20:15", "model.moe.dispatch", "router topk or switch")
expect(["simulate", d("no-such-file.yaml")], 2, "cannot open")
expect(["simulate", d("tiny.yaml"), "--backend", "magic"], 2, "known: analytic")
expect(["simulate", d("tiny.yaml"), "--bogus"], 2, "bogus")
expect(["simulate", d("tiny.yaml"), "--all-replicas"], 2, "--all-replicas", "--backend des")
expect(["simulate"], 2, "missing the scenario file")
expect(["frobnicate"], 2, "unknown verb")
expect([], 2, "usage")
expect(["simulate", "--help"], 0, "--set")
expect(["simulate", d("tiny.yaml")], 0, "step time", "breakdown")

with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "r.json")
    expect(["simulate", d("tiny.yaml"), "--json", out], 0)
    before = open(out).read()
    expect(["simulate", d("tiny.yaml"), "--json", out, "--set", "plan.zero=1"], 2, "--force")
    if open(out).read() != before:
        failures.append("an existing output file was overwritten without --force")
    expect(["simulate", d("tiny.yaml"), "--json", out, "--force"], 0)
    # the scenario itself is never overwritten, even with --force
    expect(["simulate", d("tiny.yaml"), "--resolved", d("tiny.yaml"), "--force"], 2, "input file")

# validate --published, fit, --replay / --perturb: bad input is exit 2 naming what is wrong
runs = os.path.join(data, "..", "..", "scenarios", "published", "mpt-a100-80gb.runs.yaml")
node = os.path.join(data, "..", "..", "scenarios", "hardware", "dgx-a100-80gb.yaml")
expect(["validate", "--published", d("no-such-set.runs.yaml")], 2, "cannot open")
expect(["validate", "--published", d("tiny.yaml")], 2, "tiny.yaml", "unknown key")
expect(["fit", runs, "--out", "x.yaml"], 2, "--node")
expect(["fit", runs, "--node", node], 2, "--out")
expect(["fit", runs, "--node", node, "--out", node, "--force"], 2, "input file")
expect(["fit", runs, "--node", node, "--out", "x.yaml", "--params", "device.plateau"], 2, "--params", "known: device.gemm.plateau")
expect(["fit", runs, "--node", node, "--out", "x.yaml", "--folds", "1"], 2, "--folds")
expect(["validate", "--perturb", "gemm=1.3"], 2, "--perturb", "--replay")
expect(["validate", "--replay", "--perturb", "gem=2", "--out", data], 2, "known: gemm")
expect(["validate", "--replay", "--out", d("no-such-dir")], 2, "--out", "no directory")

if failures:
    print("\n".join(failures), file=sys.stderr)
    print(f"{len(failures)} failed", file=sys.stderr)
    sys.exit(1)
print("cli errors: all cases passed")
