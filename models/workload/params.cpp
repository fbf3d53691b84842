#include "workload/params.hpp"

namespace sparsim::workload {

double ffn_params(const Model& m, double f) {
  const double h = m.hidden;
  return m.ffn == FfnKind::glu ? 3 * h * f : 2 * h * f + f + h;
}

ParamCount count_params(const Model& m) {
  const double h = m.hidden, V = m.vocab, s = m.seq_len;
  ParamCount c;
  // Q and O: h x h each; K and V: h x (kv dh) each (GQA / MQA: kv_heads < heads); biases
  const double kv = (m.kv_heads > 0 ? m.kv_heads : m.heads) * (h / m.heads);
  c.attention = 2 * h * h + 2 * h * kv + 2 * h + 2 * kv;
  c.layernorms = 4 * h;
  c.ffn = ffn_params(m, m.ffn_hidden);
  c.embedding = V * h + (m.learned_positions ? s * h : 0) + 2 * h + (m.tied_embeddings ? 0 : V * h);
  const int sparse = m.moe ? static_cast<int>(m.moe->layers.size()) : 0;
  const int dense = m.layers - sparse;
  c.total = c.embedding + dense * c.dense_layer();
  c.active = c.total;
  c.dense_total = c.total;
  if (m.moe) {
    const Moe& e = *m.moe;
    c.expert = ffn_params(m, e.expert_ffn_hidden);
    c.gate = e.learned_gate() ? h * e.experts : 0;
    c.shared = e.shared_experts > 0 ? ffn_params(m, double(e.shared_experts) * e.shared_ffn_hidden) : 0.0;
    c.dense_total += sparse * c.sparse_layer_dense_part();
    c.experts_total = sparse * double(e.experts) * c.expert;
    c.total = c.dense_total + c.experts_total;
    c.active = c.dense_total + sparse * double(e.top_k) * c.expert;
  }
  return c;
}

}  // namespace sparsim::workload
