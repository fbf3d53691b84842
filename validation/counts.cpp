#include "validation/counts.hpp"

#include "sim/counts.hpp"
#include "workload/layout.hpp"
#include "workload/transformer.hpp"

namespace sparsim::validation {

std::vector<workload::SparseLayerTraffic> step_traffic(const Scenario& sc, const nlohmann::json& step) {
  std::vector<workload::SparseLayerTraffic> out;
  if (!sc.model.moe) return out;
  const int ep = sc.plan.ep;
  const workload::Shape s = workload::shape_of(sc);
  const double row = s.h * s.eb;  // bytes of one token's activation
  for (const auto& l : step.at("layers")) {
    workload::SparseLayerTraffic t;
    t.layer = l.at("layer").get<int>();
    t.local_experts = sc.model.moe->experts / ep;
    const auto sent = l.at("sent_rows").get<std::vector<double>>(), recv = l.at("recv_rows").get<std::vector<double>>();
    t.group = static_cast<int>(sent.size());
    t.rank_expert_tokens.assign(static_cast<std::size_t>(ep), std::vector<double>(static_cast<std::size_t>(t.local_experts), 0.0));
    t.rank_expert_tokens[0] = l.at("expert_tokens").get<std::vector<double>>();
    // rank 0's group is ranks 0 .. group-1, numbered alike within it
    t.dispatch.assign(static_cast<std::size_t>(ep), std::vector<double>(static_cast<std::size_t>(ep), 0.0));
    for (std::size_t r = 0; r < sent.size() && r < static_cast<std::size_t>(ep); ++r) {
      t.dispatch[0][r] = sent[r] * row;
      t.dispatch[r][0] = recv[r] * row;
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<CountMismatch> check_counts(const Scenario& sc, const nlohmann::json& routing) {
  std::vector<CountMismatch> bad;
  if (!routing.contains("counts_per_step") || routing.at("counts_per_step").empty()) {
    bad.push_back({0, "counts_per_step (the trainer's routing JSON has none)", 0, 0});
    return bad;
  }
  const auto& steps = routing.at("counts_per_step");
  const workload::Layout l = workload::layout_of(sc);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const nlohmann::json& step = steps[i];
    const sim::StepCounts sim = sim::step_counts(sc, l, step_traffic(sc, step), 0);
    const std::pair<const char*, double> pairs[] = {
        {"gemm_flops", sim.gemm_flops}, {"expert_gemm_flops", sim.expert_gemm_flops}, {"h2d_bytes", sim.h2d_bytes},
        {"d2h_bytes", sim.d2h_bytes},   {"ep_bytes", sim.ep_bytes},                   {"dp_bytes", sim.dp_bytes}};
    for (const auto& [what, predicted] : pairs) {
      const double measured = step.at(what).get<double>();
      // both are sums of integers below 2^53: equal means equal
      if (measured != predicted) bad.push_back({i, what, measured, predicted});
    }
  }
  return bad;
}

}  // namespace sparsim::validation
