#!/usr/bin/env python3
"""`sparsim train` end to end and its input errors (exit codes of DESIGN.md: 0 ok, 2 bad input).

Usage: train_cli.py SPARSIM CONFIG_DIR WORKDIR [corpus]
  default: synthetic-corpus run (4 steps -> 4 losses, measured JSON + trace) and bad inputs
  corpus:  builds the Debian corpus with scripts/build-corpus.sh and trains 3 steps on it;
           exit 77 (skipped) when fortunes-min / fortunes-zh are not installed.
"""
import json
import os
import subprocess
import sys

sparsim, configs, work = sys.argv[1:4]
mode = sys.argv[4] if len(sys.argv) > 4 else "synthetic"
os.makedirs(work, exist_ok=True)


def run(args, code, *needles):
    p = subprocess.run([sparsim, "train", *args], capture_output=True, text=True, timeout=60)
    out = p.stdout + p.stderr
    if p.returncode != code or any(n not in out for n in needles):
        sys.exit(f"sparsim {' '.join(args)}: exit {p.returncode} (expected {code}, needles {needles})\n{out}")
    return p


if mode == "corpus":
    if not os.path.exists("/usr/share/games/fortunes/tang300"):
        print("SKIPPED: fortunes-zh not installed (scripts/install-deps.sh)")
        sys.exit(77)
    corpus = os.path.join(work, "corpus")
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(configs)))),
                          "scripts", "build-corpus.sh")
    subprocess.run([script, corpus], check=True, env=dict(os.environ, MAX_BYTES="200000"), timeout=60)
    for d in ("code", "en", "zh"):
        assert os.path.getsize(os.path.join(corpus, d + ".txt")) > 50000, d
    out = os.path.join(work, "corpus.json")
    run([os.path.join(configs, "rre-corpus.yaml"), "--set", f"data.corpus={corpus}", "--set", "training.steps=3",
         "--set", "model.hidden=32", "--set", "model.ffn_hidden=64", "--set", "model.seq_len=32",
         "--set", "checkpoint.path=" + os.path.join(work, "c.ckpt"), "--json", out, "--force"],
        0, "3 domains", "step 3/3")
    j = json.load(open(out))
    # 3 losses, starting near ln 258 = 5.55 (uniform prediction over the byte vocabulary)
    assert len(j["losses"]) == 3 and abs(j["losses"][0] - 5.55) < 0.6, j["losses"]
    sys.exit(0)

cfg = os.path.join(configs, "rre-ecss.yaml")
out, trace = os.path.join(work, "m.json"), os.path.join(work, "t.json")
run([cfg, "--set", "training.steps=4", "--json", out, "--trace", trace, "--force"], 0, "step 4/4 loss", "measured")
j = json.load(open(out))
assert j["schema"] == "sparsim.result/1" and j["backend"] == "measured", j
assert j["verdict"] == "runs" and j["feasible"] and j["memory"]["fits"], j  # it ran
assert len(j["losses"]) == 4 and j["step_time_s"] > 0
assert j["breakdown_s"]["host_optimizer"] > 0 and j["breakdown_s"]["h2d"] > 0  # ecss moves experts, host AdamW
assert "expert_fwd" in j["phases_s"] and "host_adamw" in j["phases_s"]
cats = {e.get("cat") for e in json.load(open(trace))["traceEvents"]}
assert {"compute", "ep", "h2d", "d2h", "host_optimizer"} <= cats, cats
# bad input: unknown key with file:line, unknown router listing the simulator's (config/enums.hpp),
# a router the trainer does not implement listing those it does, existing output
bad = os.path.join(work, "bad.yaml")
with open(bad, "w") as f:
    f.write("model:\n  seq_len: 8\n  hidden: 8\n  heads: 2\n  ffn_hidden: 8\n  layers: 1\n  hiden: 3\n"
            "training: {global_batch: 2, steps: 1}\ndata: {corpus: synthetic}\n")
run([bad], 2, "bad.yaml:7", "hiden")
run([cfg, "--set", "model.moe.router=rrr"], 2, "model.moe.router", "unknown router 'rrr'; known: rre, topk, hash, switch")
run([cfg, "--set", "model.moe.router=hash"], 2, "model.moe.router", "router 'hash' is not implemented by the reference trainer; it implements: topk, rre")
run([cfg, "--set", "training.steps=1", "--json", out], 2, "exists")
run([cfg, "--set", "model.heads=5"], 2, "heads")
run([cfg, "--set", "model.moe.domain_data=sorted"], 2, "unknown domain_data 'sorted'; known: grouped, mixed")
run([os.path.join(configs, "topk.yaml"), "--set", "model.moe.domain_data=grouped"], 2, "domain_data applies to router rre")
run([os.path.join(configs, "topk.yaml"), "--set", "model.moe.dispatch=einsum"], 2, "model.moe.dispatch", "expected dispatch index")
run([cfg, "--set", "model.moe.domain_data=grouped", "--set", "training.steps=2"], 0, "step 2/2 loss")
