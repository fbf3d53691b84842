#include "config/enums.hpp"

namespace sparsim {

template <>
const Names<Router>& names<Router>() {
  static const Names<Router> n{"router", {{"rre", Router::rre}, {"topk", Router::topk}, {"hash", Router::hash}, {"switch", Router::switch_}}};
  return n;
}
template <>
const Names<Placement>& names<Placement>() {
  static const Names<Placement> n{"placement", {{"device", Placement::device}, {"offload", Placement::offload}, {"ecss", Placement::ecss}}};
  return n;
}
template <>
const Names<DomainData>& names<DomainData>() {
  static const Names<DomainData> n{"domain_data", {{"grouped", DomainData::grouped}, {"mixed", DomainData::mixed}}};
  return n;
}

const char* to_string(Router r) { return names<Router>().name(r); }
const char* to_string(Placement p) { return names<Placement>().name(p); }
const char* to_string(DomainData d) { return names<DomainData>().name(d); }

}  // namespace sparsim
