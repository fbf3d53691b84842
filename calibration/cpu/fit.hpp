// Fitting measured times to the alpha-beta model t(S) = latency + S / bandwidth.
#pragma once

#include <vector>

namespace sparsim::calib {

struct Sample {
  double bytes = 0;    ///< message or buffer size S, bytes
  double seconds = 0;  ///< measured time
};

struct LinearFit {
  double latency = 0;          ///< intercept, s (may come out negative on noisy data; callers clamp)
  double seconds_per_byte = 0; ///< slope, s/B
  double max_rel_residual = 0; ///< max |fit - t| / t over the samples
  double bandwidth() const { return seconds_per_byte > 0 ? 1.0 / seconds_per_byte : 0.0; }
};

/// Weighted least squares of t = a + b S with weights 1/t^2 (minimises the relative residuals,
/// so that the microsecond points fix the latency and the megabyte points the bandwidth).
/// Requires at least two distinct sizes.
LinearFit fit_latency_bandwidth(const std::vector<Sample>& samples);

}  // namespace sparsim::calib
