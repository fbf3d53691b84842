// `sparsim validate`: for each configuration (cases.hpp) calibrate this machine, run the
// reference trainer three times, calibrate again, simulate the configuration on the calibrations
// with the runs' routing, and compare: the step time within a tolerance (compare.hpp), and each
// timed step's GEMM FLOPs and bytes exactly (counts.hpp).
//
// Every case leaves a record (`<tag>.record.json`) of its calibrations and runs, so `--replay`
// re-simulates and compares a past run's measurements with the model as it is now, in seconds
// (no calibration, no training), and `--perturb COST=F` does so with one cost of the model
// scaled, to show that the gate catches a model that far off.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace sparsim::validation {

/// One cost of the model scaled in the calibrated node files: its time times `factor`.
///   gemm:        device.peak_flops and device.gemm_shapes rates (divided by factor)
///   elementwise: device.vector_flops and device.vector_rates
///   optimizer:   device.optimizer_rate and host.optimizer_rate
///   comm:        intra_node and nic bandwidths (divided), latencies (multiplied)
///   copy:        host_link bandwidth and switch_bandwidth
struct Perturbation {
  std::string cost;
  double factor = 1;
};
/// Parses "cost=factor"; throws InputError naming --perturb and the known costs.
Perturbation parse_perturbation(const std::string& text);
/// The node file `in` with `p` applied, written to `out`.
void perturb_node(const std::filesystem::path& in, const std::filesystem::path& out, const Perturbation& p);

struct Options {
  bool quick = false;
  std::filesystem::path out = "validate-out";  ///< the directory of node files, configs, JSONs, records
  double tolerance = 0.15;         ///< largest |step-time error|
  double shared_tolerance = 0.15;  ///< the same, for more ranks than hardware threads
  /// A configuration past its tolerance is measured again (calibrate, train, calibrate) up to
  /// this many times, and the last attempt is the verdict; the table shows every attempt.
  int retries = 1;
  bool replay = false;              ///< compare the records in `out` again, measuring nothing
  std::vector<Perturbation> perturb;
  std::filesystem::path sparsim;     ///< this program (calibrate and simulate run as child processes)
  std::filesystem::path trainer_mpi; ///< the MPI trainer
  std::string mpiexec = "mpirun";
};

/// Runs (or replays) every case, prints the table to `out`; 0 when every configuration's step
/// time is within its tolerance and every count agrees, 1 otherwise or when a stage fails.
int validate(const Options& options, std::ostream& out);

}  // namespace sparsim::validation
