// Routing models: how many tokens each expert receives, and the expert-parallel all-to-all
// bytes that follow from it. A pure library on plain structs; no Scenario, no global state.
//
//  - learned top-k gate (GShard, Switch = top-1, GLaM): expert shares from a load distribution
//    (uniform, Zipf, measured histogram), capacity C = ceil(c k T / E), kept / dropped tokens;
//    expected (fractional) and sampled (multinomial, seeded) versions.
//  - RRE (PanGu-Σ): level 1 domain d -> expert group [d G, (d+1) G) with G = E / D; level 2
//    token ID -> expert of the group through a random, balanced table drawn per layer.
//  - hash routing: RRE with one domain.
//  - expert parallelism: per-(src, dst) dispatch / combine bytes, busiest rank.
//
// Vocabulary (models/README.md): T tokens per device-batch, E experts, k top-k, c capacity
// factor, V vocabulary, D domains, G = E / D experts per domain group, ep expert-parallel ranks.
// Token counts are token-expert assignments (a token routed to k experts counts k times).
//
// Randomness: std::mt19937_64 seeded explicitly; integers in a range and shuffles are drawn
// with our own code (not std::uniform_int_distribution / std::shuffle, whose algorithms the
// standard leaves open), so a (seed, layer) gives the same table on every standard library.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "config/scenario.hpp"

namespace sparsim::routing {

/// Dense row-major matrix: m[row][col].
using Matrix = std::vector<std::vector<double>>;

// ---------------------------------------------------------------------------------------------
// Seeds and sampling primitives

/// Seed of an independent stream `stream` (a layer, a rank) derived from `seed` (splitmix64).
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);

/// Uniformly random permutation of 0..n-1 (Fisher-Yates, unbiased bounded integers).
std::vector<int> random_permutation(int n, std::uint64_t seed);

/// out[perm[i]] = values[i] for perm = random_permutation(values.size(), seed): the same
/// values, assigned to randomly chosen positions.
std::vector<double> permuted(const std::vector<double>& values, std::uint64_t seed);

/// Counts of `n` independent draws from the categorical distribution `weights` (>= 0, not all
/// zero, need not sum to 1). Sum of the result is n. Reference sampler: n draws, O(n log E).
std::vector<std::int64_t> multinomial(std::int64_t n, const std::vector<double>& weights,
                                      std::uint64_t seed);

// ---------------------------------------------------------------------------------------------
// Load distributions: expected share of tokens per expert (size E, sums to 1)

std::vector<double> uniform_shares(int experts);

/// share_i = (1/(i+1)^s) / H with H = sum_{j<n} 1/(j+1)^s; s = 0 is uniform. Expert 0 is the
/// most loaded.
std::vector<double> zipf_shares(int n, double s);

/// Zipf shares with the ranks assigned to experts by random_permutation(n, permute_seed).
std::vector<double> zipf_shares(int n, double s, std::uint64_t permute_seed);

/// `histogram` (relative tokens per expert, >= 0, not all zero) divided by its sum.
std::vector<double> normalized(const std::vector<double>& histogram);

/// Shares from the scenario's load description (zipf unpermuted; histogram size must be E).
std::vector<double> expert_shares(const ExpertLoad& load, int experts);
/// As above, Zipf ranks randomly assigned to experts (no effect on uniform / histogram).
std::vector<double> expert_shares(const ExpertLoad& load, int experts, std::uint64_t permute_seed);

// ---------------------------------------------------------------------------------------------
// (a) Learned top-k gate with capacity (GShard, Switch, GLaM)

struct GateSpec {
  std::int64_t tokens = 0;       ///< T tokens the gate routes in one device-batch (one group)
  int experts = 0;               ///< E
  int top_k = 1;                 ///< k
  double capacity_factor = 1.0;  ///< c; <= 0 means no capacity (dropless)
};

/// C = ceil(c k T / E) tokens per expert (infinity when c <= 0). A relative 1e-12 is taken off
/// before the ceiling so that a product that is an integer on paper is not rounded up.
double capacity(const GateSpec& g);

