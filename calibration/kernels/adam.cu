// Fused AdamW: one pass reads p, g, m, v and writes p, m, v (28 bytes per parameter).
#include <cmath>

#include "common.cuh"
#include "cpu/adam.hpp"
#include "gpu.hpp"

namespace sparsim::calib::gpu {

static __global__ void adamw_kernel(float* p, const float* g, float* m, float* v, std::size_t n, AdamConfig c,
                                    float c1, float c2) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float mi = c.beta1 * m[i] + (1 - c.beta1) * g[i];
    const float vi = c.beta2 * v[i] + (1 - c.beta2) * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    p[i] -= c.lr * ((mi * c1) / (sqrtf(vi * c2) + c.eps) + c.weight_decay * p[i]);
  }
}

static void launch_adamw(float* p, const float* g, float* m, float* v, std::size_t n, const AdamConfig& c,
                         cudaStream_t stream) {
  const auto c1 = static_cast<float>(1.0 / (1.0 - std::pow(c.beta1, c.step)));
  const auto c2 = static_cast<float>(1.0 / (1.0 - std::pow(c.beta2, c.step)));
  adamw_kernel<<<1024, 256, 0, stream>>>(p, g, m, v, n, c, c1, c2);
  CUDA_CHECK(cudaGetLastError());
}

Rate fused_adam(std::size_t n, int reps) {
  if (n == 0) throw std::invalid_argument("fused_adam: n must be positive");
  std::vector<float> p(n), g(n), m(n, 0.0f), v(n, 0.0f);
  for (std::size_t i = 0; i < n; ++i) {
    p[i] = 0.5f - static_cast<float>(i % 101) * 0.01f;
    g[i] = 0.03f * static_cast<float>(static_cast<int>(i % 13) - 6);
  }
  DeviceBuffer<float> dp(n), dg(n), dm(n), dv(n);
  CUDA_CHECK(cudaMemcpy(dp.p, p.data(), n * 4, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(dg.p, g.data(), n * 4, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemset(dm.p, 0, n * 4));
  CUDA_CHECK(cudaMemset(dv.p, 0, n * 4));
  cudaStream_t s;
  CUDA_CHECK(cudaStreamCreate(&s));
  AdamConfig c;
  launch_adamw(dp.p, dg.p, dm.p, dv.p, n, c, s);
  CUDA_CHECK(cudaStreamSynchronize(s));
  std::vector<float> out(n);
  CUDA_CHECK(cudaMemcpy(out.data(), dp.p, n * 4, cudaMemcpyDeviceToHost));
  adamw_reference(p.data(), g.data(), m.data(), v.data(), n, c);
  for (std::size_t i = 0; i < n; ++i) {
    if (std::abs(out[i] - p[i]) > 1e-5f * (std::abs(p[i]) + 1e-3f)) {
      throw std::runtime_error("fused Adam kernel differs from the CPU reference at " + std::to_string(i));
    }
  }
  Rate r{"fused AdamW " + std::to_string(n) + " params (B/s, 28 B/param)", 0, hbm_peak(0), 28.0 * n, {}};
  r.seconds = time_events(s, 2, reps, [&](cudaStream_t st) { launch_adamw(dp.p, dg.p, dm.p, dv.p, n, c, st); });
  r.achieved = r.flops_or_bytes / r.seconds.min;
  CUDA_CHECK(cudaStreamDestroy(s));
  return r;
}

}  // namespace sparsim::calib::gpu
