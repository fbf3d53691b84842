#!/usr/bin/env bash
# Regenerates the committed reports: reports/shipped/ (every shipped dense and sparse scenario)
# reports/pangu-sigma/ (the PanGu-Sigma comparison: MoE+offload vs MoE vs RRE vs RRE+offload vs RRE+ECSS)
# and reports/plan/ (a plan search's page).
# One command, deterministic: rerunning it on the same build gives the same files.
#   scripts/regen-reports.sh            # uses build/release/sparsim
#   SPARSIM_BIN=build/ci/sparsim scripts/regen-reports.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SPARSIM_BIN:-build/release/sparsim}
if [[ ! -x $bin ]]; then
  echo "regen-reports.sh: no $bin; build first (scripts/build.sh) or set SPARSIM_BIN" >&2
  exit 2
fi
out=reports/shipped
results=$out/results
mkdir -p "$results"
rm -f "$results"/*.json "$results"/*.resolved.yaml
jsons=()
for s in scenarios/dense/*.yaml scenarios/pangu-sigma/*-512.yaml scenarios/deepspeed-moe/*.yaml scenarios/gshard/*.yaml scenarios/moe-2024/*.yaml; do
  name=$(basename "$s" .yaml)
  "$bin" simulate "$s" --json "$results/$name.json" --resolved "$results/$name.resolved.yaml" --force >/dev/null
  jsons+=("$results/$name.json")
done
"$bin" report "${jsons[@]}" --out "$out" --force
echo "regen-reports.sh: wrote $out/index.html from ${#jsons[@]} scenarios" >&2
"$bin" compare scenarios/pangu-sigma/pangu-sigma-512.compare.yaml --report reports/pangu-sigma --force >/dev/null
echo "regen-reports.sh: wrote reports/pangu-sigma/index.html" >&2
# The 6.3x study's grid (docs/pangu-sigma.md has the ratios to the baseline): RRE+ECSS tokens/s
# over the host Adam rate and the fraction of experts a step activates.
"$bin" sweep scenarios/pangu-sigma/pangu-sigma-rre-ecss-512.yaml \
  --vary "cluster.node.host.optimizer_rate=1 Gparams/s,2 Gparams/s,5 Gparams/s,10 Gparams/s,27 Gparams/s" \
  --vary model.moe.activated=1,0.5,0.25,0.125,0.0625 --report reports/pangu-sigma/sensitivity --force >/dev/null
echo "regen-reports.sh: wrote reports/pangu-sigma/sensitivity/index.html" >&2
# The planner's page: GPT-3 175B's best plans on 512 to 4,096 A100s, 300B tokens at 2.5 per
# device-hour (an assumed price: the page's cost axis scales with it), with its JSON beside it.
mkdir -p reports/plan
"$bin" plan scenarios/dense/gpt3-175b-1024xa100.yaml --devices 512..4096 --tokens 300B --price 2.5 --top 3 --threads 1 \
  --json reports/plan/gpt3-175b.plan.json --report reports/plan --force >/dev/null
echo "regen-reports.sh: wrote reports/plan/index.html" >&2
