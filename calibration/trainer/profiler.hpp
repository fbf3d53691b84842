// Per-phase wall-clock timings of a training step, kept as spans that become the measured
// StepResult breakdown and a Chrome trace (categories as in sim/trace.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/trace.hpp"

namespace sparsim::trainer {

/// What one step computed and moved on this rank, counted rather than timed. `sparsim validate`
/// compares each timed step's counts with the simulator's for the same routing (sim::StepCounts):
/// they must be equal, whatever the machine's speed.
struct StepCounts {
  std::uint64_t gemm_flops = 0;         ///< 2 M N K of every GEMM of the step (ops.hpp gemm())
  std::uint64_t expert_gemm_flops = 0;  ///< of which in expert FFNs
  std::uint64_t h2d_bytes = 0, d2h_bytes = 0;  ///< expert weights in, gradients out (offload, ecss)
  std::uint64_t ep_bytes = 0;  ///< all-to-all payload this rank sent to other ranks (dispatch, combine, both passes)
  std::uint64_t dp_bytes = 0;  ///< payload of the gradient all-reduce
  /// One sparse layer's routing on this rank in the step's forward.
  struct Layer {
    int layer = 0;
    std::vector<std::int64_t> expert_tokens;  ///< token-expert assignments each local expert computed
    std::vector<std::int64_t> sent_rows;      ///< dispatch: token rows sent to each rank of the group (self included)
    std::vector<std::int64_t> recv_rows;      ///< dispatch: token rows received from each rank of the group
  };
  std::vector<Layer> layers;
};

class Profiler {
 public:
  struct Span {
    std::string name;
    const char* category;  ///< compute | dp | ep | h2d | d2h | host_optimizer | optimizer
    sim::Lane lane;
    double start, dur;  ///< s since the profiler was created
  };
  class Scope {
   public:
    Scope(Profiler& p, const char* name, const char* category, sim::Lane lane)
        : p_(p), name_(name), category_(category), lane_(lane), start_(p.now()) {}
    ~Scope() { p_.add(name_, category_, lane_, start_, p_.now() - start_); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Profiler& p_;
    const char* name_;
    const char* category_;
    sim::Lane lane_;
    double start_;
  };

  Profiler() : t0_(std::chrono::steady_clock::now()) {}
  double now() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count(); }
  /// When the profiler was created, s on the steady clock: CLOCK_MONOTONIC, one clock for all
  /// the processes of a machine, so ranks can compare their spans.
  double origin() const { return std::chrono::duration<double>(t0_.time_since_epoch()).count(); }
  Scope scope(const char* name, const char* category, sim::Lane lane = sim::Lane::compute) {
    return Scope(*this, name, category, lane);
  }
  void add(const char* name, const char* category, sim::Lane lane, double start, double dur) {
    if (enabled) spans.push_back(Span{name, category, lane, start, dur});
  }
  bool enabled = true;
  std::vector<Span> spans;
  StepCounts counts;  ///< of the current step (Trainer::train_step starts it afresh)

 private:
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace sparsim::trainer
