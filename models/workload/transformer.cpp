#include "workload/transformer.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sparsim::workload {

double Pass::flops() const {
  return std::accumulate(ops.begin(), ops.end(), 0.0, [](double acc, const Op& o) { return acc + o.flops; });
}

double Pass::model_flops() const {
  return std::accumulate(ops.begin(), ops.end(), 0.0, [](double acc, const Op& o) { return acc + (o.model ? o.flops : 0.0); });
}

double element_bytes(Precision p) { return p == Precision::fp32 ? 4.0 : 2.0; }

Shape shape_of(const Scenario& sc) {
  const Model& m = sc.model;
  Shape s;
  s.b = sc.training.micro_batch;
  s.s = m.seq_len;
  s.h = m.hidden;
  s.a = m.heads;
  s.f = m.ffn_hidden;
  s.V = m.vocab;
  s.t = sc.plan.tp;
  s.eb = element_bytes(sc.training.precision);
  s.sequence_parallel = sc.plan.sequence_parallel;
  s.glu = m.ffn == FfnKind::glu;
  s.kv = m.kv_heads > 0 ? m.kv_heads : m.heads;
  s.attention = m.attention;
  s.causal = m.causal;
  s.fuse_gelu = sc.training.fuse_gelu;
  s.fuse_residual = sc.training.fuse_residual;
  s.fuse_cross_entropy = sc.training.fuse_cross_entropy;
  return s;
}

double causal_fraction(double s) {
  const double n = std::ceil(s / kFlashBlock);
  return (n + 1) / (2 * n);
}

