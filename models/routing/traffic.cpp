// Expert-parallel all-to-all traffic from routed tokens (routing.hpp, section (d)).
#include <algorithm>
#include <numeric>
#include <string>

#include "config/error.hpp"
#include "routing/routing.hpp"

namespace sparsim::routing {

namespace {

std::size_t idx(int i) { return static_cast<std::size_t>(i); }

/// Checks a [src][expert] matrix: `ranks` rows of E columns, E divisible by ranks. Returns E.
int check_tokens(const Matrix& tokens, int ranks) {
  SPARSIM_ASSERT(ranks > 0 && static_cast<int>(tokens.size()) == ranks, "tokens matrix: one row per rank expected");
  const int experts = static_cast<int>(tokens[0].size());
  SPARSIM_ASSERT(experts > 0 && experts % ranks == 0, "tokens matrix: experts must be a positive multiple of ranks");
  for (const auto& row : tokens) {
    SPARSIM_ASSERT(static_cast<int>(row.size()) == experts, "tokens matrix: ragged rows");
    for (double t : row) SPARSIM_ASSERT(t >= 0, "tokens matrix: negative token count");
  }
  return experts;
}

void check_square(const Matrix& m) {
  for (const auto& row : m) SPARSIM_ASSERT(row.size() == m.size(), "byte matrix: not square");
}

}  // namespace

int expert_rank(int expert, int experts, int ranks) {
  SPARSIM_ASSERT(ranks > 0 && experts > 0 && experts % ranks == 0, "expert_rank: ranks must divide experts");
  SPARSIM_ASSERT(expert >= 0 && expert < experts, "expert_rank: expert out of range");
  return expert / (experts / ranks);
}

Matrix dispatch_bytes(const Matrix& tokens, int ranks, double hidden, double bytes_per_element) {
  const int experts = check_tokens(tokens, ranks);
  SPARSIM_ASSERT(hidden > 0 && bytes_per_element > 0, "dispatch_bytes: hidden and element size must be > 0");
  const double row_bytes = hidden * bytes_per_element;  // one token's activation, bytes
  Matrix out(idx(ranks), std::vector<double>(idx(ranks), 0.0));
  for (int src = 0; src < ranks; ++src) {
    for (int e = 0; e < experts; ++e) out[idx(src)][idx(expert_rank(e, experts, ranks))] += tokens[idx(src)][idx(e)] * row_bytes;
  }
  return out;
}

Matrix combine_bytes(const Matrix& dispatch) {
  check_square(dispatch);
  Matrix out(dispatch.size(), std::vector<double>(dispatch.size(), 0.0));
  for (std::size_t i = 0; i < dispatch.size(); ++i) {
    for (std::size_t j = 0; j < dispatch.size(); ++j) out[j][i] = dispatch[i][j];
  }
  return out;
}

double sent_bytes(const Matrix& bytes, int rank) {
  check_square(bytes);
  double s = 0;
  for (std::size_t j = 0; j < bytes.size(); ++j) s += j == idx(rank) ? 0.0 : bytes[idx(rank)][j];
  return s;
}

double received_bytes(const Matrix& bytes, int rank) {
  check_square(bytes);
  double s = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) s += i == idx(rank) ? 0.0 : bytes[i][idx(rank)];
  return s;
}

double max_sent_bytes(const Matrix& bytes) {
  double m = 0;
  for (std::size_t r = 0; r < bytes.size(); ++r) m = std::max(m, sent_bytes(bytes, static_cast<int>(r)));
  return m;
}

double max_received_bytes(const Matrix& bytes) {
  double m = 0;
  for (std::size_t r = 0; r < bytes.size(); ++r) m = std::max(m, received_bytes(bytes, static_cast<int>(r)));
  return m;
}

double total_bytes(const Matrix& bytes) {
  double s = 0;
  for (std::size_t r = 0; r < bytes.size(); ++r) s += sent_bytes(bytes, static_cast<int>(r));
  return s;
}

std::vector<double> rank_tokens(const Matrix& tokens, int ranks) {
  const int experts = check_tokens(tokens, ranks);
  std::vector<double> out(idx(ranks), 0.0);
  for (const auto& row : tokens) {
    for (int e = 0; e < experts; ++e) out[idx(expert_rank(e, experts, ranks))] += row[idx(e)];
  }
  return out;
}

