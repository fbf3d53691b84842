// `sparsim plan`: the parallel plans of one scenario's model, hardware and training settings on a
// given number of devices, each evaluated by the analytic backend, ranked by tokens/s. The space
// (PlanSpace) is every plan the backends can simulate, less the ones that cannot win by
// construction (written where they are left out); a plan that cannot run or fit stays in the
// counts with its verdict.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/scenario.hpp"
#include "sim/result.hpp"

namespace sparsim::analysis {

/// One searched plan and its evaluation.
struct Candidate {
  Plan plan;
  int micro_batch = 0;
  sim::StepResult result;
  std::string verdict;  ///< runs | does-not-fit | infeasible
};

/// The plans searched on `devices` devices (whole nodes: devices is a multiple of
/// node.devices), in a fixed order:
///  - tp: powers of two up to the node's devices that divide heads (and kv_heads);
///  - pp: divisors of layers up to devices / tp; virtual stages 1, or any divisor of layers / pp
///    above 1 (interleaved 1F1B; GPipe is left out: it takes 1F1B's time with more memory);
///  - dp = devices / (tp pp); ep: divisors of dp that divide the experts (sparse models), else 1;
///  - micro_batch: powers of two up to 16 dividing global_batch / dp;
///  - recompute none | selective | full; sequence parallelism off, and on when tp > 1;
///  - ZeRO 0..3 (0 alone when dp = 1);
///  - placement device | offload (| ecss for sparse models); host_overlap none | layers off the device;
///  - sparse models: etp tp, tp/2, .. 1 whose sub-groups split a rank's experts evenly, and
///    overlap_ep off, and on when ep > 1 and pp = 1 (where the DES agrees with the analytic
///    backend on it).
/// Collectives, buckets, overlap_dp and precision stay as the scenario has them (and, for dense
/// models, etp and overlap_ep).
std::vector<Candidate> plan_space(const Scenario& base, std::int64_t devices);

/// Evaluates every candidate with the analytic backend on `threads` threads (each candidate by
/// one thread, the results in the candidates' order: byte-identical for any thread count). An
/// infeasible plan, or one whose memory does not fit, keeps its verdict, reasons and memory and
/// is not timed.
void evaluate_plans(const Scenario& base, std::int64_t devices, std::vector<Candidate>& candidates, int threads);
/// The same for the candidates at `which` only (a rank's share; the few plans rank 0 shows).
/// A candidate's result does not depend on which others are evaluated with it.
void evaluate_plans(const Scenario& base, std::int64_t devices, std::vector<Candidate>& candidates,
                    const std::vector<std::size_t>& which, int threads);

/// What ranking needs of an evaluated candidate: what the ranks of `mpirun ... sparsim plan`
/// send to rank 0 (plain bytes: the ranks run one build on one kind of machine).
struct Score {
  std::uint64_t index = 0;  ///< in plan_space order
  std::int32_t verdict = 0;  ///< 0 runs, 1 does-not-fit, 2 infeasible
  double step_time = 0;  ///< s
  double tokens_per_s = 0;
  double device_peak = 0;  ///< bytes
};
Score score_of(const Candidate& c, std::size_t index);

/// The indices of the scores that run, fastest first (equal tokens/s: less device memory first,
/// then the earlier in plan_space order), at most `top`.
std::vector<std::uint64_t> rank_scores(const std::vector<Score>& scores, std::size_t top);

/// The candidates that run, ranked as rank_scores ranks them, at most `top`.
std::vector<const Candidate*> best_plans(const std::vector<Candidate>& candidates, std::size_t top);

/// `base` with `c`'s plan on `devices` devices: what `simulate --set ...` of the plan loads.
Scenario with_plan(const Scenario& base, std::int64_t devices, const Candidate& c);

/// "tp 8 pp 4 v 2 dp 32 ep 1 mb 1 rc selective sp zero 1 device" (the columns of the table).
std::string describe(const Candidate& c);
/// The `--set` arguments that give `c`'s plan: "plan.tp=8", ... (`sparse`: with plan.etp and
/// plan.overlap_ep, which the search varies for sparse models only).
std::vector<std::string> plan_sets(const Candidate& c, std::int64_t devices, int node_devices, bool sparse);

/// Why `second` loses to `first`: its step's extra seconds by breakdown term, largest first, at
/// most three, each at least a tenth of the gap ("+0.41 s pipeline bubble, +0.12 s tp comm").
std::string why_slower(const sim::StepResult& first, const sim::StepResult& second);

/// Parses --devices: "N", "a,b,c" or "a..b" (doubling from a while <= b), each a positive
/// multiple of `node_devices`. Throws InputError naming --devices.
std::vector<std::int64_t> parse_devices(const std::string& spec, int node_devices);

}  // namespace sparsim::analysis
