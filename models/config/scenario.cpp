#include "config/scenario.hpp"

#include <algorithm>

namespace sparsim {

bool Model::is_sparse_layer(int layer) const {
  return moe && std::binary_search(moe->layers.begin(), moe->layers.end(), layer);
}

const char* to_string(GemmTrans t) {
  switch (t) {
    case GemmTrans::nn: return "nn";
    case GemmTrans::nt: return "nt";
    case GemmTrans::tn: return "tn";
  }
  return "?";
}
const char* to_string(Precision p) {
  switch (p) {
    case Precision::fp16: return "fp16";
    case Precision::bf16: return "bf16";
    case Precision::fp32: return "fp32";
  }
  return "?";
}
const char* to_string(Topology t) {
  switch (t) {
    case Topology::fat_tree: return "fat_tree";
    case Topology::rail_optimized: return "rail_optimized";
    case Topology::flat: return "flat";
  }
  return "?";
}
const char* to_string(Schedule s) {
  switch (s) {
    case Schedule::gpipe: return "gpipe";
    case Schedule::one_f_one_b: return "1f1b";
    case Schedule::interleaved: return "interleaved";
  }
  return "?";
}
const char* to_string(Recompute r) {
  switch (r) {
    case Recompute::none: return "none";
    case Recompute::selective: return "selective";
    case Recompute::full: return "full";
  }
  return "?";
}
const char* to_string(CollectiveAlgo a) {
  switch (a) {
    case CollectiveAlgo::ring: return "ring";
    case CollectiveAlgo::hierarchical_ring: return "hierarchical_ring";
    case CollectiveAlgo::tree: return "tree";
    case CollectiveAlgo::pairwise: return "pairwise";
    case CollectiveAlgo::hierarchical_a2a: return "hierarchical";
    case CollectiveAlgo::p2p: return "p2p";
  }
  return "?";
}

}  // namespace sparsim