double busiest_rank_tokens(const Matrix& tokens, int ranks) {
  const auto t = rank_tokens(tokens, ranks);
  return *std::max_element(t.begin(), t.end());
}

double busiest_kept(const std::vector<double>& choices, int ranks, double capacity) {
  SPARSIM_ASSERT(ranks > 0 && !choices.empty(), "busiest_kept: no ranks or no experts");
  const int experts = static_cast<int>(choices.size());
  std::vector<double> kept(idx(ranks), 0.0);
  for (int e = 0; e < experts; ++e) kept[idx(expert_rank(e, experts, ranks))] += std::min(choices[idx(e)], capacity);
  return *std::max_element(kept.begin(), kept.end());
}

Matrix expected_gate_tokens(const GateSpec& g, const std::vector<double>& shares, int ranks) {
  SPARSIM_ASSERT(ranks > 0, "expected_gate_tokens: ranks must be > 0");
  return Matrix(idx(ranks), expected_gate_load(g, shares).kept);
}

Matrix sampled_gate_tokens(const GateSpec& g, const std::vector<double>& shares, int ranks, std::uint64_t seed) {
  SPARSIM_ASSERT(ranks > 0, "sampled_gate_tokens: ranks must be > 0");
  Matrix out;
  for (int r = 0; r < ranks; ++r) out.push_back(sampled_gate_load(g, shares, derive_seed(seed, idx(r))).kept);
  return out;
}

Matrix mixed_domain_tokens(int ranks, double tokens_per_rank, const std::vector<double>& mix) {
  SPARSIM_ASSERT(ranks > 0 && tokens_per_rank >= 0, "mixed_domain_tokens: bad ranks or tokens");
  const auto p = normalized(mix);
  std::vector<double> row(p.size());
  for (std::size_t d = 0; d < p.size(); ++d) row[d] = tokens_per_rank * p[d];
  return Matrix(idx(ranks), row);
}

Matrix grouped_domain_tokens(const RreSpec& r, int ranks, double tokens_per_rank, const std::vector<double>& mix) {
  SPARSIM_ASSERT(static_cast<int>(mix.size()) == r.domains, "grouped_domain_tokens: one mix entry per domain expected");
  SPARSIM_ASSERT(tokens_per_rank >= 0, "grouped_domain_tokens: negative tokens");
  SPARSIM_ASSERT(r.domains > 0 && r.experts % r.domains == 0, "grouped_domain_tokens: domains must divide experts");
  SPARSIM_ASSERT(ranks > 0 && r.experts % ranks == 0, "grouped_domain_tokens: ranks must divide experts");
  const int per_rank = r.experts / ranks;
  Matrix out(idx(ranks), std::vector<double>(idx(r.domains), 0.0));
  for (int k = 0; k < ranks; ++k) {
    // Domains whose groups overlap this rank's experts [k E/ep, (k+1) E/ep).
    const int first = (k * per_rank) / r.group_size();
    const int last = ((k + 1) * per_rank - 1) / r.group_size();
    double w = 0;
    for (int d = first; d <= last; ++d) w += mix[idx(d)];
    if (w <= 0) continue;  // the rank holds only domains absent from the batch
    for (int d = first; d <= last; ++d) out[idx(k)][idx(d)] = tokens_per_rank * mix[idx(d)] / w;
  }
  return out;
}

std::vector<std::vector<int>> domain_rank_groups(const RreSpec& r, int ranks) {
  std::vector<std::vector<int>> out(idx(r.domains));
  for (int d = 0; d < r.domains; ++d) {
    const auto g = domain_experts(r, d);
    const int lo = expert_rank(g.first, r.experts, ranks);
    const int hi = expert_rank(g.first + g.count - 1, r.experts, ranks);
    for (int k = lo; k <= hi; ++k) out[idx(d)].push_back(k);
  }
  return out;
}

Matrix rre_source_tokens(const RreSpec& r, const std::vector<int>& table, const Matrix& domain_tokens,
                         const std::vector<std::vector<double>>& histograms) {
  return rre_source_tokens(r, rre_local_shares(r, table, histograms), domain_tokens);  // the shares once, not per rank
}

Matrix rre_source_tokens(const RreSpec& r, const std::vector<std::vector<double>>& local, const Matrix& domain_tokens) {
  Matrix out;
  out.reserve(domain_tokens.size());
  for (const auto& row : domain_tokens) out.push_back(rre_tokens_from_shares(r, local, row));
  return out;
}

}  // namespace sparsim::routing
