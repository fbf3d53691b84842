// The CPU calibration run: every CPU kernel measured once, in order, with its settings.
#pragma once

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "adam.hpp"
#include "elementwise.hpp"
#include "fit.hpp"
#include "gemm.hpp"
#include "memory.hpp"
#include "sysinfo.hpp"

namespace sparsim::calib {

struct CpuOptions {
  bool quick = false;     ///< fewer shapes and repetitions, smaller arrays (tests; ~15 s on 2 cores)
  int ranks = 1;          ///< devices the CPU is split into (MPI ranks of the reference trainer)
  std::string mpirun;     ///< mpirun executable; empty = no MPI probe
  std::string mpi_probe;  ///< the mpi_probe program; empty = no MPI probe
  GemmModel gemm_model;   ///< hidden > 0: also time this model's GEMM shapes (device.gemm_shapes)
  int share_block = 0;    ///< > 0: floats per peer of mpi_probe's sharing all-to-all (the model's dispatch)
  std::size_t adam_params = 0;  ///< > 0: the parameters a rank's device AdamW updates (the model's); 0: 1 Mi
};

/// One collective's measurements and their alpha-beta fit.
struct CollectiveFit {
  std::vector<Sample> samples;  ///< best (min) time per size
  LinearFit fit;
};

/// How well ranks beyond the hardware threads share them (mpi_probe's measure_sharing): a
/// compute chunk alone, and one bulk-synchronous iteration (the chunk on every rank, then a
/// small all-to-all) with all ranks running.
struct ShareResult {
  int threads = 0;          ///< hardware threads; 0 = not measured (ranks <= threads)
  double chunk_alone_s = 0;
  double iteration_s = 0;
  int iterations = 0;
  double all_to_all_s = 0;  ///< the iteration's all-to-all alone (charged apart by the simulator)
  int block = 0;            ///< its floats per peer
  /// The fraction of the fair share threads / ranks each rank gets: 1 = perfect time-sharing.
  double efficiency(int ranks) const {
    const double compute = iteration_s - all_to_all_s;
    return threads > 0 && compute > 0 ? chunk_alone_s * ranks / threads / compute : 1.0;
  }
};

struct MpiResult {
  bool ran = false;
  std::string why_not;  ///< when !ran: what was missing or failed
  int ranks = 0;
  std::map<std::string, CollectiveFit> collectives;  ///< allreduce, alltoall, alltoallv
  ShareResult share;
};

struct CpuCalibration {
  CpuOptions options;
  SystemInfo system;
  int threads_per_device = 1;       ///< OpenBLAS threads while measuring the device GEMM table
  std::vector<GemmPoint> gemm;      ///< with threads_per_device
  std::vector<GemmPoint> model_gemm;  ///< options.gemm_model's shapes, with threads_per_device
  double host_gemm_flop_rate = 0;   ///< best GEMM FLOP/s with every core (the host's rate)
  MemoryResult memory;              ///< all cores
  std::vector<AdamResult> adam;     ///< 1, 2, 4, ... threads, DRAM-sized arrays
  std::vector<AdamResult> adam_device;  ///< 1, 2, 4, ... threads, adam_device_params parameters (the device's update)
  std::size_t adam_device_params = 0;  ///< its parameters: options.adam_params, or 1 Mi
  ElementwiseResult elementwise;    ///< one thread
  MpiResult mpi;
  /// GFLOP/s of the machine-speed probe (trainer/speed_probe.hpp), taken before the model's
  /// GEMMs, after each group of them, after the AdamW and after the element-wise kernels: the
  /// speed the rates above were measured at (validate compares it with the trainer's).
  std::vector<double> speed_probe;
  double speed_probe_median() const;  ///< 0 without samples
  double elapsed_s = 0;
};

/// Measures this machine. Progress goes to `log`. Throws std::runtime_error when a kernel
/// disagrees with its reference (a broken kernel must not produce a hardware file).
CpuCalibration calibrate_cpu(const CpuOptions& options, std::ostream& log);

/// Parses mpi_probe's stdout ("<collective> <bytes> <min> <median> <max> <reps>" lines) into
/// per-collective fits of the best (min) times. Lines that do not parse are ignored.
std::map<std::string, CollectiveFit> parse_probe_output(const std::string& text);

/// Parses mpi_probe's "share <threads> <chunk_alone_s> <iteration_s> <iterations>
/// [<all_to_all_s> <block>]" line (none: threads 0).
ShareResult parse_probe_share(const std::string& text);

/// Runs `mpirun --oversubscribe --allow-run-as-root -np ranks probe [--quick]`.
MpiResult run_mpi_probe(const std::string& mpirun, const std::string& probe, int ranks, bool quick, std::ostream& log,
                        int share_block = 0);

/// mpirun's placement options for `ranks` ranks on `hardware_threads`: as many ranks as
/// hardware threads or more (one BLAS thread each) are bound, rank r to hardware thread r mod
/// the threads; fewer (several BLAS threads each) are left unbound. Unbound, 4 ranks on the 2
/// vCPUs of 2026-12-02 ran the top-k trainer at 59-66 ms a step (median of eight runs; their
/// 10th percentiles 49-57 ms, 90th 68-79), migrating between the vCPUs as they waited and woke;
/// bound, two to a vCPU, at 48-56 ms (41-47, 60-65). The calibration's MPI probe and the trainer
/// runs it predicts use the same placement.
std::string mpirun_placement(int ranks, int hardware_threads);

}  // namespace sparsim::calib
