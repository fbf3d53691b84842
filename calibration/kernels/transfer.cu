// Host <-> device copies by size: pinned vs pageable host memory, on an idle device and while a
// compute kernel runs on another stream (the ECSS overlap case).
#include <cstring>

#include "common.cuh"
#include "gpu.hpp"

namespace sparsim::calib::gpu {

// Keeps the SMs busy for about `cycles` clocks per thread.
static __global__ void spin_kernel(float* sink, long long cycles) {
  const long long t0 = clock64();
  float x = threadIdx.x;
  while (clock64() - t0 < cycles) x = x * 0.999f + 1.0f;
  if (x == -1.0f) sink[0] = x;  // never true; keeps the loop
}

static void launch_spin(float* sink, long long cycles, cudaStream_t stream) {
  spin_kernel<<<1024, 256, 0, stream>>>(sink, cycles);
  CUDA_CHECK(cudaGetLastError());
}

static void launch_copy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, stream));
}

std::vector<Rate> host_device_copies(bool quick, int reps) {
  const std::size_t max_bytes = quick ? (std::size_t{64} << 20) : (std::size_t{256} << 20);
  char* pinned = nullptr;
  CUDA_CHECK(cudaMallocHost(&pinned, max_bytes));
  std::vector<char> pageable(max_bytes), back(max_bytes);
  for (std::size_t i = 0; i < max_bytes; ++i) pageable[i] = static_cast<char>(i * 31 + 7);
  std::memcpy(pinned, pageable.data(), max_bytes);
  DeviceBuffer<char> dev(max_bytes);
  DeviceBuffer<float> sink(1);
  cudaStream_t s, busy;
  CUDA_CHECK(cudaStreamCreate(&s));
  CUDA_CHECK(cudaStreamCreate(&busy));
  // Check: a round trip through the device returns the bytes unchanged.
  launch_copy(dev.p, pinned, max_bytes, cudaMemcpyHostToDevice, s);
  launch_copy(back.data(), dev.p, max_bytes, cudaMemcpyDeviceToHost, s);
  CUDA_CHECK(cudaStreamSynchronize(s));
  if (std::memcmp(back.data(), pageable.data(), max_bytes) != 0) throw std::runtime_error("H2D/D2H round trip corrupted data");

  std::vector<Rate> rates;
  for (std::size_t bytes = 4096; bytes <= max_bytes; bytes *= quick ? 64 : 16) {
    for (bool is_pinned : {true, false}) {
      for (bool h2d : {true, false}) {
        for (bool under_load : {false, true}) {
          if (under_load && !is_pinned) continue;  // a pageable copy is synchronous: no overlap to measure
          char* host = is_pinned ? pinned : pageable.data();
          const auto kind = h2d ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost;
          Rate r{std::string(h2d ? "H2D " : "D2H ") + (is_pinned ? "pinned " : "pageable ") + std::to_string(bytes) + " B" +
                     (under_load ? " while a kernel runs" : ""),
                 0, 0, static_cast<double>(bytes), {}};
          if (under_load) launch_spin(sink.p, 2000000000LL, busy);
          r.seconds = time_events(s, 1, reps, [&](cudaStream_t st) {
            launch_copy(h2d ? static_cast<void*>(dev.p) : host, h2d ? static_cast<const void*>(host) : dev.p, bytes, kind, st);
          });
          if (under_load) CUDA_CHECK(cudaStreamSynchronize(busy));
          r.achieved = bytes / r.seconds.min;
          rates.push_back(r);
        }
      }
    }
  }
  CUDA_CHECK(cudaStreamDestroy(s));
  CUDA_CHECK(cudaStreamDestroy(busy));
  CUDA_CHECK(cudaFreeHost(pinned));
  return rates;
}

}  // namespace sparsim::calib::gpu
