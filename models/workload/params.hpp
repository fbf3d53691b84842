// Parameter counts of a transformer (dense or sparse). Symbols: L layers, h hidden, f FFN
// hidden, V vocab, s sequence, E experts per sparse layer, k top-k (models/README.md).
#pragma once

#include "config/scenario.hpp"

namespace sparsim::workload {

struct ParamCount {
  double attention = 0;   ///< per layer: 4h^2 + 4h (QKV and output projections with biases)
  double layernorms = 0;  ///< per layer: 4h (two layernorms, gain and bias)
  double ffn = 0;         ///< one dense FFN: mlp 2hf + f + h, glu 3hf
  double expert = 0;      ///< one expert FFN (expert_ffn_hidden)
  double gate = 0;        ///< per sparse layer: hE for learned gates (topk, switch), 0 for rre/hash
  double shared = 0;      ///< per sparse layer: the shared experts' FFN (shared_experts x shared_ffn_hidden)
  double embedding = 0;   ///< Vh (+ sh for learned positions) + final layernorm 2h (+ Vh untied logits)
  double total = 0;       ///< everything stored
  double active = 0;      ///< used by one token (k experts per sparse layer)
  double dense_total = 0; ///< total minus all expert FFNs
  double experts_total = 0;  ///< all expert FFNs
  double dense_layer() const { return attention + layernorms + ffn; }
  double sparse_layer_dense_part() const { return attention + layernorms + gate + shared; }
};

ParamCount count_params(const Model& m);

/// One FFN with hidden size `f` on model width `h`.
double ffn_params(const Model& m, double f);

}  // namespace sparsim::workload
