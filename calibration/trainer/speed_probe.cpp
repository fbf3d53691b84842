#include "speed_probe.hpp"

#include <cblas.h>

#include <chrono>

#include "ops.hpp"
#include "parallel.hpp"

namespace sparsim::trainer {

SpeedProbe::SpeedProbe()
    : a_(static_cast<std::size_t>(kM) * kK, 0.5f), b_(static_cast<std::size_t>(kK) * kN, 0.25f),
      c_(static_cast<std::size_t>(kM) * kN, 0.0f) {}

double SpeedProbe::sample() {
  const int before = openblas_get_num_threads();
  openblas_set_num_threads(hardware_threads());
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i)
    gemm(false, false, kM, kN, kK, 1.0f, a_.data(), kK, b_.data(), kN, 0.0f, c_.data(), kN);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  openblas_set_num_threads(before);
  return 2.0 * kM * kN * kK * kCalls / s / 1e9;
}

}  // namespace sparsim::trainer
