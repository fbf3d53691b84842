#include "sim/compare_table.hpp"

#include <fmt/format.h>

#include "sim/result.hpp"

namespace sparsim::sim {

namespace {

double num(const nlohmann::json& j, const char* a, const char* b = nullptr, const char* c = nullptr) {
  const nlohmann::json* x = &j.at(a);
  if (b != nullptr) x = &x->at(b);
  if (c != nullptr) x = &x->at(c);
  return x->get<double>();
}

/// A cell of the verdict row: the word a person reads ("does not fit"); why is below the table.
const char* short_text(workload::VerdictKind k) {
  switch (k) {
    case workload::VerdictKind::runs: return "runs";
    case workload::VerdictKind::does_not_fit: return "does not fit";
    case workload::VerdictKind::infeasible: return "infeasible";
  }
  return "?";
}

}  // namespace

std::string compare_table(const std::vector<std::string>& names, const std::vector<nlohmann::json>& results,
                          size_t baseline) {
  constexpr double GiB = 1024.0 * 1024 * 1024;
  const size_t w = 16;
  std::vector<workload::Verdict> verdicts;
  for (const auto& r : results) verdicts.push_back(verdict(from_json(r)));
  std::string o = fmt::format("{:<22}", "");
  for (const auto& n : names) o += fmt::format("{:>{}}", n, w);
  o += "\nverdict               ";
  for (const auto& v : verdicts) o += fmt::format("{:>{}}", short_text(v.kind), w);
  o += "\n";
  // A row of numbers: "-" for a variant whose plan cannot run.
  auto row = [&](const std::string& label, auto cell) {
    o += fmt::format("{:<22}", label);
    for (size_t i = 0; i < results.size(); ++i) {
      o += fmt::format("{:>{}}", results[i].at("feasible").get<bool>() ? cell(results[i]) : std::string("-"), w);
    }
    o += "\n";
  };
  const nlohmann::json& base = results[baseline];
  row("step time [s]", [](const nlohmann::json& r) { return fmt::format("{:.4f}", num(r, "step_time_s")); });
  row("tokens/s", [](const nlohmann::json& r) { return fmt::format("{:.0f}", num(r, "tokens_per_s")); });
  row(fmt::format("x {}", names[baseline]), [&](const nlohmann::json& r) {
    return base.at("feasible").get<bool>() ? fmt::format("{:.2f}x", num(r, "tokens_per_s") / num(base, "tokens_per_s"))
                                           : std::string("-");
  });
  row("MFU", [](const nlohmann::json& r) { return fmt::format("{:.1f}%", 100 * num(r, "mfu")); });
  o += "breakdown [s]\n";
  const std::pair<const char*, const char*> parts[] = {
      {"  compute", "compute"}, {"  pipeline bubble", "pipeline_bubble"}, {"  h2d copies", "h2d"},
      {"  d2h copies", "d2h"},  {"  host optimizer", "host_optimizer"},  {"  optimizer", "optimizer"}};
  row(parts[0].first, [](const nlohmann::json& r) { return fmt::format("{:.4f}", num(r, "breakdown_s", "compute")); });
  for (const char* c : {"tp", "pp", "dp", "ep"}) {
    row(fmt::format("  {} comm", c), [c](const nlohmann::json& r) {
      return fmt::format("{:.4f}", num(r, "breakdown_s", "exposed_comm", c));
    });
  }
  for (size_t i = 1; i < std::size(parts); ++i) {
    const char* key = parts[i].second;
    row(parts[i].first, [key](const nlohmann::json& r) { return fmt::format("{:.4f}", num(r, "breakdown_s", key)); });
  }
  o += "memory [GiB]\n";
  row("  device peak", [](const nlohmann::json& r) {
    return fmt::format("{:.1f}/{:.0f}", num(r, "memory", "device_peak_bytes") / GiB, num(r, "memory", "device_capacity_bytes") / GiB);
  });
  row("  host per node", [](const nlohmann::json& r) {
    return fmt::format("{:.0f}/{:.0f}", num(r, "memory", "host_peak_bytes") / GiB, num(r, "memory", "host_capacity_bytes") / GiB);
  });
  for (size_t i = 0; i < results.size(); ++i) {
    if (verdicts[i].kind != workload::VerdictKind::runs) o += fmt::format("{}: {}\n", names[i], verdicts[i].text());
  }
  return o;
}

}  // namespace sparsim::sim