struct GateLoad {
  std::vector<double> assigned;  ///< per expert, token-expert assignments before capacity
  std::vector<double> kept;      ///< per expert, min(assigned, C): tokens the expert computes
  double capacity = 0;           ///< C, tokens per expert
  double dropped = 0;            ///< sum over experts of assigned - kept
  int busiest = 0;               ///< expert with the most kept tokens (lowest index on ties)
  double max_kept() const { return kept.empty() ? 0.0 : kept[static_cast<std::size_t>(busiest)]; }
  double max_assigned() const;
  double total_assigned() const;  ///< k T
  double drop_fraction() const;   ///< dropped / (k T)
};

/// Expected load: assigned_i = k T share_i (fractional). The k choices of a token are treated
/// as independent draws (as in the multinomial below); a share above 1/k is not clipped to T.
GateLoad expected_gate_load(const GateSpec& g, const std::vector<double>& shares);

/// One finite batch: assigned = multinomial(k T, shares, seed), then the same capacity rule.
GateLoad sampled_gate_load(const GateSpec& g, const std::vector<double>& shares, std::uint64_t seed);

/// Capacity applied to given per-expert assignments (a measured count, or any of the above).
GateLoad apply_capacity(const GateSpec& g, std::vector<double> assigned);

// ---------------------------------------------------------------------------------------------
// (b) Random Routed Experts (PanGu-Σ) and (c) hash routing

struct RreSpec {
  int vocab = 0;            ///< V
  int experts = 0;          ///< E over all domains
  int domains = 1;          ///< D, divides E
  std::uint64_t seed = 0;   ///< tables are drawn from derive_seed(seed, layer)
  int group_size() const { return experts / domains; }  ///< G
};

/// Experts [first, first + count) of domain d's group: first = d G, count = G.
struct ExpertRange {
  int first = 0;
  int count = 0;
};
ExpertRange domain_experts(const RreSpec& r, int domain);

/// Balanced random table: table[v] in [0, G) for v < V; every expert gets floor(V/G) or
/// ceil(V/G) token IDs. Built as a seeded shuffle of v mod G, v = 0..V-1.
std::vector<int> balanced_table(int vocab, int group_size, std::uint64_t seed);

/// The level-2 table of `layer` (one table per layer, shared by the domains' groups):
/// balanced_table(V, G, derive_seed(seed, layer)).
std::vector<int> rre_table(const RreSpec& r, int layer);

/// Global expert of a token: d G + table[token_id].
int rre_expert(const RreSpec& r, const std::vector<int>& table, int domain, int token_id);

/// Expected tokens per expert (size E) of one layer:
///   tokens[d G + j] = sum_d domain_tokens[d] * sum_{v : table[v] = j} p_d(v),
/// p_d = histograms[d] / its sum (histograms.size() == D, or 1 = shared by all domains; each
/// of size V, counts >= 0). domain_tokens[d] = T * mix[d] for a batch of T tokens.
std::vector<double> rre_expert_tokens(const RreSpec& r, const std::vector<int>& table,
                                      const std::vector<double>& domain_tokens,
                                      const std::vector<std::vector<double>>& histograms);

/// The two halves of rre_expert_tokens, for many rows with the same table and histograms:
/// local[i][j] = mass of histograms[i] (normalised) on the IDs that table sends to local expert j
/// (size G each), then tokens[d G + j] = domain_tokens[d] * local[i(d)][j].
std::vector<std::vector<double>> rre_local_shares(const RreSpec& r, const std::vector<int>& table,
                                                  const std::vector<std::vector<double>>& histograms);
std::vector<double> rre_tokens_from_shares(const RreSpec& r, const std::vector<std::vector<double>>& local_shares,
                                           const std::vector<double>& domain_tokens);

/// Hash routing = RRE with one domain: tokens per expert (size E) of `tokens` tokens whose IDs
/// follow `histogram` (size V), table drawn for `layer` from `seed`.
std::vector<double> hash_expert_tokens(int vocab, int experts, std::uint64_t seed, int layer,
                                       double tokens, const std::vector<double>& histogram);

/// Synthetic token-ID histogram (size V, sums to 1): frequency of rank r ∝ 1/(r+1)^s, ranks
/// assigned to token IDs by random_permutation(V, seed).
std::vector<double> zipf_token_histogram(int vocab, double s, std::uint64_t seed);

