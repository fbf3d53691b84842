// The element-wise rate of a CPU device: the reference trainer's own layer-norm, GELU and
// softmax kernels, timed on one thread (as each trainer rank runs them) and counted with the
// simulator's FLOP convention (workload::vflop), so that device.vector_flops reproduces them.
#pragma once

#include <string>
#include <vector>

#include "timing.hpp"

namespace sparsim::calib {

struct ElementwiseShape {
  int tokens = 512, hidden = 256, ffn = 1024, seq = 64, vocab = 258;
};

/// One kernel alone, named as device.vector_rates keys it (kVectorKernels, "_bwd" for a
/// backward). cross_entropy is the trainer's fused softmax, loss and gradient: its FLOPs are
/// the forward's and backward's together, and the rate stands for both.
struct KernelRate {
  std::string kernel;
  double vflops = 0;  ///< per call, vflop convention
  Spread seconds;     ///< per call
  double rate = 0;    ///< vflops / median time: the typical call, as the trainer makes it
};

struct ElementwiseResult {
  ElementwiseShape shape;
  double vflops = 0;   ///< FLOP of one pass (vflop convention): LN and GELU forward + backward, softmax
  Spread seconds;      ///< per pass
  double rate = 0;     ///< vflops / best (min) time, FLOP/s on one thread
  std::vector<KernelRate> kernels;  ///< each kernel of the pass timed alone, and cross_entropy
};

/// Checks GELU and softmax against std:: references (throws std::runtime_error past 1e-5
/// absolute), then times `reps` passes after a warm-up, and `reps` calls of each kernel alone.
ElementwiseResult measure_elementwise(const ElementwiseShape& shape, int reps);

}  // namespace sparsim::calib
