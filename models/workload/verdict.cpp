#include "workload/verdict.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace sparsim {
template <>
const Names<workload::VerdictKind>& names<workload::VerdictKind>() {
  using workload::VerdictKind;
  static const Names<VerdictKind> n{
      "verdict", {{"runs", VerdictKind::runs}, {"does-not-fit", VerdictKind::does_not_fit}, {"infeasible", VerdictKind::infeasible}}};
  return n;
}
}  // namespace sparsim

namespace sparsim::workload {

namespace {

/// "40.9 of 32.0 GiB": both in the binary unit of the larger (GiB, MiB, KiB or bytes).
std::string used_of(double used, double capacity) {
  const double big = std::max(used, capacity);
  const char* unit = "bytes";
  double scale = 1;
  static const std::pair<const char*, double> kUnits[] = {{"GiB", 1024.0 * 1024 * 1024}, {"MiB", 1024.0 * 1024}, {"KiB", 1024.0}};
  for (const auto& [u, s] : kUnits) {
    if (big >= s) {
      unit = u, scale = s;
      break;
    }
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.1f of %.1f %s", used / scale, capacity / scale, unit);
  return buf;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : "; ") + p;
  return s;
}

}  // namespace

const char* Verdict::word() const { return names<VerdictKind>().name(kind); }

std::string Verdict::text() const {
  switch (kind) {
    case VerdictKind::runs: return "runs";
    case VerdictKind::does_not_fit: return "does not fit (" + reason + ")";
    case VerdictKind::infeasible: return "infeasible plan (" + reason + ")";
  }
  return "?";
}

Verdict verdict_of(bool feasible, const std::vector<std::string>& infeasible, const MemoryFit& m) {
  if (!feasible) return {VerdictKind::infeasible, infeasible.empty() ? "no reason given" : joined(infeasible)};
  std::vector<std::string> short_of;
  if (!m.device_fits()) short_of.push_back("device " + used_of(m.device_peak, m.device_capacity));
  if (!m.host_fits()) short_of.push_back("host " + used_of(m.host, m.host_capacity) + " per node");
  if (!short_of.empty()) return {VerdictKind::does_not_fit, joined(short_of)};
  return {};
}

}  // namespace sparsim::workload
