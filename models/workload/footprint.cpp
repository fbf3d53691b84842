#include "workload/footprint.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "config/error.hpp"

namespace sparsim::workload {

double machine_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  SPARSIM_ASSERT(pages > 0 && page > 0, "sysconf: no physical memory size");
  return static_cast<double>(pages) * static_cast<double>(page);
}

void require_memory(const Scenario& sc, const std::string& key, const std::string& what, double bytes,
                    const std::string& advice) {
  const double have = machine_memory_bytes();
  if (bytes <= have) return;
  constexpr double GiB = 1024.0 * 1024 * 1024;
  throw InputError(Origin{sc.file, 0, 0}, key,
                   fmt::format("{} would need about {:.3g} GiB, more than this machine's {:.1f} GiB of memory; {}", what,
                               bytes / GiB, have / GiB, advice));
}

double sparse_traffic_bytes(const Scenario& sc) {
  if (!sc.model.moe) return 0.0;
  const Moe& e = *sc.model.moe;
  const double ep = sc.plan.ep, E = e.experts, V = sc.model.vocab, layers = double(e.layers.size());
  const double row = 24;  // a std::vector's header: one per matrix row
  const double histograms = e.token_histogram.files.empty() ? 1.0 : double(e.token_histogram.files.size());
  // Kept per sparse layer (analytic and des each hold one copy): dispatch ep x ep, every
  // rank's expert loads (E in all), the busiest rank's (E / ep).
  const double per_layer = 8 * (ep * ep + E + E / ep) + row * 2 * ep;
  // Transient while a layer is routed: the [rank][expert] tokens (ep x E), the RRE table (V
  // ints) and the [rank][domain] token sources (ep x D).
  const double transient = 8 * ep * E + row * ep + 4 * V + 8 * ep * e.domains;
  return 2 * layers * per_layer + transient + 8 * V * (histograms + 1);
}

}  // namespace sparsim::workload
