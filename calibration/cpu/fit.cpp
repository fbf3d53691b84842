#include "fit.hpp"

#include <algorithm>
#include <cmath>

#include "config/error.hpp"

namespace sparsim::calib {

LinearFit fit_latency_bandwidth(const std::vector<Sample>& samples) {
  SPARSIM_ASSERT(samples.size() >= 2, "at least two samples");
  // Normal equations of min sum w (a + b x - t)^2:
  //   [sw  swx ] [a]   [swt ]
  //   [swx swxx] [b] = [swxt]
  double sw = 0, swx = 0, swxx = 0, swt = 0, swxt = 0;
  for (const Sample& s : samples) {
    SPARSIM_ASSERT(s.seconds > 0, "times must be positive");
    const double w = 1.0 / (s.seconds * s.seconds);
    sw += w;
    swx += w * s.bytes;
    swxx += w * s.bytes * s.bytes;
    swt += w * s.seconds;
    swxt += w * s.bytes * s.seconds;
  }
  const double det = sw * swxx - swx * swx;
  SPARSIM_ASSERT(det > 0, "at least two distinct sizes");
  LinearFit f;
  f.latency = (swxx * swt - swx * swxt) / det;
  f.seconds_per_byte = (sw * swxt - swx * swt) / det;
  for (const Sample& s : samples) {
    f.max_rel_residual = std::max(f.max_rel_residual, std::abs(f.latency + f.seconds_per_byte * s.bytes - s.seconds) / s.seconds);
  }
  return f;
}

}  // namespace sparsim::calib
