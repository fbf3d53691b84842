// Published training runs as a check of the model: a run table (one measured run per row, the
// columns of shared/data/runs/) becomes one scenario per row, predicted by the analytic backend
// and compared with the measured tokens/s per device and the fact that the run fit in memory.
//
// A run set (`*.runs.yaml`) names the table, the model shapes and a scenario template:
//   name: MPT on A100 80GB
//   runs: mpt-a100-80gb-bf16.csv        # the run table
//   shapes: mpt-shapes.csv              # model -> d_model, n_heads, n_layers, ffn_hidden, vocab
//   scenario: mpt-a100-80gb.scenario.yaml  # a whole scenario; each row overrides its own keys
//   baseline: {mape: 4.2, wrong_verdicts: 0}  # the committed figures (validate --published gates on them)
// Each row sets, as `--set` would: model shape and seq_len, cluster.nodes (gpus / devices per
// node), training.global_batch / micro_batch / precision, plan.dp (= gpus), plan.zero (sharding),
// plan.recompute (activation checkpointing) and plan.fsdp_precision (mp_mode).
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "config/scenario.hpp"
#include "sim/result.hpp"

namespace sparsim::validation {

struct PublishedRun {
  int line = 0;  ///< in the run table (the header is line 1)
  std::string model;
  int seq_len = 0, gpus = 0, micro_batch = 0, grad_accum = 0, global_batch = 0;
  double tokens_per_s_per_gpu = 0;  ///< measured
  std::string precision, mp_mode, sharding;
  bool checkpointing = false, cpu_offload = false;
  double num_params = 0;  ///< as published (0 = not given)
  int d_model = 0, n_heads = 0, n_layers = 0, ffn_hidden = 0, vocab = 0;  ///< from the shapes table
  /// The row's overrides of the template ("key=value").
  std::vector<std::string> overrides() const;
  std::string label() const;  ///< "125m s2048 8 GPUs mb40"
};

struct RunSet {
  std::string name, file;
  std::filesystem::path runs_file, scenario_file;
  std::vector<PublishedRun> runs;
  double baseline_mape = -1;       ///< fraction; < 0 = none committed
  int baseline_wrong_verdicts = -1;
};

/// Reads a run set. Throws InputError naming the file, line, column and key (or CSV column).
RunSet load_run_set(const std::string& path);

/// One scenario per row: the template with the row's overrides, then `extra` (applied last).
std::vector<Scenario> scenarios(const RunSet& set, const std::vector<std::string>& extra = {});

struct RowResult {
  double predicted = 0;  ///< tokens/s per device
  double error = 0;      ///< (predicted - measured) / measured
  sim::StepResult result;
  std::string note;      ///< e.g. a parameter count that differs from the published one
};

struct PublishedReport {
  std::vector<RowResult> rows;
  double mape = 0, median_ape = 0, worst = 0;  ///< fractions; worst keeps its sign
  std::size_t worst_row = 0;
  int wrong_verdicts = 0;  ///< rows that ran but the model says cannot run
};

/// Predicts every row (analytic backend) and summarises.
PublishedReport evaluate(const RunSet& set, const std::vector<Scenario>& scenarios);

/// The per-row table, the summary, and the comparison with the committed baseline.
void print(std::ostream& out, const RunSet& set, const PublishedReport& report);
nlohmann::json to_json(const RunSet& set, const PublishedReport& report);
std::string to_csv(const RunSet& set, const PublishedReport& report);

}  // namespace sparsim::validation
