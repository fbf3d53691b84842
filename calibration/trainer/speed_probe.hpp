// The machine-speed probe: a fixed piece of GEMM work timed now and then, so that a measurement
// can be compared with a calibration taken while the machine ran at another speed.
//
// The shared 2-vCPU machines of 2026-12-02 change speed in states lasting seconds: a 2-thread
// GEMM ran at 185, then 157, then 132, then 188 GFLOP/s within 30 s, and runs of the same trainer
// configuration took 44-60 ms a step. Timed between the trainer's steps the probe tracks them:
// over ten dense runs the product (median step x median probe) stayed within +-3% while the step
// moved by +-16%. `sparsim calibrate --cpu` takes it between its measurements and records the
// median; the trainer takes it after each timed step (RunOptions::speed_probe); `sparsim validate`
// scales a calibration's prediction by their ratio.
#pragma once

#include <vector>

namespace sparsim::trainer {

class SpeedProbe {
 public:
  /// The shape: the trainer's FFN up-projection at 512 tokens, h = 256, f = 1024.
  static constexpr int kM = 512, kN = 1024, kK = 256, kCalls = 2;
  SpeedProbe();
  /// Times kCalls GEMMs on every hardware thread (the machine's speed, whatever share of it the
  /// caller has), as they come (no warm-up: the probe runs after other
  /// work, as the trainer's GEMMs do). Returns GFLOP/s; the BLAS thread count is restored.
  double sample();

 private:
  std::vector<float> a_, b_, c_;
};

}  // namespace sparsim::trainer