namespace {

Op gemm(std::string name, double bytes, std::vector<GemmCall> calls) {
  double flops = 0;
  for (const GemmCall& c : calls) flops += c.flops();
  Op o;
  o.name = std::move(name);
  o.flops = flops;
  o.bytes = bytes;
  o.calls = std::move(calls);
  return o;
}
Op gemm(std::string name, double bytes, double m, double n, double k, GemmTrans trans = GemmTrans::nn, double count = 1) {
  return gemm(std::move(name), bytes, {GemmCall{m, n, k, trans, count}});
}

// The two GEMMs of a GEMM's backward, C = op(A) op(B): the gradients of A and of B.
std::vector<GemmCall> gradient_calls(const GemmCall& c) {
  switch (c.trans) {
    case GemmTrans::nn:
      return {{c.m, c.k, c.n, GemmTrans::nt, c.count, c.varies}, {c.k, c.n, c.m, GemmTrans::tn, c.count, c.varies}};
    case GemmTrans::nt:
      return {{c.m, c.k, c.n, GemmTrans::nn, c.count, c.varies}, {c.n, c.k, c.m, GemmTrans::tn, c.count, c.varies}};
    case GemmTrans::tn:
      return {{c.k, c.m, c.n, GemmTrans::nt, c.count, c.varies}, {c.k, c.n, c.m, GemmTrans::nn, c.count, c.varies}};
  }
  return {};
}
Op mem(std::string name, double bytes, double vflops, std::string kernel) {
  Op o;
  o.name = std::move(name);
  o.kind = OpKind::memory;
  o.bytes = bytes;
  o.vflops = vflops;
  o.kernel = std::move(kernel);
  return o;
}

// Backward of a pass: GEMMs cost twice the forward FLOPs (dgrad + wgrad; once with a constant A)
// and read their operands twice; memory-bound ops move twice the bytes (read input and output
// grad, write grad).
Pass backward_of(const Pass& fwd) {
  Pass bwd;
  bwd.tp = fwd.tp;
  for (const Op& o : fwd.ops) {
    std::vector<GemmCall> calls;
    for (const GemmCall& c : o.calls) {
      const std::vector<GemmCall> g = gradient_calls(c);  // {A's gradient, B's gradient}
      calls.insert(calls.end(), g.begin() + (o.constant_a ? 1 : 0), g.end());
    }
    Op b = o;
    b.name = o.name + ".bwd";
    b.backward = true;
    b.flops = (o.constant_a ? 1.0 : o.backward_factor) * o.flops;
    b.bytes = 2 * o.bytes;
    b.vflops = 2 * o.vflops;
    b.calls = std::move(calls);
    b.kernel = o.kernel.empty() ? std::string() : o.kernel + "_bwd";
    if (o.kind == OpKind::attention) {
      // Flash backward (FlashAttention-2, Algorithm 2): reads Q, K, V, O, dO and the row
      // statistics, writes dQ, dK, dV: twice the forward's bytes; per score element one exp to
      // recompute P and 5 FP32 operations (dS = P (dP - D), the scale, the conversion).
      b.exps = o.exps;
      b.element_ops = o.element_ops * 5.0 / 4.0;
    }
    bwd.ops.push_back(std::move(b));
  }
  return bwd;
}

// Elements of a (b, s, h) activation on one device: sharded by t under sequence parallelism.
double bsh_local(const Shape& s) { return s.b * s.s * s.h / (s.sequence_parallel ? s.t : 1.0); }

Pass attention_forward(const Shape& s) {
  const double b = s.b, q = s.s, h = s.h, a = s.a, t = s.t, eb = s.eb;
  const double dh = h / a;
  // K/V heads on one device: split by t, or replicated when there are fewer than t
  const double kv = std::max(1.0, s.kv / t) * t;
  const double qkv_cols = (a + 2 * kv) * dh / t;  // Q of a/t heads, K and V of kv/t heads
  Pass p;
  p.ops.push_back(mem("ln1", 2 * bsh_local(s) * eb, vflop::layernorm * bsh_local(s), "layernorm"));
  // [b*s, h] @ [h, (a + 2 kv) dh / t]
  p.ops.push_back(gemm("qkv", eb * (b * q * h + h * qkv_cols + b * q * qkv_cols), b * q, qkv_cols, h));
  if (s.attention == Attention::flash) {
    // One kernel (FlashAttention-2, Algorithm 1): per sequence, head and 128-query block, QK^T
    // and PV over the key blocks, with the softmax in registers; no s x s tensor in HBM. A
    // causal mask skips the blocks above the diagonal. Reads Q, K, V, writes O and the fp32
    // log-sum-exp of each row.
    const double scores = b * a / t * q * q * (s.causal ? causal_fraction(q) : 1.0);
    Op o;
    o.name = "flash_attention";
    o.kind = OpKind::attention;
    o.flops = 4 * scores * dh;  // QK^T and PV: 2 dh each per score element
    o.bytes = eb * (b * q * qkv_cols + b * q * h / t) + 4 * b * a / t * q;
    // per score element: one exp, and 4 FP32 operations (scale and subtract the running max,
    // the max, the row sum, the conversion of P to 16 bits)
    o.exps = scores;
    o.element_ops = 4 * scores;
    o.tiles = b * a / t * std::ceil(q / kFlashBlock);
    o.backward_factor = 2.5;
    p.ops.push_back(std::move(o));
  } else {
    // per sequence and head: [s, dh] @ [s, dh]^T, a/t heads in one batched kernel
    p.ops.push_back(gemm("attn_scores", eb * (2 * b * q * h / t + b * a * q * q / t), q, q, dh, GemmTrans::nt, b * a / t));
    // fused: scale, mask and softmax in one kernel, the s x s scores in and probabilities out;
    // unfused: also the dropout kernel's mask (Megatron-LM's 2021 softmax then dropout)
    const double softmax_bytes = eb * 2 * b * a * q * q / t + (s.attention == Attention::unfused ? b * a * q * q / t : 0.0);
    p.ops.push_back(mem("softmax", softmax_bytes, vflop::softmax * b * a * q * q / t, "softmax"));
    // [s, s] @ [s, dh] per sequence and head
    p.ops.push_back(gemm("attn_values", eb * (b * a * q * q / t + 2 * b * q * h / t), q, dh, q, GemmTrans::nn, b * a / t));
  }
  // [b*s, h/t] @ [h/t, h]
  p.ops.push_back(gemm("attn_out", eb * (b * q * h / t + h * h / t + b * q * h), b * q, h, h / t));
  if (!s.fuse_residual) p.ops.push_back(mem("residual1", 3 * bsh_local(s) * eb, vflop::add * bsh_local(s), "add"));
  if (s.t > 1) p.tp.push_back(b * q * h * eb);
  return p;
}

Pass ffn_forward(const Shape& s, double tokens, double f, double t) {
  const double h = s.h, eb = s.eb;
  const double up_cols = (s.glu ? 2 : 1) * f / t;
  Pass p;
  const double local = tokens * h / (s.sequence_parallel ? t : 1.0);
  p.ops.push_back(mem("ln2", 2 * local * eb, vflop::layernorm * local, "layernorm"));
  // [tokens, h] @ [h, f/t] (glu: two such matrices)
  p.ops.push_back(gemm("ffn_up", eb * (tokens * h + h * up_cols + tokens * up_cols), tokens, up_cols, h));
  if (!s.fuse_gelu)
    p.ops.push_back(mem("activation", eb * (tokens * up_cols + tokens * f / t),
                        (s.glu ? vflop::silu_glu : vflop::gelu) * tokens * f / t, s.glu ? "silu_glu" : "gelu"));
  // [tokens, f/t] @ [f/t, h]
  p.ops.push_back(gemm("ffn_down", eb * (tokens * f / t + f / t * h + tokens * h), tokens, h, f / t));
  if (!s.fuse_residual) p.ops.push_back(mem("residual2", 3 * local * eb, vflop::add * local, "add"));
  if (t > 1) p.tp.push_back(tokens * h * eb);
  return p;
}

LayerWork make(Pass fwd, Recompute rc, bool attention_core_only) {
  LayerWork w;
  w.backward = backward_of(fwd);
  if (rc == Recompute::full) {
    w.recompute = fwd;
  } else if (rc == Recompute::selective && attention_core_only) {
    // Selective recomputation (Korthikanti et al. 2022) recomputes only the attention core
    // (flash attention keeps no s x s tensor and recomputes its scores in its own backward).
    for (const Op& o : fwd.ops) {
      if (o.name == "attn_scores" || o.name == "softmax" || o.name == "attn_values") w.recompute.ops.push_back(o);
    }
  }
  for (Op& o : w.recompute.ops) o.name += ".recompute";
  w.forward = std::move(fwd);
  return w;
}

void append(Pass& into, const Pass& from) {
  into.ops.insert(into.ops.end(), from.ops.begin(), from.ops.end());
  into.tp.insert(into.tp.end(), from.tp.begin(), from.tp.end());
}

}  // namespace

