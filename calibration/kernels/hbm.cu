// HBM bandwidth: a grid-stride copy kernel (reads n, writes n floats).
#include "common.cuh"
#include "gpu.hpp"

namespace sparsim::calib::gpu {

static __global__ void copy_kernel(float4* __restrict__ dst, const float4* __restrict__ src, std::size_t n4) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n4;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    dst[i] = src[i];
  }
}

static void launch_copy(float* dst, const float* src, std::size_t n, cudaStream_t stream) {
  const std::size_t n4 = n / 4;
  copy_kernel<<<1024, 256, 0, stream>>>(reinterpret_cast<float4*>(dst), reinterpret_cast<const float4*>(src), n4);
  CUDA_CHECK(cudaGetLastError());
}

double hbm_peak(int device) {
  int mem_khz = 0, bus_bits = 0;
  if (cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, device) != cudaSuccess) return 0;
  if (cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device) != cudaSuccess) return 0;
  return 2.0 * mem_khz * 1e3 * bus_bits / 8.0;
}

Rate hbm_copy(std::size_t bytes, int reps) {
  if (bytes % 16 != 0 || bytes == 0) throw std::invalid_argument("hbm_copy: bytes must be a positive multiple of 16");
  const std::size_t n = bytes / sizeof(float);
  DeviceBuffer<float> a(n), b(n);
  std::vector<float> host(n), back(n);
  for (std::size_t i = 0; i < n; ++i) host[i] = static_cast<float>(i % 1013) * 0.5f;
  CUDA_CHECK(cudaMemcpy(b.p, host.data(), bytes, cudaMemcpyHostToDevice));
  cudaStream_t s;
  CUDA_CHECK(cudaStreamCreate(&s));
  launch_copy(a.p, b.p, n, s);
  CUDA_CHECK(cudaStreamSynchronize(s));
  CUDA_CHECK(cudaMemcpy(back.data(), a.p, bytes, cudaMemcpyDeviceToHost));
  if (back != host) throw std::runtime_error("hbm copy kernel: output differs from the input");
  Rate r{"HBM copy " + std::to_string(bytes >> 20) + " MiB", 0, hbm_peak(0), 2.0 * bytes, {}};
  r.seconds = time_events(s, 2, reps, [&](cudaStream_t st) { launch_copy(a.p, b.p, n, st); });
  r.achieved = r.flops_or_bytes / r.seconds.min;
  CUDA_CHECK(cudaStreamDestroy(s));
  return r;
}

}  // namespace sparsim::calib::gpu
