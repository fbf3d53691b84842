// Typed configuration of the reference trainer (model, optimizer, placement). Plain structs:
// the YAML loader (README.md schema) and the tests build them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/enums.hpp"
#include "optim.hpp"

namespace sparsim::trainer {

/// The simulator's routers, placements and domain layouts (config/enums.hpp: names, to_string).
/// The trainer implements the routers topk and rre (kRouters), every placement, and both domain
/// layouts (its default: mixed, a random slice of the global batch on every rank).
using sparsim::DomainData;
using sparsim::Placement;
using sparsim::Router;

inline constexpr Router kRouters[] = {Router::topk, Router::rre};
/// Empty when the trainer implements `r`; else why not, for an input error.
std::string not_implemented(Router r);

/// A model's router; none: a dense model (the simulator's model without a moe block).
inline constexpr std::optional<Router> kDense = std::nullopt;
/// "dense", or the router's name.
const char* router_name(std::optional<Router> r);

struct ModelConfig {
  int vocab = 258;  ///< V: 256 bytes + BOS + EOS
  int seq = 32;     ///< s
  int hidden = 32;  ///< h
  int heads = 4;    ///< a
  int ffn = 64;     ///< f, also each expert's hidden size
  int layers = 2;   ///< L
  std::vector<int> sparse_layers;  ///< indices of MoE/RRE layers (empty = dense model)
  std::optional<Router> router = kDense;
  int experts = 4;               ///< E per sparse layer
  int top_k = 1;                 ///< k (topk)
  double capacity_factor = 1.25; ///< c (topk): C = ceil(c k s / E) per sequence (the gate's group)
  int domains = 1;               ///< D (rre), divides E
  DomainData domain_data = DomainData::mixed;  ///< rre
  float aux_coef = 0.01f;        ///< load-balancing loss weight (topk)
  std::uint64_t seed = 1;        ///< weights and RRE tables
  bool is_sparse(int layer) const;
};

struct TrainConfig {
  ModelConfig model;
  AdamW adamw;
  Placement placement = Placement::device;
  int global_batch = 4;  ///< sequences per step over all ranks
  int steps = 10;
  int host_threads = 2;    ///< host optimizer threads (offload, ecss)
  int device_threads = 1;  ///< device optimizer threads (the CPU "device": cores / ranks)
  std::uint64_t data_seed = 7;
};

}  // namespace sparsim::trainer
