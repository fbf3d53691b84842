#!/usr/bin/env python3
"""`mpirun -np R sparsim plan|sweep` writes byte for byte what one process writes (issue 24).

Every run writes its --json and --csv files and its stdout; those of 2 and 4 ranks (more ranks
than this machine's 2 cores: oversubscribed, which changes timing, never results) must equal
those of one process started without mpirun. The one line that may differ is plan's last, the
search's wall time ("N configurations in T s ..."); its N must agree. Then a bad input under
mpirun: exit 2, the error printed once (rank 0), not once per rank.

usage: mpi_identity.py MPIEXEC SPARSIM SCENARIOS TESTDATA WORKDIR [quick]
  quick (the sanitizer build, 3-10x slower): the tiny-moe search, the DES sweep and the bad input
  only; the suite's own build runs everything.
"""
import json
import os
import shutil
import subprocess
import sys

mpiexec, sparsim, scenarios, testdata, work = sys.argv[1:6]
quick = sys.argv[6:] == ["quick"]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
ENV = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1", OPENBLAS_NUM_THREADS="1")


def run(ranks, verb, args, tag):
    """Runs one command; returns (stdout, json bytes, csv bytes, stderr)."""
    out = os.path.join(work, f"{tag}-np{ranks}")
    cmd = [sparsim, verb, *args, "--json", out + ".json", "--csv", out + ".csv"]
    if ranks > 0:
        cmd = [mpiexec, "--oversubscribe", "--allow-run-as-root", "-np", str(ranks), *cmd]
    p = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=240)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    with open(out + ".json", "rb") as j, open(out + ".csv", "rb") as c:
        return p.stdout, j.read(), c.read(), p.stderr


def same(tag, verb, args, timing_line=False):
    one = run(0, verb, args, tag)  # one process, no mpirun
    for ranks in (2, 4):
        many = run(ranks, verb, args, tag)
        out1, outr = one[0], many[0]
        if timing_line:  # "N configurations in T s (X configurations/s, ...)": N must agree
            last1, lastr = out1.rstrip("\n").rsplit("\n", 1)[1], outr.rstrip("\n").rsplit("\n", 1)[1]
            if last1.split(" in ")[0] != lastr.split(" in ")[0] or "configurations in" not in last1:
                sys.exit(f"{tag}: the last lines differ in their count:\n  {last1}\n  {lastr}")
            if f"{ranks} ranks" not in lastr:
                sys.exit(f"{tag}: {ranks} ranks do not say so: {lastr}")
            out1, outr = out1.rstrip("\n").rsplit("\n", 1)[0], outr.rstrip("\n").rsplit("\n", 1)[0]
        for name, a, b in (("stdout", out1, outr), ("--json", one[1], many[1]), ("--csv", one[2], many[2])):
            if a != b:
                sys.exit(f"{tag}: {name} of {ranks} ranks differs from one process")
        print(f"{tag}: {ranks} ranks == 1 process (stdout {len(out1)} chars, json {len(one[1])} bytes, csv {len(one[2])} bytes)")
    return one


# plan: sparse models (ep, placements, host overlap; three sizes with the time and cost to train),
# and a dense one; the shown plans are mostly evaluated on ranks other than 0
moe = same("plan-tiny-moe", "plan", [os.path.join(testdata, "tiny-moe.yaml"), "--devices", "8..32", "--top", "4", "--tokens", "1B",
                                    "--price", "2.5", "--verify", "2"], timing_line=True)
# --verify K: the K best of each size on the DES (in child processes, on rank 0), ranked by its step
for size in json.loads(moe[1])["sizes"]:
    v = size["verified"]
    steps = [x["des_step_time_s"] for x in v]
    if len(v) != 2 or steps != sorted(steps) or [x["des_rank"] for x in v] != [1, 2] or sorted(x["rank"] for x in v) != [1, 2]:
        sys.exit(f"plan-tiny-moe: {size['devices']} devices: --verify 2 gave {v}")
if not quick:  # PanGu-Sigma, GPT-3 and the analytic sweep
    same("plan-pangu", "plan", [os.path.join(scenarios, "pangu-sigma", "pangu-sigma-rre-ecss-512.yaml"), "--top", "3"],
         timing_line=True)
    out = same("plan-gpt3", "plan", [os.path.join(scenarios, "dense", "gpt3-175b-1024xa100.yaml"), "--devices", "512,1024",
                                     "--top", "3", "--tokens", "300B"], timing_line=True)
    if "runner-up" not in out[0]:
        sys.exit("plan-gpt3: no runner-up line to compare")

    # sweep: analytic over a grid with plans that do not fit, and the DES (each point in its own
    # process) over a few points
    same("sweep-analytic", "sweep", [os.path.join(scenarios, "pangu-sigma", "pangu-sigma-rre-ecss-512.yaml"),
                                     "--vary", "plan.placement=device,offload,ecss", "--vary", "plan.host_overlap=none,layers",
                                     "--vary", "training.micro_batch=1,2"])

same("sweep-des", "sweep", [os.path.join(testdata, "tiny.yaml"), "--backend", "des", "--vary", "training.micro_batch=1,2,4",
                            "--vary", "plan.recompute=none,full"])

# bad input under mpirun: exit 2, said once
cmd = [mpiexec, "--oversubscribe", "--allow-run-as-root", "-np", "2", sparsim, "plan",
       os.path.join(scenarios, "dense", "gpt3-175b-1024xa100.yaml"), "--devices", "12"]
p = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=120)
errors = [line for line in p.stderr.splitlines() if line.startswith("sparsim: error:")]
print(f"bad --devices under 2 ranks: exit {p.returncode}, {len(errors)} error line(s): {errors}")
if p.returncode != 2 or len(errors) != 1 or "--devices" not in errors[0]:
    sys.exit(f"expected exit 2 and one error naming --devices\n{p.stdout}\n{p.stderr}")
