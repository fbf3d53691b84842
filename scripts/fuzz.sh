#!/usr/bin/env bash
# Builds the libFuzzer targets (preset `fuzz`: clang, libFuzzer + ASan + UBSan; fuzz/), seeds
# their corpora from the shipped scenarios and results, and runs each target in turn.
#
# usage: scripts/fuzz.sh [-t SECONDS | -n RUNS] [-k] [TARGET...]
#   -t SECONDS  run each target for this long (default 60, what CI runs)
#   -n RUNS     run each target for this many executions instead
#   -k          keep going after a crash (libFuzzer's fork mode, one child at a time): for long
#               runs that collect every crash; the count of executions is the children's sum
#   TARGET      fuzz_scenario and/or fuzz_result (default: both)
#
# build/fuzz/seeds/TARGET   seeds, rebuilt every run (see seed_* below)
# build/fuzz/corpus/TARGET  what the fuzzer found interesting; kept between runs
# fuzz/regressions/TARGET   committed inputs of the bugs found so far: replayed first every run
# A crash, a sanitizer report, an exception other than InputError, a hang (10 s) or a run past
# 2 GiB writes its input to build/fuzz/artifacts/TARGET/ and the script exits 1 (a slow input,
# over 10 s, is only listed: libFuzzer's -timeout is the limit).
# One line per target goes to stdout: TARGET: N executions in S s, C crashes.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
runs=""
keep_going=()
while getopts "t:n:k" opt; do
  case $opt in
    t) seconds=$OPTARG ;;
    n) runs=$OPTARG ;;
    k) keep_going=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1) ;;
    *) sed -n '2,19p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
targets=("$@")
((${#targets[@]})) || targets=(fuzz_scenario fuzz_result)

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" >&2

out=$PWD/build/fuzz  # absolute: the targets change their working directory
# Throughput: the loader allocates a lot (yaml-cpp), and ASan's allocation stacks, malloc fill and
# 256 MiB quarantine cost it half its speed. A crash is replayed below with ASan's defaults for
# the full report.
fast_asan=malloc_context_size=0:max_malloc_fill_size=0:quarantine_size_mb=16

# Scenario seeds: every shipped scenario and comparison file, the test data, the resolved
# configurations the shipped report embeds (every include inlined), and tiny scenarios with
# --set overrides ("#set" lines, see fuzz/fuzz_scenario.cpp).
seed_scenario() {
  local d=$1
  for f in scenarios/*/*.yaml tests/data/*.yaml reports/shipped/results/*.resolved.yaml; do
    cp "$f" "$d/$(echo "$f" | tr / _)"
  done
  local i=0 s
  for s in "plan.tp=4" "plan={tp: 1, pp: 4, dp: 2}" "cluster.node=../hardware/dgx-h100.yaml" \
           "cluster.node=node.yaml" "cluster.network.latency=2 us" "training.precision=fp32" \
           "model=../models/tiny-dense.yaml" "plan.tq=2" "=3" "plan..tp=1" "plan.tp" \
           "cluster.node.device.gemm_efficiency.0.efficiency=0.5"; do
    { cat tests/data/tiny.yaml; printf '#set %s\n' "$s"; } >"$d/set-tiny-$i.yaml"
    i=$((i + 1))
  done
  for s in "model.moe.layers.0=1" "model.moe.layers={every: 2, offset: 1}" "model.moe.router=topk" \
           "model.moe.load={distribution: zipf, zipf_s: 1.2}" "plan.ep=4"; do
    { cat tests/data/tiny-moe.yaml; printf '#set %s\n' "$s"; } >"$d/set-tiny-moe-$i.yaml"
    i=$((i + 1))
  done
}

# Result seeds: the golden results, the report's test data and the shipped results, one per
# input, and pairs / triples (NUL-separated) that reach the report's comparisons: analytic with
# des, a prediction with the same scenario marked measured, and two cluster sizes.
seed_result() {
  local d=$1
  for f in tests/golden/*/*.json tests/report/data/*.json reports/shipped/results/*.json reports/plan/*.json; do
    cp "$f" "$d/$(echo "$f" | tr / _)"
  done
  local g=tests/golden/dense
  { cat $g/gpt3-175b-1024xa100.json; printf '\0'; cat $g/gpt3-175b-1024xa100.des.json; } >"$d/pair-des.json"
  { cat $g/gpt3-175b-1024xa100.json; printf '\0'
    sed 's/"backend": "analytic"/"backend": "measured"/' $g/gpt3-175b-1024xa100.json; } >"$d/pair-measured.json"
  { cat $g/gpt3-175b-1024xa100.json; printf '\0'; cat $g/dense-1t-3072xa100.json; printf '\0'
    cat $g/mt-nlg-530b-2240xa100.json; } >"$d/triple-scaling.json"
}

status=0
for t in "${targets[@]}"; do
  bin=$out/fuzz/$t
  [[ -x $bin ]] || { echo "fuzz.sh: no target $t (known: fuzz_scenario, fuzz_result)" >&2; exit 2; }
  seeds=$out/seeds/$t corpus=$out/corpus/$t artifacts=$out/artifacts/$t
  rm -rf "$seeds"
  mkdir -p "$seeds" "$corpus" "$artifacts" "fuzz/regressions/$t"
  "seed_${t#fuzz_}" "$seeds"
  limit=(-max_total_time="$seconds")
  [[ -n $runs ]] && limit=(-runs="$runs")
  log=$out/$t.log
  stamp=$out/$t.start
  touch "$stamp"
  rc=0
  # One process (the machine is shared); 16 KiB covers the largest shipped file (8 KiB).
  ASAN_OPTIONS=${ASAN_OPTIONS:-$fast_asan} "$bin" "${keep_going[@]}" -dict="$PWD/fuzz/${t#fuzz_}.dict" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "${limit[@]}" \
    "$corpus" "$seeds" "$PWD/fuzz/regressions/$t" >"$log" 2>&1 || rc=$?
  if ((${#keep_going[@]})); then  # fork mode: "#EXECS: cov: ... time: Ss job: ..."
    execs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$log" | tail -1)
    time_s=$(sed -n 's/^#[0-9]*: cov:.* time: \([0-9]*\)s.*/\1/p' "$log" | tail -1)
  else
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    time_s=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  fi
  # crash-, leak-, timeout-, oom- files fail the run; slow-unit- files (over 10 s on a loaded
  # machine, far under the -timeout) are listed and kept for a look
  crashes=$(find "$artifacts" -type f -newer "$stamp" ! -name 'slow-unit-*' | wc -l)
  find "$artifacts" -type f -newer "$stamp" -name 'slow-unit-*' -printf "fuzz.sh: slow input %p\n" >&2
  echo "$t: ${execs:-?} executions in ${time_s:-?} s, $crashes crashes (log: $log)"
  if ((rc != 0 || crashes != 0)); then
    status=1
    echo "fuzz.sh: $t failed (exit $rc); the tail of $log:" >&2
    tail -40 "$log" >&2
    for a in $(find "$artifacts" -type f -newer "$stamp" ! -name 'slow-unit-*'); do
      echo "fuzz.sh: replaying $a with ASan's defaults:" >&2
      "$bin" "$a" 2>&1 | grep -v '^INFO' | head -60 >&2 || true
    done
  fi
done
exit $status
