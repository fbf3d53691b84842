// fp32 GEMM through OpenBLAS, its naive reference, and the efficiency table over shapes.
// Row-major throughout: C[m x n] = A[m x k] * B[k x n]; FLOP per GEMM = 2 m n k.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config/scenario.hpp"
#include "timing.hpp"

namespace sparsim::calib {

struct GemmShape {
  int m = 0;
  int n = 0;
  int k = 0;
  std::string tag;  ///< where the shape comes from, e.g. "trainer h=256 ffn-up"
  GemmTrans trans = GemmTrans::nn;  ///< nt: B stored n x k; tn: A stored k x m (as the trainer's gradients)
  /// > 1: one measurement is the GEMMs at `window` consecutive token counts centred on this one
  /// (token_counts), the token count being m, or k for tn (device.gemm_shapes window)
  int window = 1;
  /// The token counts a measurement runs: this one, or its window (those >= 1).
  std::vector<int> token_counts() const;
  /// The shape at token count t.
  GemmShape at_tokens(int t) const;
  /// FLOP of one measurement: 2 m n k, summed over the window.
  double flops() const;
};

/// The reference: a plain triple loop, accumulated in double.
void gemm_reference(int m, int n, int k, const float* a, const float* b, float* c);
/// The measured kernel: cblas_sgemm, row-major, alpha 1, beta 0.
void gemm_blas(int m, int n, int k, const float* a, const float* b, float* c);
/// The same with A, B stored as `trans` says (tn: A is k x m; nt: B is n x k).
void gemm_blas(GemmTrans trans, int m, int n, int k, const float* a, const float* b, float* c);

/// Largest |c - reference| / (|reference| + 1) over `samples` output entries chosen evenly
/// (every entry when samples >= m n); the reference entry is a double-accumulated dot product.
double gemm_sampled_error(int m, int n, int k, const float* a, const float* b, const float* c, int samples);

/// The dimensions of a transformer whose GEMMs `model_gemm_shapes` lists.
struct GemmModel {
  int hidden = 0, ffn = 0, heads = 0, seq = 0, vocab = 0;
  int gate_experts = 0;  ///< > 0: the learned gate's [T, h] @ [h, E] too
  bool experts = false;  ///< sparse layers: the FFN's GEMMs over windows of token counts too
  int tokens = 0;        ///< > 0: the tokens per device of a step (the dense GEMMs' token count)
};

/// Every GEMM of the reference trainer's forward and backward for `m`, as the simulator names
/// them (models/workload/transformer.cpp): QKV, output projection, FFN up and down, logits and
/// gate, each forward (nn), input gradient (nt) and weight gradient (tn), over a grid of token
/// counts from 8 to 1024, round and odd (the token count is k for weight gradients); and one
/// sequence's attention GEMMs per head. With experts, the FFN's GEMMs again over windows of
/// kExpertWindow token counts (an expert's token count varies from step to step).
inline constexpr int kExpertWindow = 16;
/// `quick` with m.tokens known: the dense GEMMs at that token count only, not the grid.
std::vector<GemmShape> model_gemm_shapes(const GemmModel& m, bool quick = false);

/// Shapes measured: the reference trainer's (tokens x hidden with hidden 64..512, FFN 4h, the
/// attention score and logits GEMMs) and large square ones. `quick` keeps a subset.
std::vector<GemmShape> gemm_shapes(bool quick);

struct GemmPoint {
  GemmShape shape;
  Spread seconds;         ///< per GEMM
  double flop_rate = 0;   ///< FLOP/s at the best (min) time: the machine may be shared
  double max_error = 0;   ///< gemm_sampled_error of the timed kernel's output
};

/// Checks each shape against the reference (throws std::runtime_error past 1e-3 relative),
/// then times it: `reps` repetitions after one warm-up, the repetition count reduced for
/// shapes slower than `budget_s` per shape.
std::vector<GemmPoint> measure_gemm(const std::vector<GemmShape>& shapes, int reps, double budget_s);

/// The same checks, then the shapes timed as a training step meets them: grouped by token count
/// (a step's GEMMs at one batch size), each group's shapes called in turn, one call each per
/// round, so that a GEMM follows other GEMMs and finds its operands evicted, not itself with its
/// operands in cache. After one warm-up round, as many rounds as fit `budget_s` per group, 3 to
/// `max_rounds`; per-shape spread over the rounds. `after_group` (when set) runs after each group.
std::vector<GemmPoint> measure_gemm_interleaved(const std::vector<GemmShape>& shapes, int max_rounds, double budget_s,
                                                const std::function<void()>& after_group = {});

/// One row of the node file's gemm_efficiency table.
struct EfficiencyRow {
  double flops = 0;       ///< FLOP per GEMM
  double efficiency = 0;  ///< achieved / peak, in (0, 1]
};

/// Efficiency = flop_rate / peak for each point, sorted by FLOP; points whose FLOP counts are
/// within 2 % of each other are merged (median FLOP, mean efficiency); clamped to (1e-6, 1].
std::vector<EfficiencyRow> efficiency_table(const std::vector<GemmPoint>& points, double peak);

/// Sets the OpenBLAS thread count (openblas_set_num_threads).
void set_blas_threads(int threads);
int blas_threads();
/// openblas_get_config(): version, build target and threading of the library linked in.
std::string blas_config();

}  // namespace sparsim::calib
