// `sparsim fit`: a node file's few free efficiencies fitted to measured runs (a run set), with
// the error on runs left out of the fit (k-fold and leave-one-out), written back as a node file
// with its provenance. The model's structure (tiles, waves, bytes, schedules) is not fitted: only
// what a datasheet cannot say, one value per device or link, never one per run.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/scenario.hpp"
#include "validation/published.hpp"

namespace sparsim::validation {

/// A fittable parameter: its key path in a node file, bounds, and where it lives in a Scenario.
struct FitParameter {
  std::string key;   ///< e.g. "device.gemm.plateau"
  double lo = 0, hi = 1;
  double* (*of)(Scenario&);
};
/// Every fittable parameter, by key: device.gemm.plateau, device.attention_plateau,
/// device.memory_efficiency, device.kernel_overhead, intra_node.efficiency, nic.efficiency.
const std::vector<FitParameter>& fit_parameters();
/// The parameters named in `keys` (comma list); throws InputError naming --params.
std::vector<FitParameter> parameters_named(const std::string& keys);

struct FitOptions {
  int folds = 5;       ///< k of the k-fold error (rows dealt round-robin after a seeded shuffle)
  bool loo = true;     ///< also leave-one-out (one fit per run)
  int iterations = 600;  ///< Nelder-Mead iterations per fit
};

struct FitResult {
  std::vector<double> values;      ///< fitted, in the order of the parameters
  std::vector<double> start;       ///< the base node's values
  double start_mape = 0, mape = 0; ///< on all runs, before and after
  double kfold_mape = -1;          ///< each run predicted by the fit on the other folds
  double loo_mape = -1, loo_worst = 0;  ///< each run predicted by the fit on all the others
  std::vector<double> loo_errors;  ///< signed, per run
  std::size_t evaluations = 0;     ///< scenario evaluations in all
};

/// Fits `params` on `scenarios` (one per run of `set`, on the base node) to the runs' measured
/// tokens/s per device, minimising the mean absolute percentage error.
FitResult fit(const RunSet& set, const std::vector<Scenario>& scenarios, const std::vector<FitParameter>& params,
              const FitOptions& options);

/// The base node file with the fitted values and a provenance entry under `source` (the runs,
/// the date, the errors). Its leading comment lines are kept.
std::string fitted_node_yaml(const std::filesystem::path& base, const std::vector<FitParameter>& params,
                             const FitResult& r, const RunSet& set, const std::string& date);

}  // namespace sparsim::validation