LayerWork attention_block(const Shape& s, Recompute rc) { return make(attention_forward(s), rc, true); }

LayerWork ffn_block(const Shape& s, double tokens, double f, Recompute rc) {
  return make(ffn_forward(s, tokens, f, s.t), rc, false);
}

LayerWork sparse_pre_block(const Shape& s, const Moe& e, Recompute rc) {
  LayerWork a = attention_block(s, rc);
  auto join = [&](const LayerWork& w) {
    append(a.forward, w.forward);
    append(a.backward, w.backward);
    append(a.recompute, w.recompute);
  };
  if (e.learned_gate()) join(gate_block(s, e.experts, rc));
  if (e.dispatch == Dispatch::einsum) join(einsum_dispatch_block(s, e, rc));
  if (e.shared_experts > 0) join(ffn_block(s, s.b * s.s, double(e.shared_experts) * e.shared_ffn_hidden, rc));
  return a;
}

LayerWork dense_layer(const Shape& s, Recompute rc) {
  LayerWork a = attention_block(s, rc);
  LayerWork m = ffn_block(s, s.b * s.s, s.f, rc);
  append(a.forward, m.forward);
  append(a.backward, m.backward);
  append(a.recompute, m.recompute);
  return a;
}

LayerWork gate_block(const Shape& s, int experts, Recompute rc) {
  // [T, h] @ [h, E] logits, split over the t devices of the group, then softmax / top-k.
  const double T = s.b * s.s;
  Pass p;
  p.ops.push_back(gemm("gate", s.eb * (T * s.h / s.t + s.h * experts + T * experts / s.t), T / s.t, experts, s.h));
  p.ops.push_back(mem("gate_topk", 4.0 * 2 * T * experts / s.t, vflop::softmax * T * experts / s.t, "softmax"));
  return make(std::move(p), rc, false);
}

double einsum_mask_elements(const Shape& s, const Moe& e) {
  // DeepSpeed's capacity: ceil(c k S / E) (its min_capacity, 4 in the 2021 scripts, is not modelled)
  const double S = s.b * s.s / s.t;
  return S * e.experts * std::ceil(e.capacity_factor * e.top_k * S / e.experts);
}

