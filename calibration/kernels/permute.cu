// MoE token dispatch/combine: gather rows by an index (out[i] = in[idx[i]]) and scatter them
// back (out[idx[i]] = in[i]); rows of `hidden` bf16-sized (2-byte) elements.
#include <numeric>
#include <random>

#include "common.cuh"
#include "gpu.hpp"

namespace sparsim::calib::gpu {

static __global__ void gather_kernel(unsigned short* out, const unsigned short* in, const int* idx, int tokens, int hidden) {
  for (int t = blockIdx.x; t < tokens; t += gridDim.x) {
    const unsigned short* src = in + static_cast<std::size_t>(idx[t]) * hidden;
    unsigned short* dst = out + static_cast<std::size_t>(t) * hidden;
    for (int j = threadIdx.x; j < hidden; j += blockDim.x) dst[j] = src[j];
  }
}

static __global__ void scatter_kernel(unsigned short* out, const unsigned short* in, const int* idx, int tokens, int hidden) {
  for (int t = blockIdx.x; t < tokens; t += gridDim.x) {
    const unsigned short* src = in + static_cast<std::size_t>(t) * hidden;
    unsigned short* dst = out + static_cast<std::size_t>(idx[t]) * hidden;
    for (int j = threadIdx.x; j < hidden; j += blockDim.x) dst[j] = src[j];
  }
}

static void launch_permute(bool gather, unsigned short* out, const unsigned short* in, const int* idx, int tokens,
                           int hidden, cudaStream_t stream) {
  if (gather) gather_kernel<<<2048, 256, 0, stream>>>(out, in, idx, tokens, hidden);
  else scatter_kernel<<<2048, 256, 0, stream>>>(out, in, idx, tokens, hidden);
  CUDA_CHECK(cudaGetLastError());
}

std::vector<Rate> token_permute(std::size_t tokens, int hidden, int reps) {
  if (tokens == 0 || hidden <= 0) throw std::invalid_argument("token_permute: tokens and hidden must be positive");
  const auto T = static_cast<int>(tokens);
  const std::size_t n = tokens * static_cast<std::size_t>(hidden);
  std::vector<int> idx(tokens);
  std::iota(idx.begin(), idx.end(), 0);
  std::shuffle(idx.begin(), idx.end(), std::mt19937(3));  // a permutation: every row moves once
  std::vector<unsigned short> in(n), out(n), ref(n);
  for (std::size_t i = 0; i < n; ++i) in[i] = static_cast<unsigned short>(i * 2654435761u >> 16);
  DeviceBuffer<unsigned short> din(n), dout(n);
  DeviceBuffer<int> didx(tokens);
  CUDA_CHECK(cudaMemcpy(din.p, in.data(), n * 2, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(didx.p, idx.data(), tokens * 4, cudaMemcpyHostToDevice));
  cudaStream_t s;
  CUDA_CHECK(cudaStreamCreate(&s));
  std::vector<Rate> rates;
  for (bool gather : {true, false}) {
    for (std::size_t t = 0; t < tokens; ++t) {
      const std::size_t from = gather ? static_cast<std::size_t>(idx[t]) : t, to = gather ? t : static_cast<std::size_t>(idx[t]);
      std::copy_n(in.begin() + static_cast<long>(from * hidden), hidden, ref.begin() + static_cast<long>(to * hidden));
    }
    launch_permute(gather, dout.p, din.p, didx.p, T, hidden, s);
    CUDA_CHECK(cudaStreamSynchronize(s));
    CUDA_CHECK(cudaMemcpy(out.data(), dout.p, n * 2, cudaMemcpyDeviceToHost));
    if (out != ref) throw std::runtime_error(std::string("token ") + (gather ? "gather" : "scatter") + " differs from the CPU loop");
    Rate r{std::string("token ") + (gather ? "gather" : "scatter") + " " + std::to_string(tokens) + "x" + std::to_string(hidden) +
               " (B/s, read + write)",
           0, hbm_peak(0), 4.0 * n, {}};
    r.seconds = time_events(s, 2, reps, [&](cudaStream_t st) { launch_permute(gather, dout.p, din.p, didx.p, T, hidden, st); });
    r.achieved = r.flops_or_bytes / r.seconds.min;
    rates.push_back(r);
  }
  CUDA_CHECK(cudaStreamDestroy(s));
  return rates;
}

}  // namespace sparsim::calib::gpu
