#include "sim/schedule.hpp"

#include <algorithm>
#include <limits>
#include <map>

#include "config/error.hpp"

namespace sparsim::sim {

namespace {

// Forwards a stage runs before its first backward (1F1B and interleaved). With overlap, one
// more, and under 1F1B as many as interleaving warms up with v = 1, 2(pp - stage - 1) + 1: a
// pair's backward waits for the next stage's pair of the same micro-batch, and with 1F1B's
// pp - stage warm-up forwards that pair's forward would be the one this pair sends it, a cycle
// that runs one stage at a time (the DES shows the steady state halve); the deeper warm-up
// breaks it, at pp - 1 more micro-batches of activations on the first stage.
int warmup_of(sparsim::Schedule s, int pp, int v, int m, int stage, bool overlap) {
  const int total = m * v;
  const bool plain = s == sparsim::Schedule::one_f_one_b && v == 1 && !overlap;
  const int w = plain ? pp - stage - 1 : (pp - stage - 1) * 2 + (v - 1) * pp;
  return std::min(w + (overlap ? 1 : 0), total);
}

}  // namespace

std::vector<Work> stage_order(sparsim::Schedule s, int pp, int v, int m, int stage, bool overlap) {
  std::vector<Work> out;
  const int total = m * v;
  // k-th forward / backward of this stage -> (chunk, micro-batch), Megatron-LM's interleaving:
  // groups of pp micro-batches run through each chunk in turn (v = 1: chunk 0, micro-batch k).
  auto fwd = [&](int k) { return Work{false, (k / pp) % v, (k / (pp * v)) * pp + k % pp}; };
  auto bwd = [&](int k) { return Work{true, v - 1 - (k / pp) % v, (k / (pp * v)) * pp + k % pp}; };
  if (s == sparsim::Schedule::gpipe) {
    for (int i = 0; i < m; ++i) out.push_back(Work{false, 0, i});
    for (int i = 0; i < m; ++i) out.push_back(Work{true, 0, i});
    return out;
  }
  const int warmup = warmup_of(s, pp, v, m, stage, overlap);
  for (int k = 0; k < warmup; ++k) out.push_back(fwd(k));
  for (int k = 0; k < total - warmup; ++k) {
    out.push_back(fwd(warmup + k));
    out.push_back(bwd(k));
  }
  for (int k = total - warmup; k < total; ++k) out.push_back(bwd(k));
  return out;
}

std::vector<std::pair<Work, Work>> overlap_pairs(sparsim::Schedule s, int pp, int v, int m, int stage) {
  std::vector<std::pair<Work, Work>> out;
  if (s == sparsim::Schedule::gpipe) return out;
  const std::vector<Work> order = stage_order(s, pp, v, m, stage, true);
  const int warmup = warmup_of(s, pp, v, m, stage, true), total = m * v;
  for (int k = 0; k < total - warmup; ++k) out.emplace_back(order[warmup + 2 * k], order[warmup + 2 * k + 1]);
  return out;
}

std::vector<Segment> segments_of(const Scenario& sc, const workload::Layout& l, const BlockTimes& b, int vs, bool backward) {
  const int chunks = sc.plan.pp * sc.plan.virtual_stages;
  const bool full = sc.plan.recompute == Recompute::full;
  std::vector<Segment> out;
  auto compute = [&](const StageTimes& t) {
    const double d = backward ? t.backward + t.tp_backward : t.forward + t.tp_forward;
    if (!out.empty() && out.back().a2a < 0) out.back().seconds += d;
    else out.push_back(Segment{d, -1, false});
  };
  auto a2a = [&](int i, bool transpose) { out.push_back(Segment{b.parts[i].a2a, i, transpose}); };
  const int first = vs * l.layers_per_stage, last = (vs + 1) * l.layers_per_stage;
  if (!backward) {
    if (vs == 0) compute(b.embedding);
    for (int layer = first; layer < last; ++layer) {
      const int i = b.sparse_index[layer];
      if (i < 0) {
        compute(b.dense_layer);
        continue;
      }
      compute(b.parts[i].pre);
      a2a(i, false);
      compute(b.parts[i].experts);
      a2a(i, true);
    }
    if (vs == chunks - 1) compute(b.head);
  } else {
    if (vs == chunks - 1) compute(b.head);
    for (int layer = last - 1; layer >= first; --layer) {
      const int i = b.sparse_index[layer];
      if (i < 0) {
        compute(b.dense_layer);
        continue;
      }
      if (full) {  // the recomputed forward runs its two all-to-alls again
        a2a(i, false);
        a2a(i, true);
      }
      a2a(i, false);  // gradient of the combine
      compute(b.parts[i].experts);
      a2a(i, true);  // gradient of the dispatch
      compute(b.parts[i].pre);
    }
    if (vs == 0) compute(b.embedding);
  }
  return out;
}


std::vector<Phase> phases_of(const std::vector<Segment>& segments, const BlockTimes& b) {
  std::vector<Phase> out;
  auto add = [&](double seconds, Resource on) {
    if (seconds > 0) out.push_back(Phase{seconds, on});
  };
  for (const Segment& g : segments) {
    if (g.a2a < 0) {
      add(g.seconds, Resource::compute);
      continue;
    }
    const BlockTimes::SparseParts& p = b.parts[g.a2a];
    SPARSIM_ASSERT(g.seconds == p.a2a, "phases_of: a segment that is not its layer's all-to-all");
    add(g.transpose ? p.a2a_network : p.a2a_node, g.transpose ? Resource::network : Resource::node_links);
    add(g.transpose ? p.a2a_node : p.a2a_network, g.transpose ? Resource::node_links : Resource::network);
    add(p.a2a_latency, Resource::latency);
  }
  return out;
}

double paired_time(const std::vector<Phase>& a, const std::vector<Phase>& b) {
  // stream i is at phase at[i], with left[i] seconds of it left at the full rate
  const std::vector<Phase>* s[2] = {&a, &b};
  std::size_t at[2] = {0, 0};
  double left[2] = {a.empty() ? 0 : a[0].seconds, b.empty() ? 0 : b[0].seconds};
  double t = 0;
  auto done = [&](int i) { return at[i] >= s[i]->size(); };
  auto next = [&](int i) {
    ++at[i];
    if (!done(i)) left[i] = (*s[i])[at[i]].seconds;
  };
  while (!done(0) && !done(1)) {
    const Resource r0 = (*s[0])[at[0]].on, r1 = (*s[1])[at[1]].on;
    const double share = r0 == r1 && r0 != Resource::latency ? 0.5 : 1.0;  // one resource: half of it each
    const double dt = std::min(left[0], left[1]) / share;
    const bool end0 = left[0] <= left[1], end1 = left[1] <= left[0];
    t += dt;
    left[0] -= dt * share;
    left[1] -= dt * share;
    if (end0) next(0);
    if (end1) next(1);
  }
  for (int i = 0; i < 2; ++i) {
    for (; !done(i); next(i)) t += left[i];
  }
  return t;
}

std::vector<double> overlap_hidden(const Scenario& sc, const workload::Layout& l, const BlockTimes& b) {
  const Plan& p = sc.plan;
  std::vector<double> out;
  if (!workload::overlaps_ep(sc)) return out;
  SPARSIM_ASSERT(l.micro_batches <= std::numeric_limits<int>::max(), "overlap_hidden: more micro-batches than an int holds");
  const int m = static_cast<int>(l.micro_batches);
  std::map<std::pair<int, int>, double> saved;  // (forward chunk, backward chunk) -> seconds one pair saves
  auto total = [](const std::vector<Phase>& x) {
    double t = 0;
    for (const Phase& g : x) t += g.seconds;
    return t;
  };
  for (int s = 0; s < p.pp; ++s) {
    double hidden = 0;
    for (const auto& [f, bw] : overlap_pairs(p.schedule, p.pp, p.virtual_stages, m, s)) {
      const int cf = f.chunk * p.pp + s, cb = bw.chunk * p.pp + s;
      auto it = saved.find({cf, cb});
      if (it == saved.end()) {
        const std::vector<Phase> x = phases_of(segments_of(sc, l, b, cf, false), b);
        const std::vector<Phase> y = phases_of(segments_of(sc, l, b, cb, true), b);
        it = saved.emplace(std::make_pair(cf, cb), total(x) + total(y) - paired_time(x, y)).first;
      }
      hidden += it->second;
    }
    out.push_back(std::max(0.0, hidden / m));
  }
  return out;
}

}  // namespace sparsim::sim
