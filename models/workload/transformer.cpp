#include "workload/transformer.hpp"

#include <algorithm>
#include <numeric>

namespace sparsim::workload {

double Pass::flops() const {
  return std::accumulate(ops.begin(), ops.end(), 0.0, [](double acc, const Op& o) { return acc + o.flops; });
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
  return s;
}

namespace {

Op gemm(std::string name, double bytes, std::vector<GemmCall> calls) {
  double flops = 0;
  for (const GemmCall& c : calls) flops += c.flops();
  return Op{std::move(name), OpKind::gemm, flops, bytes, 1.0, 0.0, std::move(calls), {}};
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
  return Op{std::move(name), OpKind::memory, 0.0, bytes, 1.0, vflops, {}, std::move(kernel)};
}

// Backward of a pass: GEMMs cost twice the forward FLOPs (dgrad + wgrad) and read their
// operands twice; memory-bound ops move twice the bytes (read input and output grad, write grad).
Pass backward_of(const Pass& fwd) {
  Pass bwd;
  bwd.tp = fwd.tp;
  for (const Op& o : fwd.ops) {
    std::vector<GemmCall> calls;
    for (const GemmCall& c : o.calls)
      for (const GemmCall& g : gradient_calls(c)) calls.push_back(g);
    bwd.ops.push_back(Op{o.name + ".bwd", o.kind, 2 * o.flops, 2 * o.bytes, o.count, 2 * o.vflops, std::move(calls),
                         o.kernel.empty() ? std::string() : o.kernel + "_bwd"});
  }
  return bwd;
}

// Elements of a (b, s, h) activation on one device: sharded by t under sequence parallelism.
double bsh_local(const Shape& s) { return s.b * s.s * s.h / (s.sequence_parallel ? s.t : 1.0); }

Pass attention_forward(const Shape& s) {
  const double b = s.b, q = s.s, h = s.h, a = s.a, t = s.t, eb = s.eb;
  Pass p;
  p.ops.push_back(mem("ln1", 2 * bsh_local(s) * eb, vflop::layernorm * bsh_local(s), "layernorm"));
  // [b*s, h] @ [h, 3h/t]
  p.ops.push_back(gemm("qkv", eb * (b * q * h + 3 * h * h / t + 3 * b * q * h / t), b * q, 3 * h / t, h));
  // per sequence and head: [s, h/a] @ [s, h/a]^T, a/t heads (the FLOP-keyed efficiency takes the
  // b a/t products as one batched kernel: Op::count stays 1)
  p.ops.push_back(gemm("attn_scores", eb * (2 * b * q * h / t + b * a * q * q / t), q, q, h / a, GemmTrans::nt, b * a / t));
  // softmax + dropout over [b, a/t, s, s]: read scores, write probabilities and a mask
  p.ops.push_back(mem("softmax", eb * 2 * b * a * q * q / t + b * a * q * q / t, vflop::softmax * b * a * q * q / t, "softmax"));
  // [s, s] @ [s, h/a] per sequence and head
  p.ops.push_back(gemm("attn_values", eb * (b * a * q * q / t + 2 * b * q * h / t), q, h / a, q, GemmTrans::nn, b * a / t));
  // [b*s, h/t] @ [h/t, h]
  p.ops.push_back(gemm("attn_out", eb * (b * q * h / t + h * h / t + b * q * h), b * q, h, h / t));
  p.ops.push_back(mem("residual1", 3 * bsh_local(s) * eb, vflop::add * bsh_local(s), "add"));
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
  p.ops.push_back(mem("activation", eb * (tokens * up_cols + tokens * f / t),
                      (s.glu ? vflop::silu_glu : vflop::gelu) * tokens * f / t, s.glu ? "silu_glu" : "gelu"));
  // [tokens, f/t] @ [f/t, h]
  p.ops.push_back(gemm("ffn_down", eb * (tokens * f / t + f / t * h + tokens * h), tokens, h, f / t));
  p.ops.push_back(mem("residual2", 3 * local * eb, vflop::add * local, "add"));
  if (t > 1) p.tp.push_back(tokens * h * eb);
  return p;
}

LayerWork make(Pass fwd, Recompute rc, bool attention_core_only) {
  LayerWork w;
  w.backward = backward_of(fwd);
  if (rc == Recompute::full) {
    w.recompute = fwd;
  } else if (rc == Recompute::selective && attention_core_only) {
    // Selective recomputation (Korthikanti et al. 2022) recomputes only the attention core.
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

LayerWork expert_block(const Shape& s, double rank_tokens, int local_experts, double expert_ffn, Recompute rc,
                       const std::vector<double>& expert_tokens) {
  Pass ffn = ffn_forward(s, rank_tokens, expert_ffn, s.t);
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
  // softmax cross-entropy in fp32 over [b*s, V/t]: read logits, write probabilities
  p.ops.push_back(mem("loss", 4.0 * 2 * s.b * s.s * s.V / s.t, vflop::softmax * s.b * s.s * s.V / s.t, "cross_entropy"));
  (void)rc;  // logits are not recomputed (Narayanan et al. 2021)
  LayerWork w;
  w.backward = backward_of(p);
  w.forward = std::move(p);
  return w;
}

}  // namespace sparsim::workload
