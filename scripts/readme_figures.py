#!/usr/bin/env python3
"""Regenerates every figure of README.md from the code: the main job's output and the accuracy
table. The README marks each generated block with <!-- begin NAME --> ... <!-- end NAME -->.

usage: scripts/readme_figures.py [--sparsim BIN] [--check] [--print]
  --check   exit 1 when README.md differs from what the code gives now (ctest readme.figures)
  --print   print the blocks instead of writing README.md

Nothing here is fitted or hand-copied: published runs through `validate --published`, the
leave-one-out error from the provenance `sparsim fit` wrote into the A100 file, the reference
trainer's errors by replaying the recorded validate run in tests/data/validate-replay on the
model as it is now, and published figures by simulating their scenarios (published-figures.md
names the source of each).
"""
import argparse
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def run(sparsim, *args):
    return subprocess.run([sparsim, *args], cwd=ROOT, capture_output=True, text=True)


def simulate(sparsim, scenario):
    p = run(sparsim, "simulate", f"scenarios/{scenario}", "--format", "json")
    p.check_returncode()
    return json.loads(p.stdout)


def main_job(sparsim):
    p = run(sparsim, "compare", "scenarios/pangu-sigma/pangu-sigma-512.compare.yaml")
    p.check_returncode()
    return "```\n" + p.stdout.rstrip() + "\n```"


def published_runs(sparsim):
    """(summary line of validate --published, leave-one-out from the node file's provenance)"""
    p = run(sparsim, "validate", "--published", "scenarios/published/mpt-a100-80gb.runs.yaml")
    summary = re.search(r"MAPE ([0-9.]+)%, median ([0-9.]+)%, worst ([+-][0-9.]+)% \(([^)]*)\); memory verdicts wrong: (\d+) of (\d+)",
                        p.stdout)
    node = (ROOT / "scenarios/hardware/dgx-a100-80gb.yaml").read_text()
    loo = re.search(r"5-fold ([0-9.]+)%, leave-one-out ([0-9.]+)%", node)
    return summary.groups(), loo.groups()


def trainer(sparsim):
    """Per configuration: (name, ranks, step error %) of the recorded validate run, replayed."""
    with tempfile.TemporaryDirectory() as tmp:
        out = shutil.copytree(ROOT / "tests/data/validate-replay", tmp + "/replay")
        p = run(sparsim, "validate", "--replay", "--out", out, "--shared-tolerance", "0.25")
    rows = re.findall(r"^(\S+)\s+(\d)\s+step\s+[0-9.]+\s+[0-9.]+\s+([+-][0-9.]+)%", p.stdout, re.M)
    return [(n, int(r), float(e)) for n, r, e in rows]


def accuracy(sparsim):
    (mape, median, worst, worst_row, wrong, n), (kfold, loo) = published_runs(sparsim)
    t = trainer(sparsim)
    one = [e for _, r, e in t if r == 1]
    four = [e for _, r, e in t if r > 1]
    ecss = simulate(sparsim, "pangu-sigma/pangu-sigma-rre-ecss-512.yaml")
    offload = simulate(sparsim, "pangu-sigma/pangu-sigma-moe-offload-512.yaml")  # the 6.3x's baseline
    ds_moe = simulate(sparsim, "deepspeed-moe/ds-moe-1.3b-128e-128xa100.yaml")
    ds_dense = simulate(sparsim, "deepspeed-moe/ds-dense-6.7b-128xa100.yaml")
    gpt3 = simulate(sparsim, "dense/gpt3-175b-1024xa100.yaml")
    mixtral = simulate(sparsim, "moe-2024/mixtral-8x7b-64xh100.yaml")
    # Megatron-Core reports model TFLOP/s per GPU: MFU x the H100's 989.4 TFLOP/s BF16 (§18)
    mixtral_tflops = mixtral["mfu"] * 989.4

    def row(what, source, published, predicted, fmt="{:,.0f}"):
        err = 100 * (predicted - published) / published
        return f"| {what} | {source} | {fmt.format(published)} | {fmt.format(predicted)} | {err:+.0f}% |"

    lines = [
        "| what | measured against | error |",
        "|---|---|---|",
        f"| tokens/s per GPU, A100 80GB (`validate --published`) | {n} published MPT runs (`scenarios/published/`) | "
        f"MAPE {mape}%, median {median}%, worst {worst}% ({worst_row}); leave-one-out {loo}%, 5-fold {kfold}% |",
        f"| memory verdict, same runs | all {n} ran | {wrong} wrong |",
        f"| step time, reference trainer on this CPU (`validate --quick`) | 1 rank: dense, top-k, RRE, RRE+ECSS | "
        f"{min(one):+.1f} to {max(one):+.1f}% |",
        f"| | 4 ranks on 2 cores: top-k, RRE+ECSS, grouped | {min(four):+.1f} to {max(four):+.1f}% |",
        "",
        "| published figure | source | published | predicted | error |",
        "|---|---|---:|---:|---:|",
        row("GPT-3 175B, 1,024 A100: TFLOP/s per GPU", "Narayanan et al. 2021", 140, gpt3["tflops_per_device"]),
        row("DeepSpeed-MoE 1.3B+MoE-128, 128 A100: samples/s", "published-figures §13", 372, 512 / ds_moe["step_time_s"]),
        row("DeepSpeed 6.7B dense, 128 A100: samples/s", "published-figures §13", 70, 1024 / ds_dense["step_time_s"]),
        row("Mixtral 8x7B, 64 H100 (H100 file from its datasheet, never fitted): TFLOP/s per GPU, MCore v0.9",
            "published-figures §15", 468, mixtral_tflops),
        row("the same, MCore v0.8", "published-figures §15", 438, mixtral_tflops),
        row("PanGu-Σ RRE+ECSS, 512 Ascend 910: tokens/s", "published-figures §0, §1.1", 69905, ecss["tokens_per_s"]),
        row("PanGu-Σ RRE+ECSS / MoE plain heterogeneous: ratio", "published-figures §0", 6.3,
            ecss["tokens_per_s"] / offload["tokens_per_s"], "{:.2f}"),
    ]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sparsim", default=str(ROOT / "build/release/sparsim"))
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--print", action="store_true")
    args = ap.parse_args()
    blocks = {"main-job": main_job(args.sparsim), "accuracy": accuracy(args.sparsim)}
    if args.print:
        for name, text in blocks.items():
            print(f"<!-- {name} -->\n{text}\n")
        return 0
    old = README.read_text()
    new = old
    for name, text in blocks.items():
        pattern = re.compile(rf"(<!-- begin {name} -->\n)(?:.*?\n)?(<!-- end {name} -->)", re.S)
        if not pattern.search(new):
            print(f"README.md has no <!-- begin {name} --> block", file=sys.stderr)
            return 2
        new = pattern.sub(lambda m: m.group(1) + text + "\n" + m.group(2), new)
    if args.check:
        if new != old:
            print("README.md's figures are stale: run scripts/readme_figures.py --sparsim BIN", file=sys.stderr)
            return 1
        return 0
    README.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
