// NCCL all-reduce and all-to-all among the GPUs of this machine (one process, one communicator
// per GPU). Needs >= 2 GPUs and NCCL at build time (SPARSIM_HAVE_NCCL); otherwise returns nothing.
#include <chrono>

#include "common.cuh"
#include "gpu.hpp"

#ifdef SPARSIM_HAVE_NCCL
#include <nccl.h>

#define NCCL_CHECK(call)                                                                            \
  do {                                                                                              \
    const ncclResult_t r_ = (call);                                                                 \
    if (r_ != ncclSuccess) throw std::runtime_error(std::string(#call) + ": " + ncclGetErrorString(r_)); \
  } while (0)
#endif

namespace sparsim::calib::gpu {

#ifdef SPARSIM_HAVE_NCCL
static void launch_all_reduce(const std::vector<ncclComm_t>& comms, const std::vector<float*>& buf, std::size_t n,
                              const std::vector<cudaStream_t>& streams) {
  NCCL_CHECK(ncclGroupStart());
  for (std::size_t g = 0; g < comms.size(); ++g) NCCL_CHECK(ncclAllReduce(buf[g], buf[g], n, ncclFloat, ncclSum, comms[g], streams[g]));
  NCCL_CHECK(ncclGroupEnd());
}

// All-to-all as grouped send/recv: GPU g sends block d of its buffer to GPU d.
static void launch_all_to_all(const std::vector<ncclComm_t>& comms, const std::vector<float*>& in, const std::vector<float*>& out,
                              std::size_t block, const std::vector<cudaStream_t>& streams) {
  NCCL_CHECK(ncclGroupStart());
  for (std::size_t g = 0; g < comms.size(); ++g) {
    for (std::size_t d = 0; d < comms.size(); ++d) {
      NCCL_CHECK(ncclSend(in[g] + d * block, block, ncclFloat, static_cast<int>(d), comms[g], streams[g]));
      NCCL_CHECK(ncclRecv(out[g] + d * block, block, ncclFloat, static_cast<int>(d), comms[g], streams[g]));
    }
  }
  NCCL_CHECK(ncclGroupEnd());
}
#endif

std::vector<Rate> nccl_collectives(bool quick, int reps) {
  std::vector<Rate> rates;
#ifdef SPARSIM_HAVE_NCCL
  int p = 0;
  CUDA_CHECK(cudaGetDeviceCount(&p));
  if (p < 2) return rates;
  std::vector<ncclComm_t> comms(static_cast<std::size_t>(p));
  NCCL_CHECK(ncclCommInitAll(comms.data(), p, nullptr));
  const std::size_t max_n = (quick ? std::size_t{16} : std::size_t{256}) << 20;  // floats
  const auto up = static_cast<std::size_t>(p);
  std::vector<float*> a(up), b(up);
  std::vector<cudaStream_t> st(up);
  for (std::size_t g = 0; g < up; ++g) {
    CUDA_CHECK(cudaSetDevice(static_cast<int>(g)));
    CUDA_CHECK(cudaMalloc(&a[g], max_n * 4));
    CUDA_CHECK(cudaMalloc(&b[g], max_n * 4));
    CUDA_CHECK(cudaStreamCreate(&st[g]));
  }
  auto sync = [&] {
    for (std::size_t g = 0; g < up; ++g) CUDA_CHECK(cudaStreamSynchronize(st[g]));
  };
  // Check: every GPU holds g + 1 everywhere; the all-reduce sum is p (p + 1) / 2.
  for (std::size_t g = 0; g < up; ++g) {
    std::vector<float> v(1024, static_cast<float>(g + 1));
    CUDA_CHECK(cudaMemcpy(a[g], v.data(), v.size() * 4, cudaMemcpyHostToDevice));
  }
  launch_all_reduce(comms, a, 1024, st);
  sync();
  for (std::size_t g = 0; g < up; ++g) {
    std::vector<float> v(1024);
    CUDA_CHECK(cudaMemcpy(v.data(), a[g], v.size() * 4, cudaMemcpyDeviceToHost));
    for (float x : v) {
      if (x != static_cast<float>(p * (p + 1) / 2)) throw std::runtime_error("NCCL all-reduce returned a wrong sum");
    }
  }
  for (std::size_t n = 1024; n <= max_n; n *= 16) {
    for (bool ar : {true, false}) {
      std::vector<double> s;
      for (int i = -2; i < reps; ++i) {
        sync();
        const auto t0 = std::chrono::steady_clock::now();
        if (ar) launch_all_reduce(comms, a, n, st);
        else launch_all_to_all(comms, a, b, n / up, st);
        sync();
        if (i >= 0) s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      Rate r{std::string(ar ? "NCCL all-reduce " : "NCCL all-to-all ") + std::to_string(n * 4) + " B over " + std::to_string(p) + " GPUs",
             0, 0, n * 4.0, spread_of(s)};
      r.achieved = r.flops_or_bytes / r.seconds.min;  // algorithm bandwidth S / t
      rates.push_back(r);
    }
  }
  for (std::size_t g = 0; g < up; ++g) {
    CUDA_CHECK(cudaSetDevice(static_cast<int>(g)));
    cudaFree(a[g]);
    cudaFree(b[g]);
    cudaStreamDestroy(st[g]);
    ncclCommDestroy(comms[g]);
  }
  CUDA_CHECK(cudaSetDevice(0));
#else
  (void)quick;
  (void)reps;
#endif
  return rates;
}

}  // namespace sparsim::calib::gpu
