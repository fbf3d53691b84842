// Shared by the calibration kernels: checked CUDA calls (STYLE.md #10) and event timing.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "cpu/timing.hpp"

#define CUDA_CHECK(call)                                                                              \
  do {                                                                                                \
    const cudaError_t err_ = (call);                                                                  \
    if (err_ != cudaSuccess) {                                                                        \
      throw std::runtime_error(std::string(#call) + " failed at " + __FILE__ + ":" +                  \
                               std::to_string(__LINE__) + ": " + cudaGetErrorString(err_));           \
    }                                                                                                 \
  } while (0)

namespace sparsim::calib::gpu {

/// Times `launch(stream)` with CUDA events: `warmup` untimed calls, then `reps` timed ones.
template <class F>
Spread time_events(cudaStream_t stream, int warmup, int reps, F&& launch) {
  cudaEvent_t a, b;
  CUDA_CHECK(cudaEventCreate(&a));
  CUDA_CHECK(cudaEventCreate(&b));
  for (int i = 0; i < warmup; ++i) launch(stream);
  std::vector<double> s;
  for (int i = 0; i < reps; ++i) {
    CUDA_CHECK(cudaEventRecord(a, stream));
    launch(stream);
    CUDA_CHECK(cudaEventRecord(b, stream));
    CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    s.push_back(ms * 1e-3);
  }
  CUDA_CHECK(cudaEventDestroy(a));
  CUDA_CHECK(cudaEventDestroy(b));
  return spread_of(std::move(s));
}

/// A device buffer freed on scope exit.
template <class T>
struct DeviceBuffer {
  T* p = nullptr;
  std::size_t n = 0;
  explicit DeviceBuffer(std::size_t count) : n(count) { CUDA_CHECK(cudaMalloc(&p, count * sizeof(T))); }
  ~DeviceBuffer() { cudaFree(p); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

/// Theoretical HBM bandwidth from the device attributes: 2 (DDR) x memory clock x bus width.
double hbm_peak(int device);

}  // namespace sparsim::calib::gpu
