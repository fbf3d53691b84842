// The element-wise rate of a CPU device: the reference trainer's own layer-norm, GELU and
// softmax kernels, timed on one thread (as each trainer rank runs them) and counted with the
// simulator's FLOP convention (workload::vflop), so that device.vector_flops reproduces them.
#pragma once

#include "timing.hpp"

namespace sparsim::calib {

struct ElementwiseShape {
  int tokens = 512, hidden = 256, ffn = 1024, seq = 64;
};

struct ElementwiseResult {
  ElementwiseShape shape;
  double vflops = 0;   ///< FLOP of one pass (vflop convention): LN and GELU forward + backward, softmax
  Spread seconds;      ///< per pass
  double rate = 0;     ///< vflops / best (min) time, FLOP/s on one thread
};

/// Checks GELU and softmax against std:: references (throws std::runtime_error past 1e-5
/// absolute), then times `reps` passes after a warm-up.
ElementwiseResult measure_elementwise(const ElementwiseShape& shape, int reps);

}  // namespace sparsim::calib
