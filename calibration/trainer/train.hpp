// The training loop: batches, forward/backward, gradient all-reduce, optimizer, checkpoints,
// progress on stderr, and the measured StepResult (backend "measured") + Chrome trace.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "comm.hpp"
#include "config.hpp"
#include "data.hpp"
#include "model.hpp"
#include "profiler.hpp"
#include "sim/result.hpp"
#include "sim/trace.hpp"

namespace sparsim::trainer {

/// Grouped domain data (PanGu-Σ): the domains rank r reads, those of its experts' groups; one
/// per rank when `domains` divides `ranks`, `domains / ranks` when `ranks` divides `domains`.
/// Throws std::invalid_argument otherwise (a rank's tokens would reach ranks outside its group).
std::vector<std::vector<int>> grouped_rank_domains(int ranks, int domains);

/// The waits of one rank's calls of a collective for the last rank to arrive: `starts[k * ranks
/// + r]` is when rank r entered call k (one clock), `durs[k]` how long call k took this rank
/// (`me`). Wait k = the latest start minus this rank's, within [0, durs[k]].
std::vector<double> waits_for_last(const std::vector<double>& starts, std::size_t ranks, std::size_t me,
                                   const std::vector<double>& durs);

class Trainer {
 public:
  /// Throws std::invalid_argument when grouped domain data cannot be laid out (ranks and
  /// domains that do not divide one another, a domain without sequences).
  Trainer(const TrainConfig& cfg, const Dataset& data, Comm& comm);
  /// One optimizer step on the next global batch; returns the global mean loss (CE + aux).
  double train_step();
  int step() const { return step_; }
  /// Atomic checkpoint (write PATH.tmp, fsync, rename): weights, AdamW moments and step
  /// counts of this rank (PATH.rankR with several ranks). The data position is the step.
  void save(const std::string& path) const;
  void load(const std::string& path);
  Model& model() { return model_; }
  Profiler& profiler() { return prof_; }
  /// Per profiler span, how long this rank waited in it for the last of its peers: for the
  /// collective spans (ep: the expert group's; dp: all ranks') that start at or after
  /// `t_begin`, the latest start among the ranks that run the collective minus this rank's
  /// start, at most the span; 0 for the others. Every rank must call it (it all-reduces).
  std::vector<double> peer_waits(double t_begin);

 private:
  std::string rank_path(const std::string& path) const;
  void load_file(const std::string& p);
  TrainConfig cfg_;
  const Dataset& data_;
  Comm& comm_;
  std::vector<std::vector<int>> rank_domains_;  ///< grouped domain data: each rank's domains
  std::unique_ptr<Comm> expert_comm_;           ///< grouped: this rank's group (null: comm_)
  Model model_;
  Profiler prof_;
  int step_ = 0;
};

struct RunOptions {
  int steps = 10;               ///< run until this step count is reached
  int warmup = 1;               ///< first steps of this run left out of the timings
  std::string checkpoint;       ///< path; empty = no checkpoints
  int checkpoint_every = 0;     ///< steps; 0 = only at the end
  bool resume = false;          ///< load `checkpoint` first when it exists
  bool progress = true;         ///< "step i/n loss x tokens/s y" on stderr (rank 0)
  std::string name = "trainer";
  /// After each timed step: wait for every rank (the step then ends when the last rank ends it,
  /// as the simulator's does), and rank 0 samples the machine-speed probe while the others wait
  /// asleep (speed_probe.hpp). The probe's time is left out of the timings.
  bool speed_probe = false;
  std::function<void(int)> after_step;  ///< called with the step count after each step's checkpoint
};

struct RunResult {
  std::vector<double> losses;   ///< one per step run here
  sim::StepResult result;       ///< averaged over the timed steps
  sim::Trace trace;             ///< this rank's spans of the timed steps
  std::map<std::string, double> phases_s;  ///< per phase (span name): seconds per timed step
  double peer_wait_s = 0;  ///< per timed step: this rank's waits in collectives for its last peer (Trainer::peer_waits)
  std::vector<double> step_times_s;        ///< wall time of each timed step on this rank
  std::vector<double> speed_probe_gflops;  ///< rank 0, RunOptions::speed_probe: one sample per timed step
  std::vector<StepCounts> counts_per_step;  ///< this rank's counts of each timed step (Profiler::counts)
  std::map<int, std::vector<double>> routed_per_expert;  ///< sparse layer -> this rank's routed choices, all steps
  /// sparse layer -> this rank's routed choices per expert in each timed step (after warm-up)
  std::map<int, std::vector<std::vector<double>>> routed_per_step;
};

/// Token-ID counts (size kByteVocab) of the inputs of every sequence of `data`, per domain, and
/// each domain's share of the sequences: what the simulator needs to route RRE as the trainer does.
struct DataStats {
  std::vector<std::vector<double>> token_histograms;
  std::vector<double> domain_mix;
};
DataStats data_stats(const Dataset& data, int vocab);

RunResult run(const TrainConfig& cfg, const Dataset& data, Comm& comm, const RunOptions& opt);

/// Counts of timed steps as JSON (the routing file's counts_per_step, which `sparsim validate`
/// compares with the simulator's): per step its FLOPs and bytes, and its routing in each sparse
/// layer (expert_tokens, sent_rows, recv_rows).
nlohmann::json counts_json(const std::vector<StepCounts>& steps);

}  // namespace sparsim::trainer
