// cuBLAS GEMM efficiency tables: fp32, fp16 and bf16 inputs (fp32 accumulate), row-major
// C[m x n] = A[m x k] B[k x n] computed as the column-major C^T = B^T A^T.
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <random>

#include "common.cuh"
#include "cpu/gemm.hpp"
#include "gpu.hpp"

#define CUBLAS_CHECK(call)                                                                         \
  do {                                                                                             \
    const cublasStatus_t st_ = (call);                                                             \
    if (st_ != CUBLAS_STATUS_SUCCESS) {                                                            \
      throw std::runtime_error(std::string(#call) + " failed: " + std::to_string(static_cast<int>(st_))); \
    }                                                                                              \
  } while (0)

namespace sparsim::calib::gpu {

namespace {

struct Type {
  cudaDataType_t cuda;
  std::size_t bytes;
  cublasComputeType_t compute;
};

Type type_of(const std::string& p) {
  if (p == "fp32") return {CUDA_R_32F, 4, CUBLAS_COMPUTE_32F};
  if (p == "fp16") return {CUDA_R_16F, 2, CUBLAS_COMPUTE_32F};
  if (p == "bf16") return {CUDA_R_16BF, 2, CUBLAS_COMPUTE_32F};
  throw std::invalid_argument("cublas_gemm: unknown precision '" + p + "'; known: fp32, fp16, bf16");
}

// Host floats -> device buffer of the given type (values chosen exactly representable in all).
void upload(void* dst, const std::vector<float>& src, const Type& t) {
  std::vector<char> buf(src.size() * t.bytes);
  for (std::size_t i = 0; i < src.size(); ++i) {
    if (t.cuda == CUDA_R_32F) reinterpret_cast<float*>(buf.data())[i] = src[i];
    else if (t.cuda == CUDA_R_16F) reinterpret_cast<__half*>(buf.data())[i] = __float2half(src[i]);
    else reinterpret_cast<__nv_bfloat16*>(buf.data())[i] = __float2bfloat16(src[i]);
  }
  CUDA_CHECK(cudaMemcpy(dst, buf.data(), buf.size(), cudaMemcpyHostToDevice));
}

}  // namespace

// FLOP/clock/SM of dense GEMM by compute capability (datasheet peak / (SMs x boost clock)):
// A100 (8.0): 312 TFLOPS fp16/bf16 -> 1024 FMA = 2048 FLOP, fp32 128; H100 (9.0): 4096 and 256.
static double flop_per_clock_per_sm(int major, const std::string& p) {
  const bool half = p != "fp32";
  if (major == 8) return half ? 2048 : 128;
  if (major == 9) return half ? 4096 : 256;
  return 0;
}

static void launch_gemm(cublasHandle_t h, const Type& t, int m, int n, int k, const void* a, const void* b, float* c,
                        cudaStream_t stream) {
  const float one = 1, zero = 0;
  CUBLAS_CHECK(cublasSetStream(h, stream));
  CUBLAS_CHECK(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one, b, t.cuda, n, a, t.cuda, k, &zero, c, CUDA_R_32F, n,
                            t.compute, CUBLAS_GEMM_DEFAULT));
}

std::vector<Rate> cublas_gemm(const std::string& precision, bool quick, int reps) {
  const Type t = type_of(precision);
  int dev = 0, major = 0, sms = 0, khz = 0;
  CUDA_CHECK(cudaGetDevice(&dev));
  CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  CUDA_CHECK(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, dev));
  const double peak = flop_per_clock_per_sm(major, precision) * sms * khz * 1e3;
  cublasHandle_t h;
  CUBLAS_CHECK(cublasCreate(&h));
  cudaStream_t s;
  CUDA_CHECK(cudaStreamCreate(&s));
  std::vector<GemmShape> shapes = {{13, 11, 7, "awkward"}, {1024, 1024, 1024, ""}, {4096, 4096, 4096, ""}};
  if (!quick) {
    for (int d : {256, 512, 2048, 8192}) shapes.push_back({d, d, d, ""});
    shapes.push_back({8192, 3 * 4096, 4096, "tokens 8192 h=4096 qkv"});
    shapes.push_back({8192, 4096, 16384, "tokens 8192 h=4096 ffn-down"});
  }
  std::vector<Rate> rates;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> u(-4, 4);  // small integers: exact in bf16/fp16, exact sums in fp32
  for (const GemmShape& sh : shapes) {
    std::vector<float> a(static_cast<std::size_t>(sh.m) * sh.k), b(static_cast<std::size_t>(sh.k) * sh.n), c(static_cast<std::size_t>(sh.m) * sh.n);
    for (auto& x : a) x = static_cast<float>(u(rng)) * 0.25f;
    for (auto& x : b) x = static_cast<float>(u(rng)) * 0.25f;
    DeviceBuffer<char> da(a.size() * t.bytes), db(b.size() * t.bytes);
    DeviceBuffer<float> dc(c.size());
    upload(da.p, a, t);
    upload(db.p, b, t);
    launch_gemm(h, t, sh.m, sh.n, sh.k, da.p, db.p, dc.p, s);
    CUDA_CHECK(cudaStreamSynchronize(s));
    CUDA_CHECK(cudaMemcpy(c.data(), dc.p, c.size() * 4, cudaMemcpyDeviceToHost));
    // fp32 inputs may run on TF32 tensor cores (10-bit mantissa): inputs k/4 are exact there too.
    const double err = gemm_sampled_error(sh.m, sh.n, sh.k, a.data(), b.data(), c.data(), 512);
    if (!(err < 1e-3)) throw std::runtime_error("cuBLAS " + precision + " GEMM differs from the CPU reference by " + std::to_string(err));
    Rate r{precision + " GEMM " + std::to_string(sh.m) + "x" + std::to_string(sh.n) + "x" + std::to_string(sh.k), 0, peak, sh.flops(), {}};
    r.seconds = time_events(s, 3, reps, [&](cudaStream_t st) { launch_gemm(h, t, sh.m, sh.n, sh.k, da.p, db.p, dc.p, st); });
    r.achieved = r.flops_or_bytes / r.seconds.min;
    rates.push_back(r);
  }
  CUDA_CHECK(cudaStreamDestroy(s));
  CUBLAS_CHECK(cublasDestroy(h));
  return rates;
}

}  // namespace sparsim::calib::gpu
