#include "workload/sparse.hpp"

#include <algorithm>

#include "config/error.hpp"
#include "routing/routing.hpp"
#include "workload/footprint.hpp"
#include "workload/layout.hpp"
#include "workload/transformer.hpp"

namespace sparsim::workload {

namespace {

/// The token-ID histograms: one shared by every domain, or one per domain (files).
std::vector<std::vector<double>> token_histograms(const Scenario& sc) {
  const Moe& e = *sc.model.moe;
  const TokenHistogram& t = e.token_histogram;
  switch (t.kind) {
    case TokenHistogram::Kind::uniform: return {std::vector<double>(sc.model.vocab, 1.0)};
    case TokenHistogram::Kind::zipf: return {routing::zipf_token_histogram(sc.model.vocab, t.zipf_s, e.seed)};
    case TokenHistogram::Kind::file: {
      if (t.files.empty()) return {routing::read_token_histogram(t.file, sc.model.vocab, t.key_path)};
      std::vector<std::vector<double>> out;
      for (const std::string& f : t.files) out.push_back(routing::read_token_histogram(f, sc.model.vocab, t.key_path));
      return out;
    }
  }
  return {};
}

// RRE's routing (hash routing: RRE with one domain).
routing::RreSpec rre_spec(const Scenario& sc) {
  const Moe& e = *sc.model.moe;
  return routing::RreSpec{sc.model.vocab, e.experts, e.router == Router::hash ? 1 : e.domains, e.seed};
}

// The two phases of a hierarchical all-to-all of `out.dispatch` (SparseLayerTraffic::per_node),
// when the plan asks for it. A group's ranks are consecutive data-parallel ranks, tp devices
// apart: a node holds D / tp of them (all of a smaller group). O(G^2) per group: the phases'
// messages are row sums over one index of the dispatch matrix, built once.
void hierarchical_phases(SparseLayerTraffic& out, const Scenario& sc) {
  out.per_node = 1;
  out.intra_phase_bytes = out.inter_phase_bytes = 0;
  if (sc.plan.ep_algo != CollectiveAlgo::hierarchical_a2a) return;
  const int D = sc.cluster.node.devices, t = sc.plan.tp, G = out.group;
  const int L = t >= D ? 1 : std::min(G, D / t);
  if (L <= 1 || L >= G || G % L != 0) return;  // one rank per node, or one node: pairwise is the same
  out.per_node = L;
  const int N = G / L, ranks = static_cast<int>(out.dispatch.size());
  const auto& d = out.dispatch;
  for (int first = 0; first < ranks; first += G) {
    auto rank = [&](int n, int i) { return first + n * L + i; };
    // to_local[src][j]: what rank src sends to local index j over all nodes (phase 1's message);
    // from_node[n][dst]: what node n's ranks send to rank dst (phase 2's message)
    std::vector<std::vector<double>> to_local(G, std::vector<double>(L, 0.0)), from_node(N, std::vector<double>(G, 0.0));
    for (int src = 0; src < G; ++src)
      for (int dst = 0; dst < G; ++dst) {
        const double bytes = d[first + src][first + dst];
        to_local[src][dst % L] += bytes;
        from_node[src / L][dst] += bytes;
      }
    double intra = 0, inter = 0;
    for (int k = 1; k < L; ++k) {  // (n, i) -> (n, i + k): everything for local index i + k
      double largest = 0;
      for (int n = 0; n < N; ++n)
        for (int i = 0; i < L; ++i) largest = std::max(largest, to_local[rank(n, i) - first][(i + k) % L]);
      intra += largest;
    }
    for (int k = 1; k < N; ++k) {  // (n, j) -> (n + k, j): what node n has for it
      double largest = 0;
      for (int n = 0; n < N; ++n)
        for (int j = 0; j < L; ++j) largest = std::max(largest, from_node[n][rank((n + k) % N, j) - first]);
      inter += largest;
    }
    out.intra_phase_bytes = std::max(out.intra_phase_bytes, intra);
    out.inter_phase_bytes = std::max(out.inter_phase_bytes, inter);
  }
}

// Fills the rank-level figures of one layer from its [rank][expert] token matrix.
void summarise(SparseLayerTraffic& out, const routing::Matrix& tokens, int ranks, const Scenario& sc, int micro_batches) {
  const std::vector<double> per_rank = routing::rank_tokens(tokens, ranks);
  out.busiest_rank_tokens = routing::busiest_rank_tokens(tokens, ranks);
  double sum = 0;
  for (double x : per_rank) sum += x;
  out.mean_rank_tokens = sum / ranks;
  const Shape s = shape_of(sc);
  out.dispatch = routing::dispatch_bytes(tokens, ranks, s.h, s.eb);
  out.a2a_bytes = std::max(routing::max_sent_bytes(out.dispatch), routing::max_received_bytes(out.dispatch));
  out.pairwise_bytes = 0;
  for (int first = 0; first < ranks; first += out.group) {
    double rounds = 0;
    for (int k = 1; k < out.group; ++k) {
      double largest = 0;
      for (int r = first; r < first + out.group; ++r) {
        largest = std::max(largest, out.dispatch[r][first + (r - first + k) % out.group]);
      }
      rounds += largest;
    }
    out.pairwise_bytes = std::max(out.pairwise_bytes, rounds);
  }
  hierarchical_phases(out, sc);
  // Experts of the busiest rank that receive at least one token over the step's micro-batches.
  const int E = sc.model.moe->experts;
  out.local_experts = E / ranks;
  int busiest = 0;
  for (int r = 0; r < ranks; ++r) {
    if (per_rank[r] > per_rank[busiest]) busiest = r;
  }
  out.rank_expert_tokens.assign(ranks, std::vector<double>(out.local_experts, 0.0));
  for (int r = 0; r < ranks; ++r) {
    for (int le = 0; le < out.local_experts; ++le) {
      for (int src = 0; src < ranks; ++src) out.rank_expert_tokens[r][le] += tokens[src][r * out.local_experts + le];
    }
  }
  out.busiest_expert_tokens = out.rank_expert_tokens[busiest];
  out.busiest_group_tokens.clear();
  // (tp, hence tp / etp, is at most a node's devices in a plan search)
  for (int groups = 1; groups <= sc.cluster.node.devices && out.local_experts % groups == 0; groups *= 2)
    out.busiest_group_tokens.push_back(device_experts(out, -1, groups).tokens);
  double active = 0;
  for (double got : out.busiest_expert_tokens) {
    if (got * micro_batches >= 1.0) active += 1;
  }
  out.activated_experts = active;
}

}  // namespace

DeviceExperts device_experts(const SparseLayerTraffic& tr, int rank, int groups) {
  DeviceExperts out;
  if (groups <= 1) {
    out.expert_tokens = rank < 0 ? tr.busiest_expert_tokens : tr.rank_expert_tokens.at(static_cast<std::size_t>(rank));
    out.experts = tr.local_experts;
    for (double x : out.expert_tokens) out.tokens += x;
    return out;
  }
  SPARSIM_ASSERT(tr.local_experts % groups == 0, "device_experts: experts that do not split into the sub-groups");
  const int n = tr.local_experts / groups;
  const int first = rank < 0 ? 0 : rank, last = rank < 0 ? static_cast<int>(tr.rank_expert_tokens.size()) : rank + 1;
  out.experts = n;
  out.tokens = -1;
  for (int r = first; r < last; ++r) {
    const std::vector<double>& mine = tr.rank_expert_tokens.at(static_cast<std::size_t>(r));
    for (int g = 0; g < groups; ++g) {
      double sum = 0;
      for (int i = g * n; i < (g + 1) * n; ++i) sum += mine[i];
      if (sum > out.tokens) {  // the first busiest on ties
        out.tokens = sum;
        out.expert_tokens.assign(mine.begin() + g * n, mine.begin() + (g + 1) * n);
      }
    }
  }
  return out;
}

RouterShares router_shares(const Scenario& sc) {
  RouterShares out;
  if (!sc.model.moe) return out;
  const Moe& e = *sc.model.moe;
  if (e.learned_gate()) return out;
  const routing::RreSpec spec = rre_spec(sc);
  std::vector<std::vector<double>> hist = token_histograms(sc);
  if (e.router == Router::hash && hist.size() > 1) {  // hash routing has one group: all the domains' tokens together
    std::vector<double> all(hist.front().size(), 0.0);
    for (const auto& h : hist)
      for (std::size_t v = 0; v < h.size(); ++v) all[v] += h[v];
    hist = {all};
  }
  for (int layer : e.layers) out.per_layer.push_back(routing::rre_local_shares(spec, routing::rre_table(spec, layer), hist));
  return out;
}

double busiest_group_tokens(const SparseLayerTraffic& tr, int groups) {
  for (std::size_t k = 0; k < tr.busiest_group_tokens.size(); ++k)
    if ((1 << k) == groups) return tr.busiest_group_tokens[k];
  return device_experts(tr, -1, groups).tokens;
}

std::vector<SparseLayerTraffic> sparse_traffic(const Scenario& sc, const Layout& l, const RouterShares* shares) {
  std::vector<SparseLayerTraffic> out;
  if (!sc.model.moe) return out;
  const Moe& e = *sc.model.moe;
  require_memory(sc, "plan.ep",
                 "routing " + std::to_string(e.experts) + " experts over " + std::to_string(sc.plan.ep) +
                     " expert-parallel ranks (matrices of ep x experts and ep x ep per sparse layer)",
                 sparse_traffic_bytes(sc), "use fewer experts or expert-parallel ranks");
  const int ep = sc.plan.ep;
  const double T = double(sc.training.micro_batch) * sc.model.seq_len;  // tokens per rank per micro-batch
  if (e.learned_gate()) {
    // A learned gate: the same expected load in every layer (expert shares from the load model).
    const routing::GateSpec g{static_cast<std::int64_t>(T), e.experts, e.top_k, e.capacity_factor};
    const std::vector<double> expert_share = routing::expert_shares(e.load, e.experts, e.seed);
    const routing::GateLoad load = routing::expected_gate_load(g, expert_share);
    const routing::Matrix tokens = routing::expected_gate_tokens(g, expert_share, ep);
    SparseLayerTraffic t;
    t.group = ep;
    t.dropped_fraction = load.drop_fraction();
    summarise(t, tokens, ep, sc, l.micro_batches);
    for (int layer : e.layers) {
      t.layer = layer;
      out.push_back(t);
    }
    return out;
  }
  // RRE (and hash = RRE with one domain): a balanced random table per layer maps token IDs to
  // experts of the token's domain group (router_shares); ranks hold samples of their experts'
  // domains (grouped all-to-all, PanGu-Σ).
  const routing::RreSpec spec = rre_spec(sc);
  RouterShares own;
  if (shares == nullptr) {
    own = router_shares(sc);
    shares = &own;
  }
  SPARSIM_ASSERT(shares->per_layer.size() == e.layers.size(), "sparse_traffic: router shares of another model");
  const std::vector<double> mix = e.router == Router::hash ? std::vector<double>{1.0} : e.domain_mix;
  const bool mixed = e.domain_data == DomainData::mixed;
  const routing::Matrix by_domain =
      mixed ? routing::mixed_domain_tokens(ep, T, mix) : routing::grouped_domain_tokens(spec, ep, T, mix);
  const int group = mixed ? ep : std::max(1, ep / spec.domains);
  for (std::size_t i = 0; i < e.layers.size(); ++i) {
    const routing::Matrix tokens = routing::rre_source_tokens(spec, shares->per_layer[i], by_domain);
    SparseLayerTraffic t;
    t.layer = e.layers[i];
    t.group = group;
    summarise(t, tokens, ep, sc, l.micro_batches);  // needs t.group
    out.push_back(t);
  }
  return out;
}

}  // namespace sparsim::workload