/// Reads a token-ID histogram (size V, counts) from a text file. One entry per line, either
///   "count"            the k-th such line is token ID k-1; exactly V lines, or
///   "token_id count"   any order, IDs in [0, V), each at most once, missing IDs count 0.
/// The two forms cannot be mixed. Blank lines and '#' comments are ignored. Counts are finite
/// and >= 0, not all zero. Throws InputError naming the file, the line and `key_path`.
std::vector<double> read_token_histogram(const std::string& path, int vocab,
                                         const std::string& key_path = "");
/// As above from a stream; `name` stands for the file in error messages.
std::vector<double> parse_token_histogram(std::istream& in, const std::string& name, int vocab,
                                          const std::string& key_path = "");

// ---------------------------------------------------------------------------------------------
// (d) Expert-parallel traffic. Expert e lives on rank e / (E / ep). A "tokens" matrix is
// [src rank][expert] (ep x E): tokens that rank src sends to expert e.

int expert_rank(int expert, int experts, int ranks);

/// bytes[src][dst] = sum_{e on dst} tokens[src][e] * hidden * bytes_per_element (ep x ep).
/// The diagonal is the part that stays on the rank (no network).
Matrix dispatch_bytes(const Matrix& tokens, int ranks, double hidden, double bytes_per_element);
/// Combine sends every token back: the transpose of dispatch.
Matrix combine_bytes(const Matrix& dispatch);

/// Network bytes (off-diagonal): sent by rank r, received by rank r, maxima, total.
double sent_bytes(const Matrix& bytes, int rank);
double received_bytes(const Matrix& bytes, int rank);
double max_sent_bytes(const Matrix& bytes);
double max_received_bytes(const Matrix& bytes);
double total_bytes(const Matrix& bytes);

/// Tokens each rank's experts compute: sum over src and over the rank's experts (size ep).
std::vector<double> rank_tokens(const Matrix& tokens, int ranks);
/// Max of rank_tokens: sets the expert GEMM time of the step.
double busiest_rank_tokens(const Matrix& tokens, int ranks);
/// One step of a learned gate over `ranks` expert-parallel ranks: `choices` per expert (all
/// ranks' tokens, before capacity), of which each expert keeps at most `capacity`. Returns the
/// token-expert assignments the busiest rank's experts compute.
double busiest_kept(const std::vector<double>& choices, int ranks, double capacity);

/// MoE (global all-to-all): row r = the kept tokens of rank r's gate. Expected: every row is
/// expected_gate_load(...).kept. Sampled: rank r draws with derive_seed(seed, r).
Matrix expected_gate_tokens(const GateSpec& g, const std::vector<double>& shares, int ranks);
Matrix sampled_gate_tokens(const GateSpec& g, const std::vector<double>& shares, int ranks,
                           std::uint64_t seed);

/// Where each rank's tokens come from in RRE, as [rank][domain] token counts (ep x D).
/// Mixed: every rank holds tokens_per_rank * mix[d] of domain d (all-to-all crosses groups).
Matrix mixed_domain_tokens(int ranks, double tokens_per_rank, const std::vector<double>& mix);
/// Grouped (PanGu-Σ): a rank holds samples only of the domains whose experts it holds, split
/// among them in proportion to mix (with ep % D == 0: one domain per rank, all its tokens).
Matrix grouped_domain_tokens(const RreSpec& r, int ranks, double tokens_per_rank,
                             const std::vector<double>& mix);
/// Ranks holding at least one expert of domain d, for d = 0..D-1: the grouped all-to-all's
/// communicators.
std::vector<std::vector<int>> domain_rank_groups(const RreSpec& r, int ranks);

/// RRE tokens matrix (ep x E): row r = rre_expert_tokens(r, table, domain_tokens[r], histograms).
Matrix rre_source_tokens(const RreSpec& r, const std::vector<int>& table,
                         const Matrix& domain_tokens, const std::vector<std::vector<double>>& histograms);
/// The same from the layer's rre_local_shares(r, table, histograms).
Matrix rre_source_tokens(const RreSpec& r, const std::vector<std::vector<double>>& local_shares, const Matrix& domain_tokens);

}  // namespace sparsim::routing
