// Typed configuration of the reference trainer (model, optimizer, placement). Plain structs:
// the YAML loader (README.md schema) and the tests build them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/scenario.hpp"
#include "optim.hpp"

namespace sparsim::trainer {

/// The trainer's routers: the simulator's has no `dense` (a dense model has no moe block) and
/// more gates than the trainer implements.
enum class Router { dense, topk, rre };
const char* to_string(Router r);

/// Where expert weights and optimizer state live: the simulator's placements (to_string too).
using sparsim::Placement;

/// RRE: which sequences a rank reads (the simulator's model.moe.domain_data). mixed: a random
/// slice of the global batch, every domain on every rank, dispatch over all ranks (this
/// trainer's default). grouped: PanGu-Σ's layout, each rank only its experts' domains, dispatch
/// within the ranks of a domain group.
using sparsim::DomainData;

struct ModelConfig {
  int vocab = 258;  ///< V: 256 bytes + BOS + EOS
  int seq = 32;     ///< s
  int hidden = 32;  ///< h
  int heads = 4;    ///< a
  int ffn = 64;     ///< f, also each expert's hidden size
  int layers = 2;   ///< L
  std::vector<int> sparse_layers;  ///< indices of MoE/RRE layers (empty = dense model)
  Router router = Router::dense;
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
