// Policies picked by name (STYLE.md #8) that the simulator and the reference trainer share:
// routers, placements of expert state, and which samples RRE's ranks read. Each has one table
// of names: to_string prints from it, both loaders parse with it, and an unknown name's error
// lists it ("unknown router 'rrr'; known: rre, topk, hash, switch").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sparsim {

enum class Router { rre, topk, hash, switch_ };
/// Where expert weights and optimizer state live: `device`; `offload` (all optimizer state and
/// master weights on the host); `ecss` (expert state on the host, only activated experts move).
enum class Placement { device, offload, ecss };
/// Where RRE's samples live: `grouped` (PanGu-Σ) gives each rank samples of its own experts'
/// domain, so the all-to-all stays inside a domain's group of ep / domains ranks; `mixed` gives
/// every rank samples of every domain (a random slice of the batch, as the reference trainer),
/// so the all-to-all spans all ep ranks.
enum class DomainData { grouped, mixed };

/// The names of an enumeration's values, in the order an error lists them.
template <class E>
struct Names {
  const char* kind;  ///< what a value is, in messages: "router"
  std::vector<std::pair<std::string, E>> values;

  const char* name(E e) const {
    for (const auto& [n, v] : values) {
      if (v == e) return n.c_str();
    }
    return "?";
  }
  std::optional<E> find(std::string_view name) const {
    for (const auto& [n, v] : values) {
      if (n == name) return v;
    }
    return std::nullopt;
  }
  /// "rre, topk, hash, switch"
  std::string known() const {
    std::string s;
    for (const auto& [n, v] : values) s += (s.empty() ? "" : ", ") + n;
    return s;
  }
  /// "unknown router 'rrr'; known: rre, topk, hash, switch"
  std::string unknown(std::string_view name) const {
    return "unknown " + std::string(kind) + " '" + std::string(name) + "'; known: " + known();
  }
};

template <class E>
const Names<E>& names();
template <>
const Names<Router>& names<Router>();
template <>
const Names<Placement>& names<Placement>();
template <>
const Names<DomainData>& names<DomainData>();

const char* to_string(Router);
const char* to_string(Placement);
const char* to_string(DomainData);

}  // namespace sparsim