LayerWork einsum_dispatch_block(const Shape& s, const Moe& e, Recompute rc) {
  // GShard's dispatch as DeepSpeed-MoE's MOELayer runs it (deepspeed/moe/sharded_moe.py, 2021):
  // the gate returns combine weights (S, E, C) in fp32 and their boolean dispatch mask; then
  //   dispatched = einsum("sec,sm->ecm", mask.type_as(x), x)      [E C, S] @ [S, h]
  //   combined   = einsum("sec,ecm->sm", weights.type_as(x), y)   [S, E C] @ [E C, h]
  // dense products over the one-hot masks, 2 S (E C) h FLOP each, E C = c k S. The same device's
  // S tokens in both (the combine is charged here with the dispatch: only their order against
  // the all-to-alls differs, which matters when those overlap compute).
  const double S = s.b * s.s / s.t, masks = einsum_mask_elements(s, e), EC = masks / S;
  Pass p;
  // The masks: the fp32 weights written, read for the boolean mask (1 byte written), both cast
  // to the training precision for the products (read, written): 14 + 2 eb bytes per element.
  p.ops.push_back(mem("dispatch_masks", masks * (14 + 2 * s.eb), vflop::add * masks, "add"));
  Op dispatch = gemm("dispatch_einsum", s.eb * (masks + S * s.h + EC * s.h), EC, s.h, S, GemmTrans::tn);
  dispatch.constant_a = true;  // the mask: the backward is the tokens' gradient alone, [S, E C] @ [E C, h]
  p.ops.push_back(std::move(dispatch));
  p.ops.push_back(gemm("combine_einsum", s.eb * (masks + EC * s.h + S * s.h), S, s.h, EC));
  for (Op& o : p.ops) o.model = false;  // the model routes; these products are how GShard does it
  return make(std::move(p), rc, false);
}

LayerWork expert_block(const Shape& s, double rank_tokens, int local_experts, double expert_ffn, Recompute rc,
                       const std::vector<double>& expert_tokens, int etp) {
  Pass ffn = ffn_forward(s, rank_tokens, expert_ffn, etp > 0 ? etp : s.t);
  const double experts = std::max(1, local_experts);
  for (Op& o : ffn.ops) {
    o.name = "expert_" + o.name;
    if (o.kind != OpKind::gemm) continue;
    o.count = experts;
    // one GEMM per expert over its own tokens (an even split when the parts are not given)
    const GemmCall whole = o.calls.front();
    o.calls.clear();
    // an expert's token count changes every step: varies
    if (expert_tokens.empty()) {
      o.calls.push_back(GemmCall{whole.m / experts, whole.n, whole.k, whole.trans, experts, true});
    } else {
      for (double x : expert_tokens)
        if (x > 0) o.calls.push_back(GemmCall{x, whole.n, whole.k, whole.trans, 1, true});
    }
  }
  return make(std::move(ffn), rc, false);
}

LayerWork embedding(const Shape& s) {
  LayerWork w;
  // gather b*s rows of h, write the (b, s, h) activation; backward scatters the gradient
  w.forward.ops.push_back(mem("embedding", 2 * s.b * s.s * s.h * s.eb, vflop::add * s.b * s.s * s.h, "add"));
  w.backward.ops.push_back(mem("embedding.bwd", 2 * s.b * s.s * s.h * s.eb, vflop::add * s.b * s.s * s.h, "add_bwd"));
  return w;
}

LayerWork head(const Shape& s, Recompute rc) {
  Pass p;
  p.ops.push_back(mem("final_ln", 2 * bsh_local(s) * s.eb, vflop::layernorm * bsh_local(s), "layernorm"));
  // [b*s, h] @ [h, V/t]
  p.ops.push_back(gemm("logits", s.eb * (s.b * s.s * s.h + s.h * s.V / s.t + s.b * s.s * s.V / s.t), s.b * s.s,
                       s.V / s.t, s.h));
  // softmax cross-entropy over [b*s, V/t]: in fp32, read logits and write probabilities (the
  // backward twice that); fused, one read of the 16-bit logits (the backward reads them and
  // writes the gradient over them)
  const double logits = s.b * s.s * s.V / s.t;
  p.ops.push_back(mem("loss", (s.fuse_cross_entropy ? s.eb : 4.0 * 2) * logits, vflop::softmax * logits, "cross_entropy"));
  (void)rc;  // logits are not recomputed (Narayanan et al. 2021)
  LayerWork w;
  w.backward = backward_of(p);
  w.forward = std::move(p);
  return w;
}

}  // namespace sparsim::workload
