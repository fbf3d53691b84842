// Sampling primitives, load distributions, the top-k gate with capacity, RRE and hash routing.
// Token-histogram files: histogram_file.cpp. Expert-parallel traffic: traffic.cpp.
#include "routing/routing.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>

#include "config/error.hpp"

namespace sparsim::routing {

namespace {

/// Uniform integer in [0, n): reject the 2^64 mod n lowest outputs, then reduce mod n.
std::uint64_t below(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t threshold = (0 - n) % n;
  std::uint64_t x = rng();
  while (x < threshold) x = rng();
  return x % n;
}

/// Uniform double in [0, 1) from the top 53 bits.
double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

void check_weights(const std::vector<double>& w, const char* what) {
  SPARSIM_ASSERT(!w.empty(), std::string(what) + ": empty");
  for (double x : w) SPARSIM_ASSERT(std::isfinite(x) && x >= 0, std::string(what) + ": negative or non-finite weight");
  SPARSIM_ASSERT(sum(w) > 0, std::string(what) + ": all weights are zero");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Seeds and sampling

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  // splitmix64 finaliser applied to the seed, then to the mix with the stream index.
  auto mix = [](std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  return mix(mix(seed) ^ (stream * 0xd1b54a32d192ed03ULL + 1));
}

std::vector<int> random_permutation(int n, std::uint64_t seed) {
  SPARSIM_ASSERT(n >= 0, "random_permutation: negative size");
  std::vector<int> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  std::mt19937_64 rng(seed);
  for (std::size_t i = p.size(); i > 1; --i) std::swap(p[i - 1], p[below(rng, i)]);
  return p;
}

std::vector<double> permuted(const std::vector<double>& values, std::uint64_t seed) {
  const auto perm = random_permutation(static_cast<int>(values.size()), seed);
  std::vector<double> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) out[static_cast<std::size_t>(perm[i])] = values[i];
  return out;
}

std::vector<std::int64_t> multinomial(std::int64_t n, const std::vector<double>& weights, std::uint64_t seed) {
  SPARSIM_ASSERT(n >= 0, "multinomial: negative number of draws");
  check_weights(weights, "multinomial");
  std::vector<double> cdf(weights.size());
  std::partial_sum(weights.begin(), weights.end(), cdf.begin());
  const double total = cdf.back();
  // Last index with a non-zero weight: where a draw that rounds up to `total` lands.
  std::size_t last = weights.size() - 1;
  while (weights[last] == 0) --last;
  std::vector<std::int64_t> counts(weights.size(), 0);
  std::mt19937_64 rng(seed);
  for (std::int64_t i = 0; i < n; ++i) {
    // First index whose cumulative weight exceeds x: zero-weight entries are never chosen.
    const double x = unit(rng) * total;
    auto j = static_cast<std::size_t>(std::upper_bound(cdf.begin(), cdf.end(), x) - cdf.begin());
    ++counts[std::min(j, last)];
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Load distributions

std::vector<double> uniform_shares(int experts) {
  SPARSIM_ASSERT(experts > 0, "uniform_shares: no experts");
  return std::vector<double>(static_cast<std::size_t>(experts), 1.0 / experts);
}

std::vector<double> zipf_shares(int n, double s) {
  SPARSIM_ASSERT(n > 0, "zipf_shares: empty");
  SPARSIM_ASSERT(std::isfinite(s) && s >= 0, "zipf_shares: exponent must be >= 0");
  std::vector<double> w(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) w[static_cast<std::size_t>(i)] = std::pow(i + 1.0, -s);
  return normalized(w);
}

std::vector<double> zipf_shares(int n, double s, std::uint64_t permute_seed) {
  return permuted(zipf_shares(n, s), permute_seed);
}

std::vector<double> normalized(const std::vector<double>& histogram) {
  check_weights(histogram, "normalized");
  const double total = sum(histogram);
  std::vector<double> out(histogram.size());
  for (std::size_t i = 0; i < histogram.size(); ++i) out[i] = histogram[i] / total;
  return out;
}

std::vector<double> expert_shares(const ExpertLoad& load, int experts) {
  switch (load.distribution) {
    case LoadDistribution::uniform: return uniform_shares(experts);
    case LoadDistribution::zipf: return zipf_shares(experts, load.zipf_s);
    case LoadDistribution::histogram:
      SPARSIM_ASSERT(static_cast<int>(load.histogram.size()) == experts, "expert_shares: histogram size != experts");
      return normalized(load.histogram);
  }
  SPARSIM_UNREACHABLE("unknown load distribution");
}

std::vector<double> expert_shares(const ExpertLoad& load, int experts, std::uint64_t permute_seed) {
  if (load.distribution != LoadDistribution::zipf) return expert_shares(load, experts);
  return zipf_shares(experts, load.zipf_s, permute_seed);
}

// ---------------------------------------------------------------------------------------------
// Top-k gate

double capacity(const GateSpec& g) {
  SPARSIM_ASSERT(g.tokens >= 0 && g.experts > 0 && g.top_k >= 1 && g.top_k <= g.experts, "capacity: bad gate spec");
  if (g.capacity_factor <= 0) return std::numeric_limits<double>::infinity();
  const double c = g.capacity_factor * g.top_k * static_cast<double>(g.tokens) / g.experts;
  return std::ceil(c * (1 - 1e-12));
}

double GateLoad::max_assigned() const {
  return assigned.empty() ? 0.0 : *std::max_element(assigned.begin(), assigned.end());
}
double GateLoad::total_assigned() const { return sum(assigned); }
double GateLoad::drop_fraction() const {
  const double t = total_assigned();
  return t > 0 ? dropped / t : 0.0;
}

GateLoad apply_capacity(const GateSpec& g, std::vector<double> assigned) {
  SPARSIM_ASSERT(static_cast<int>(assigned.size()) == g.experts, "apply_capacity: one count per expert expected");
  GateLoad out;
  out.capacity = capacity(g);
  out.kept.resize(assigned.size());
  for (std::size_t e = 0; e < assigned.size(); ++e) {
    SPARSIM_ASSERT(assigned[e] >= 0, "apply_capacity: negative count");
    out.kept[e] = std::min(assigned[e], out.capacity);
    out.dropped += assigned[e] - out.kept[e];
  }
  out.busiest = static_cast<int>(std::max_element(out.kept.begin(), out.kept.end()) - out.kept.begin());
  out.assigned = std::move(assigned);
  return out;
}

GateLoad expected_gate_load(const GateSpec& g, const std::vector<double>& shares) {
  SPARSIM_ASSERT(static_cast<int>(shares.size()) == g.experts, "expected_gate_load: one share per expert expected");
  const double n = static_cast<double>(g.tokens) * g.top_k;
  const auto p = normalized(shares);
  std::vector<double> assigned(p.size());
  for (std::size_t e = 0; e < p.size(); ++e) assigned[e] = n * p[e];
  return apply_capacity(g, std::move(assigned));
}

GateLoad sampled_gate_load(const GateSpec& g, const std::vector<double>& shares, std::uint64_t seed) {
  SPARSIM_ASSERT(static_cast<int>(shares.size()) == g.experts, "sampled_gate_load: one share per expert expected");
  const auto counts = multinomial(g.tokens * g.top_k, shares, seed);
  return apply_capacity(g, std::vector<double>(counts.begin(), counts.end()));
}

// ---------------------------------------------------------------------------------------------
// RRE and hash routing

namespace {
void check_rre(const RreSpec& r) {
  SPARSIM_ASSERT(r.vocab > 0, "RRE: vocab must be > 0");
  SPARSIM_ASSERT(r.experts > 0 && r.domains > 0 && r.experts % r.domains == 0,
                 "RRE: experts must be a positive multiple of domains");
}
}  // namespace

ExpertRange domain_experts(const RreSpec& r, int domain) {
  check_rre(r);
  SPARSIM_ASSERT(domain >= 0 && domain < r.domains, "domain_experts: domain out of range");
  return ExpertRange{domain * r.group_size(), r.group_size()};
}

std::vector<int> balanced_table(int vocab, int group_size, std::uint64_t seed) {
  SPARSIM_ASSERT(vocab > 0 && group_size > 0, "balanced_table: vocab and group size must be > 0");
  // v mod G gives every expert floor(V/G) or ceil(V/G) IDs; a permutation keeps the counts.
  const auto perm = random_permutation(vocab, seed);
  std::vector<int> table(static_cast<std::size_t>(vocab));
  for (int v = 0; v < vocab; ++v) table[static_cast<std::size_t>(v)] = perm[static_cast<std::size_t>(v)] % group_size;
  return table;
}

std::vector<int> rre_table(const RreSpec& r, int layer) {
  check_rre(r);
  SPARSIM_ASSERT(layer >= 0, "rre_table: negative layer");
  return balanced_table(r.vocab, r.group_size(), derive_seed(r.seed, static_cast<std::uint64_t>(layer)));
}

int rre_expert(const RreSpec& r, const std::vector<int>& table, int domain, int token_id) {
  SPARSIM_ASSERT(static_cast<int>(table.size()) == r.vocab, "rre_expert: table size != vocab");
  SPARSIM_ASSERT(token_id >= 0 && token_id < r.vocab, "rre_expert: token ID out of range");
  return domain_experts(r, domain).first + table[static_cast<std::size_t>(token_id)];
}

std::vector<std::vector<double>> rre_local_shares(const RreSpec& r, const std::vector<int>& table,
                                                  const std::vector<std::vector<double>>& histograms) {
  check_rre(r);
  SPARSIM_ASSERT(static_cast<int>(table.size()) == r.vocab, "rre_local_shares: table size != vocab");
  SPARSIM_ASSERT(histograms.size() == 1 || static_cast<int>(histograms.size()) == r.domains,
                 "rre_local_shares: one histogram, or one per domain, expected");
  std::vector<std::vector<double>> local(histograms.size());
  for (std::size_t i = 0; i < histograms.size(); ++i) {
    SPARSIM_ASSERT(static_cast<int>(histograms[i].size()) == r.vocab, "rre_local_shares: histogram size != vocab");
    const auto p = normalized(histograms[i]);
    local[i].assign(static_cast<std::size_t>(r.group_size()), 0.0);
    for (std::size_t v = 0; v < p.size(); ++v) {
      const int j = table[v];
      SPARSIM_ASSERT(j >= 0 && j < r.group_size(), "rre_local_shares: table entry outside [0, G)");
      local[i][static_cast<std::size_t>(j)] += p[v];
    }
  }
  return local;
}

std::vector<double> rre_tokens_from_shares(const RreSpec& r, const std::vector<std::vector<double>>& local_shares,
                                           const std::vector<double>& domain_tokens) {
  check_rre(r);
  SPARSIM_ASSERT(static_cast<int>(domain_tokens.size()) == r.domains, "rre_tokens_from_shares: one token count per domain expected");
  SPARSIM_ASSERT(local_shares.size() == 1 || static_cast<int>(local_shares.size()) == r.domains,
                 "rre_tokens_from_shares: one share vector, or one per domain, expected");
  std::vector<double> tokens(static_cast<std::size_t>(r.experts), 0.0);
  for (int d = 0; d < r.domains; ++d) {
    const double t = domain_tokens[static_cast<std::size_t>(d)];
    SPARSIM_ASSERT(t >= 0, "rre_tokens_from_shares: negative token count");
    const auto& share = local_shares[local_shares.size() == 1 ? 0 : static_cast<std::size_t>(d)];
    SPARSIM_ASSERT(static_cast<int>(share.size()) == r.group_size(), "rre_tokens_from_shares: share vector size != G");
    const int first = domain_experts(r, d).first;
    for (int j = 0; j < r.group_size(); ++j) tokens[static_cast<std::size_t>(first + j)] += t * share[static_cast<std::size_t>(j)];
  }
  return tokens;
}

std::vector<double> rre_expert_tokens(const RreSpec& r, const std::vector<int>& table,
                                      const std::vector<double>& domain_tokens,
                                      const std::vector<std::vector<double>>& histograms) {
  return rre_tokens_from_shares(r, rre_local_shares(r, table, histograms), domain_tokens);
}

std::vector<double> hash_expert_tokens(int vocab, int experts, std::uint64_t seed, int layer, double tokens,
                                       const std::vector<double>& histogram) {
  const RreSpec r{vocab, experts, 1, seed};
  return rre_expert_tokens(r, rre_table(r, layer), {tokens}, {histogram});
}

std::vector<double> zipf_token_histogram(int vocab, double s, std::uint64_t seed) {
  return zipf_shares(vocab, s, seed);
}

}  // namespace sparsim::routing
