#!/usr/bin/env bash
# Rewrites the committed baseline of each run set (scenarios/published/*.runs.yaml) from the
# current build, after an intended change of the model or of a hardware file: read the new
# per-run errors (printed) before committing them.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SPARSIM_BIN:-build/release/sparsim}
for set in scenarios/published/*.runs.yaml; do
  out=$(mktemp)
  "$bin" validate --published "$set" --json "$out" --force
  python3 - "$set" "$out" <<'PY'
import json, re, sys
path, result = sys.argv[1], json.load(open(sys.argv[2]))
text = open(path).read()
line = "baseline: {mape: %.2f, wrong_verdicts: %d}" % (100 * result["mape"], result["wrong_verdicts"])
text = re.sub(r"^baseline: .*$", line, text, flags=re.M)
open(path, "w").write(text)
print(f"{path}: {line}")
PY
  rm -f "$out"
done
