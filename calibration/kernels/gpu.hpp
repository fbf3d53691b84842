// CUDA calibration (built when SPARSIM_HAVE_CUDA): a plain C++ facade over the kernels in
// calibration/kernels/*.cu. Each entry checks its kernel against a CPU reference first and
// throws std::runtime_error on a mismatch or a CUDA error; timings use CUDA events.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "writer.hpp"

namespace sparsim::calib::gpu {

struct GpuOptions {
  bool quick = false;
};

/// CUDA devices visible; 0 with `why` filled when there are none or the driver is missing.
int device_count(std::string& why);

/// A rate with its timing spread (seconds per call) and the theoretical peak (0 = unknown).
struct Rate {
  std::string what;
  double achieved = 0;  ///< FLOP/s or B/s at the best time
  double peak = 0;      ///< same unit; 0 when the device does not tell
  double flops_or_bytes = 0;
  Spread seconds;
};

// Kernel entries (device 0). Sizes in elements or bytes as named.
Rate hbm_copy(std::size_t bytes, int reps);
std::vector<Rate> cublas_gemm(const std::string& precision, bool quick, int reps);  ///< fp32 | fp16 | bf16
std::vector<Rate> host_device_copies(bool quick, int reps);  ///< H2D/D2H, pinned/pageable, idle/busy
Rate fused_adam(std::size_t n, int reps);
std::vector<Rate> token_permute(std::size_t tokens, int hidden, int reps);  ///< gather and scatter
std::vector<Rate> nccl_collectives(bool quick, int reps);  ///< empty with < 2 GPUs

/// Measures device 0 and overwrites the device, intra_node and host_link parts of `node`
/// (its host part stays the CPU calibration's). Prints each rate beside its peak to `log`.
void calibrate_gpu(const GpuOptions& o, NodeFile& node, std::ostream& log);

}  // namespace sparsim::calib::gpu
