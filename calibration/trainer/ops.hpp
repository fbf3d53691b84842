// Layer kernels of the reference trainer: forward and hand-written backward, fp32, row-major,
// GEMMs through OpenBLAS (cblas_sgemm). Stateless functions; callers own the caches.
//
// Vocabulary (models/README.md): N = B s tokens, h hidden, a heads, dh = h / a, f FFN hidden,
// V vocabulary. Backward conventions: dx outputs are overwritten; parameter gradients (dW, db,
// dg) are accumulated (+=), so several micro-batches or experts can add into one buffer.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sparsim::trainer {

/// C[M,N] = alpha op(A) op(B) + beta C, row-major; op(X) = X^T when the flag is set.
void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc);
/// FLOPs (2 M N K) of every gemm() this thread has run so far: a monotonic counter, read before
/// and after a piece of work to count that work's GEMM FLOPs (sparsim validate compares a step's
/// count with the simulator's exactly).
std::uint64_t gemm_flops_counted();

/// y[N,out] = x[N,in] W[in,out] + b[out]
void linear_fwd(const float* x, const float* W, const float* b, float* y, int N, int in, int out);
/// dx[N,in] = dy W^T (skipped when dx is null); dW += x^T dy; db += column sums of dy. With
/// `accumulate` false, dW and db are overwritten instead (a gradient written once per step needs
/// no zeroed buffer).
void linear_bwd(const float* dy, const float* x, const float* W, float* dx, float* dW, float* db, int N, int in,
                int out, bool accumulate = true);

/// Row-wise layer norm of x[N,h]: y = (x - mean) rstd g + b, rstd = 1/sqrt(var + 1e-5).
void layernorm_fwd(const float* x, const float* g, const float* b, float* y, float* mean, float* rstd, int N, int h);
void layernorm_bwd(const float* dy, const float* x, const float* g, const float* mean, const float* rstd, float* dx,
                   float* dg, float* db, int N, int h);

/// GELU, tanh approximation: y = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
void gelu_fwd(const float* x, float* y, std::size_t n);
/// dx = dy gelu'(x) (overwritten).
void gelu_bwd(const float* x, const float* dy, float* dx, std::size_t n);

/// Causal multi-head attention. qkv[B s, 3h] holds Q | K | V (head j in columns j dh..),
/// out[B s, h], probs[B, a, s, s] the softmax cache (zero above the diagonal).
void attention_fwd(const float* qkv, float* out, float* probs, int B, int s, int h, int a);
/// dqkv[B s, 3h] overwritten.
void attention_bwd(const float* dout, const float* qkv, const float* probs, float* dqkv, int B, int s, int h, int a);

/// Row softmax in place over x[N,n].
void softmax_rows(float* x, int N, int n);

/// Cross-entropy of logits[N,V] against targets: returns the summed loss (in double);
/// dlogits = scale (softmax - onehot).
double xent_fwd_bwd(const float* logits, const int* targets, float* dlogits, int N, int V, float scale);

}  // namespace sparsim::trainer
