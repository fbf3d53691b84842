#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/error.hpp"
#include "routing/routing.hpp"

using namespace sparsim;
using namespace sparsim::routing;

namespace {

std::vector<int> expert_counts(const std::vector<int>& table, int group_size) {
  std::vector<int> n(static_cast<std::size_t>(group_size), 0);
  for (int j : table) ++n[static_cast<std::size_t>(j)];
  return n;
}

/// The InputError a histogram text raises (fails the test when none is thrown).
InputError histogram_error(const std::string& text, int vocab) {
  std::istringstream in(text);
  try {
    parse_token_histogram(in, "hist.txt", vocab, "model.moe.token_histogram");
  } catch (const InputError& e) {
    return e;
  }
  FAIL("no InputError for:\n" << text);
  throw;  // unreachable: FAIL throws
}

}  // namespace

TEST_CASE("routing: RRE table is balanced", "[routing][rre]") {
  // Every expert gets floor(V/G) or ceil(V/G) token IDs, and exactly V mod G experts get the
  // ceiling: V = 1000, G = 7 -> 1000 = 7 * 142 + 6: six experts hold 143 IDs, one holds 142.
  const auto t = balanced_table(1000, 7, 12345);
  REQUIRE(t.size() == 1000);
  auto n = expert_counts(t, 7);
  std::sort(n.begin(), n.end());
  REQUIRE(n == std::vector<int>{142, 143, 143, 143, 143, 143, 143});
  // PanGu-α vocabulary over 160 experts of a group: 40000 / 160 = 250 each, for every layer.
  const RreSpec r{40000, 640, 4, 7};
  for (int layer = 0; layer < 4; ++layer) {
    for (int c : expert_counts(rre_table(r, layer), 160)) REQUIRE(c == 250);
  }
  // Many small shapes: V in [1, 40], G in [1, 12]; counts in {floor, ceil}, sum V.
  for (int V = 1; V <= 40; ++V) {
    for (int G = 1; G <= 12; ++G) {
      const auto c = expert_counts(balanced_table(V, G, static_cast<std::uint64_t>(V * 100 + G)), G);
      int total = 0;
      for (int x : c) {
        REQUIRE((x == V / G || x == (V + G - 1) / G));
        total += x;
      }
      REQUIRE(total == V);
    }
  }
}

TEST_CASE("routing: RRE tables are reproducible per (seed, layer)", "[routing][rre]") {
  // Same seed and layer -> identical table. Another layer or another seed -> another table:
  // V = 1000 IDs over G = 8 experts has 1000! / (125!)^8 balanced tables, so two independent
  // draws coinciding is out of the question.
  const RreSpec r{1000, 32, 4, 2024};
  REQUIRE(rre_table(r, 3) == rre_table(r, 3));
  REQUIRE(rre_table(r, 3) != rre_table(r, 4));
  RreSpec other = r;
  other.seed = 2025;
  REQUIRE(rre_table(r, 3) != rre_table(other, 3));
  // derive_seed separates streams.
  REQUIRE(derive_seed(1, 0) != derive_seed(1, 1));
  REQUIRE(derive_seed(1, 0) != derive_seed(2, 0));
}

TEST_CASE("routing: a token of domain d only reaches the experts of group d", "[routing][rre]") {
  // E = 12, D = 3 -> G = 4: domain d owns experts [4d, 4d + 4).
  const RreSpec r{50, 12, 3, 99};
  const auto table = rre_table(r, 0);
  for (int d = 0; d < 3; ++d) {
    REQUIRE(domain_experts(r, d).first == 4 * d);
    REQUIRE(domain_experts(r, d).count == 4);
    for (int v = 0; v < 50; ++v) {
      const int e = rre_expert(r, table, d, v);
      REQUIRE(e >= 4 * d);
      REQUIRE(e < 4 * d + 4);
    }
  }
  // A batch of domain 1 only: experts outside [4, 8) receive nothing, and all 64 tokens land.
  const auto tokens = rre_expert_tokens(r, table, {0, 64, 0}, {std::vector<double>(50, 1.0)});
  for (int e = 0; e < 12; ++e) {
    if (e < 4 || e >= 8) REQUIRE(tokens[static_cast<std::size_t>(e)] == 0);
  }
  REQUIRE(tokens[4] + tokens[5] + tokens[6] + tokens[7] == Approx(64).epsilon(1e-12));
}

TEST_CASE("routing: RRE tokens per expert on a hand case", "[routing][rre]") {
  // V = 6, E = 6, D = 2 -> G = 3. Table (hand-written, balanced: each expert 2 IDs):
  //   ID:     0  1  2  3  4  5
  //   expert: 2  0  1  1  0  2
  // Domain 0 histogram {10, 0, 5, 3, 2, 0} (sum 20): expert 0 <- IDs 1,4 = 2/20 = 0.1,
  //   expert 1 <- IDs 2,3 = 8/20 = 0.4, expert 2 <- IDs 0,5 = 10/20 = 0.5.
  // Domain 1 histogram uniform: 1/3 per expert.
  // Batch T = 100 with mix {0.6, 0.4}: domain tokens {60, 40}.
  //   experts 0..2 (group 0) = 60 * {0.1, 0.4, 0.5} = {6, 24, 30}
  //   experts 3..5 (group 1) = 40 / 3 each.
  const RreSpec r{6, 6, 2, 0};
  const std::vector<int> table{2, 0, 1, 1, 0, 2};
  const auto t = rre_expert_tokens(r, table, {60, 40}, {{10, 0, 5, 3, 2, 0}, {1, 1, 1, 1, 1, 1}});
  REQUIRE(t[0] == Approx(6).epsilon(1e-12));
  REQUIRE(t[1] == Approx(24).epsilon(1e-12));
  REQUIRE(t[2] == Approx(30).epsilon(1e-12));
  for (int e = 3; e < 6; ++e) REQUIRE(t[static_cast<std::size_t>(e)] == Approx(40.0 / 3).epsilon(1e-12));
  // The per-histogram local shares behind it: {0.1, 0.4, 0.5} and {1/3, 1/3, 1/3}.
  const auto local = rre_local_shares(r, table, {{10, 0, 5, 3, 2, 0}, {1, 1, 1, 1, 1, 1}});
  REQUIRE(local[0][0] == Approx(0.1).epsilon(1e-12));
  REQUIRE(local[0][1] == Approx(0.4).epsilon(1e-12));
  REQUIRE(local[0][2] == Approx(0.5).epsilon(1e-12));
  REQUIRE(local[1][2] == Approx(1.0 / 3).epsilon(1e-12));

  // The drawn table, checked against a reference: route each token ID with rre_expert and add
  // up its histogram weight (one shared histogram, domain tokens {30, 10}).
  const auto drawn = rre_table(r, 5);
  const std::vector<double> h{4, 3, 2, 1, 0, 10};  // sum 20
  const auto fast = rre_expert_tokens(r, drawn, {30, 10}, {h});
  std::vector<double> ref(6, 0.0);
  for (int d = 0; d < 2; ++d) {
    for (int v = 0; v < 6; ++v) ref[static_cast<std::size_t>(rre_expert(r, drawn, d, v))] += (d == 0 ? 30 : 10) * h[static_cast<std::size_t>(v)] / 20;
  }
  for (int e = 0; e < 6; ++e) REQUIRE(fast[static_cast<std::size_t>(e)] == Approx(ref[static_cast<std::size_t>(e)]).epsilon(1e-12));
}

TEST_CASE("routing: hash routing is RRE with one domain", "[routing][hash]") {
  // hash_expert_tokens(V, E, seed, layer, T, h) = rre_expert_tokens with D = 1 and G = E.
  const int V = 300, E = 16;
  const auto h = zipf_token_histogram(V, 1.1, 5);
  const auto hashed = hash_expert_tokens(V, E, 77, 2, 4096, h);
  const RreSpec r{V, E, 1, 77};
  REQUIRE(hashed == rre_expert_tokens(r, rre_table(r, 2), {4096}, {h}));
  double total = 0;
  for (double x : hashed) total += x;
  REQUIRE(total == Approx(4096).epsilon(1e-12));
  // With a uniform histogram the table's balance carries over: 300 / 16 = 18.75, so experts
  // hold 18 or 19 IDs and get 4096 * 18/300 or 4096 * 19/300 tokens.
  for (double x : hash_expert_tokens(V, E, 77, 2, 4096, std::vector<double>(V, 1.0))) {
    REQUIRE((x == Approx(4096.0 * 18 / 300) || x == Approx(4096.0 * 19 / 300)));
  }
}

TEST_CASE("routing: Zipf shares", "[routing][load]") {
  // s = 1, n = 4: H = 1 + 1/2 + 1/3 + 1/4 = 25/12, shares = {12, 6, 4, 3} / 25.
  const auto z = zipf_shares(4, 1.0);
  REQUIRE(z[0] == Approx(12.0 / 25).epsilon(1e-14));
  REQUIRE(z[1] == Approx(6.0 / 25).epsilon(1e-14));
  REQUIRE(z[2] == Approx(4.0 / 25).epsilon(1e-14));
  REQUIRE(z[3] == Approx(3.0 / 25).epsilon(1e-14));
  // General s: share_i = (i+1)^-s / H, and the shares sum to 1.
  for (double s : {0.0, 0.5, 1.2, 2.0}) {
    const int n = 64;
    double H = 0;
    for (int i = 0; i < n; ++i) H += std::pow(i + 1.0, -s);
    const auto p = zipf_shares(n, s);
    double total = 0;
    for (int i = 0; i < n; ++i) {
      REQUIRE(p[static_cast<std::size_t>(i)] == Approx(std::pow(i + 1.0, -s) / H).epsilon(1e-12));
      total += p[static_cast<std::size_t>(i)];
    }
    REQUIRE(total == Approx(1).epsilon(1e-12));
  }
  // Permuted: the same multiset of shares, reproducible per seed.
  auto q = zipf_shares(64, 1.2, 3);
  REQUIRE(q == zipf_shares(64, 1.2, 3));
  REQUIRE(q != zipf_shares(64, 1.2));
  std::sort(q.rbegin(), q.rend());
  REQUIRE(q == zipf_shares(64, 1.2));
  // The scenario's load description maps onto the same functions.
  ExpertLoad load;
  load.distribution = LoadDistribution::zipf;
  load.zipf_s = 1.0;
  REQUIRE(expert_shares(load, 4) == z);
  load.distribution = LoadDistribution::histogram;
  load.histogram = {4, 2, 1, 1};
  REQUIRE(expert_shares(load, 4, 9) == std::vector<double>{0.5, 0.25, 0.125, 0.125});
}

TEST_CASE("routing: top-k capacity and drops on hand cases", "[routing][gate]") {
  // Uniform, GShard-like: T = 1024, E = 8, k = 2, c = 1.25 -> C = ceil(1.25*2*1024/8) = 320;
  // each expert is assigned 2*1024/8 = 256 <= 320: nothing dropped.
  const GateSpec u{1024, 8, 2, 1.25};
  const auto lu = expected_gate_load(u, uniform_shares(8));
  REQUIRE(lu.capacity == 320);
  for (double a : lu.assigned) REQUIRE(a == Approx(256).epsilon(1e-12));
  REQUIRE(lu.dropped == Approx(0).margin(1e-9));
  REQUIRE(lu.max_kept() == Approx(256).epsilon(1e-12));

  // An integer on paper stays an integer: c k T / E = 1.1*100/10 = 11, although the double
  // product is 11.000000000000002.
  REQUIRE(capacity(GateSpec{100, 10, 1, 1.1}) == 11);
  // c <= 0: no capacity (dropless).
  REQUIRE(std::isinf(capacity(GateSpec{100, 10, 1, 0})));

  // Skewed histogram {4, 2, 1, 1} -> shares {1/2, 1/4, 1/8, 1/8}; T = 100, k = 1, c = 1:
  // assigned {50, 25, 12.5, 12.5}, C = ceil(100/4) = 25, kept {25, 25, 12.5, 12.5},
  // dropped 25 of 100 (25%); experts 0 and 1 tie at 25, the lower index is reported.
  const GateSpec s{100, 4, 1, 1.0};
  const auto ls = expected_gate_load(s, normalized({4, 2, 1, 1}));
  REQUIRE(ls.capacity == 25);
  REQUIRE(ls.assigned == std::vector<double>{50, 25, 12.5, 12.5});
  REQUIRE(ls.kept == std::vector<double>{25, 25, 12.5, 12.5});
  REQUIRE(ls.dropped == 25);
  REQUIRE(ls.drop_fraction() == 0.25);
  REQUIRE(ls.busiest == 0);
  REQUIRE(ls.max_assigned() == 50);
  // c = 2: C = 50 holds the busiest expert, nothing dropped, the busiest expert sets the pace
  // at 50 tokens, twice the uniform 25.
  const auto l2 = expected_gate_load(GateSpec{100, 4, 1, 2.0}, normalized({4, 2, 1, 1}));
  REQUIRE(l2.capacity == 50);
  REQUIRE(l2.dropped == 0);
  REQUIRE(l2.max_kept() == 50);

  // Sampled: integer counts summing to k T, same rule for C; same seed, same batch.
  const auto smp = sampled_gate_load(s, normalized({4, 2, 1, 1}), 11);
  double total = 0, kept = 0;
  for (std::size_t e = 0; e < 4; ++e) {
    REQUIRE(smp.assigned[e] == std::floor(smp.assigned[e]));
    REQUIRE(smp.kept[e] == std::min(smp.assigned[e], 25.0));
    total += smp.assigned[e];
    kept += smp.kept[e];
  }
  REQUIRE(total == 100);
  REQUIRE(smp.dropped == total - kept);
  REQUIRE(sampled_gate_load(s, normalized({4, 2, 1, 1}), 11).assigned == smp.assigned);
}

TEST_CASE("routing: sampled loads converge to the expected ones", "[routing][gate]") {
  // n = k T = 2 * 50000 draws over Zipf(s = 1) shares of E = 8 experts. Each count is
  // Binomial(n, p_e): mean n p_e, std sqrt(n p_e (1 - p_e)). With a fixed seed the draw is fixed;
  // require every expert within 5 std (a 5-sigma miss has probability ~6e-7 per expert).
  const GateSpec g{50000, 8, 2, 0};
  const auto p = zipf_shares(8, 1.0);
  const auto expected = expected_gate_load(g, p);
  const auto sampled = sampled_gate_load(g, p, 20240601);
  const double n = 100000;
  for (std::size_t e = 0; e < 8; ++e) {
    const double sd = std::sqrt(n * p[e] * (1 - p[e]));
    REQUIRE(std::abs(sampled.assigned[e] - expected.assigned[e]) <= 5 * sd);
  }
  // A zero-weight expert is never drawn.
  const auto c = multinomial(10000, {1, 0, 2, 0}, 3);
  REQUIRE(c[1] == 0);
  REQUIRE(c[3] == 0);
  REQUIRE(c[0] + c[2] == 10000);
}

TEST_CASE("routing: uneven all-to-all bytes on a 4-rank hand case", "[routing][ep]") {
  // E = 4 experts on ep = 4 ranks (expert e on rank e); h = 2, 2 bytes per element -> 4 bytes
  // per token. tokens[src][e]:
  //   src0 {1, 2, 3, 4}   src1 {0, 5, 0, 1}   src2 {2, 2, 2, 2}   src3 {0, 0, 0, 8}
  // dispatch = 4 * tokens. Off-diagonal (network) bytes:
  //   sent:     r0 8+12+16 = 36, r1 0+0+4 = 4, r2 8+8+8 = 24, r3 0          -> max 36, total 64
  //   received: r0 0+8+0 = 8, r1 8+8+0 = 16, r2 12+0+0 = 12, r3 16+4+8 = 28 -> max 28, total 64
  // Tokens per rank (column sums, local included): {3, 9, 5, 15} -> the busiest rank has 15.
  const Matrix tokens{{1, 2, 3, 4}, {0, 5, 0, 1}, {2, 2, 2, 2}, {0, 0, 0, 8}};
  const auto d = dispatch_bytes(tokens, 4, 2, 2);
  REQUIRE(d == Matrix{{4, 8, 12, 16}, {0, 20, 0, 4}, {8, 8, 8, 8}, {0, 0, 0, 32}});
  REQUIRE(sent_bytes(d, 0) == 36);
  REQUIRE(sent_bytes(d, 3) == 0);
  REQUIRE(received_bytes(d, 3) == 28);
  REQUIRE(max_sent_bytes(d) == 36);
  REQUIRE(max_received_bytes(d) == 28);
  REQUIRE(total_bytes(d) == 64);
  REQUIRE(rank_tokens(tokens, 4) == std::vector<double>{3, 9, 5, 15});
  REQUIRE(busiest_rank_tokens(tokens, 4) == 15);
  // Two steps of a learned gate, equally concentrated (two experts take every choice): on 4
  // ranks of 2 experts each, experts 4 and 5 share rank 2, experts 1 and 3 do not. Each expert
  // keeps at most 160.
  REQUIRE(busiest_kept({0, 512, 0, 512, 0, 0, 0, 0}, 4, 160) == 160);
  REQUIRE(busiest_kept({0, 0, 0, 0, 512, 512, 0, 0}, 4, 160) == 320);
  REQUIRE(busiest_kept({0, 0, 0, 0, 512, 100, 0, 0}, 4, 160) == 260);
  REQUIRE(busiest_kept({0, 512, 0, 512, 0, 0, 0, 0}, 1, 160) == 320);
  // Combine returns every token: the transpose, so its max sent is dispatch's max received.
  const auto c = combine_bytes(d);
  REQUIRE(c[3][0] == 16);
  REQUIRE(max_sent_bytes(c) == 28);
  REQUIRE(max_received_bytes(c) == 36);
  REQUIRE(total_bytes(c) == 64);
  // Two experts per rank (ep = 2): experts {0,1} on rank 0, {2,3} on rank 1. Row src0 {1,2,3,4}
  // sends 1+2 = 3 tokens to rank 0 (local) and 3+4 = 7 to rank 1.
  REQUIRE(expert_rank(1, 4, 2) == 0);
  REQUIRE(expert_rank(2, 4, 2) == 1);
  const auto d2 = dispatch_bytes(Matrix{{1, 2, 3, 4}, {0, 0, 0, 0}}, 2, 1, 1);
  REQUIRE(d2 == Matrix{{3, 7}, {0, 0}});
}

TEST_CASE("routing: MoE all-to-all from the gate is global", "[routing][ep]") {
  // Expected uniform gate: every rank sends k T / E tokens to each expert. T = 64, k = 2, E = 8
  // on ep = 4: 16 tokens per expert, 2 experts per rank -> 32 tokens per (src, dst) pair;
  // h = 8, 2 bytes -> 512 bytes per pair; each rank sends 3 * 512 = 1536 over the network.
  const GateSpec g{64, 8, 2, 1.0};
  const auto t = expected_gate_tokens(g, uniform_shares(8), 4);
  const auto d = dispatch_bytes(t, 4, 8, 2);
  for (const auto& row : d) {
    for (double b : row) REQUIRE(b == Approx(512).epsilon(1e-12));
  }
  REQUIRE(max_sent_bytes(d) == Approx(1536).epsilon(1e-12));
  // Sampled: each rank draws its own batch; rows differ, each row keeps at most C per expert.
  const auto s = sampled_gate_tokens(g, zipf_shares(8, 1.0), 4, 8);
  REQUIRE(s[0] != s[1]);
  for (const auto& row : s) {
    for (double x : row) REQUIRE(x <= capacity(g));
  }
}

TEST_CASE("routing: grouped RRE all-to-all stays inside each domain's ranks", "[routing][ep][rre]") {
  // E = 8, D = 2 (G = 4) on ep = 4 ranks, 2 experts per rank: domain 0 on ranks {0, 1},
  // domain 1 on ranks {2, 3}. Grouped layout: a rank holds only its domain's samples, all 512.
  const RreSpec r{100, 8, 2, 31};
  REQUIRE(domain_rank_groups(r, 4) == std::vector<std::vector<int>>{{0, 1}, {2, 3}});
  const auto dt = grouped_domain_tokens(r, 4, 512, {0.7, 0.3});
  REQUIRE(dt == Matrix{{512, 0}, {512, 0}, {0, 512}, {0, 512}});
  const std::vector<std::vector<double>> hist{zipf_token_histogram(100, 1.0, 1), zipf_token_histogram(100, 1.0, 2)};
  const auto table = rre_table(r, 0);
  const auto grouped = dispatch_bytes(rre_source_tokens(r, table, dt, hist), 4, 16, 2);
  // No byte between ranks of different domains; every rank's 512 tokens * 32 bytes are sent.
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      if (i / 2 != j / 2) REQUIRE(grouped[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)] == 0);
    }
    const auto& row = grouped[static_cast<std::size_t>(i)];
    REQUIRE(row[0] + row[1] + row[2] + row[3] == Approx(512 * 32).epsilon(1e-12));
  }
  // Contrast: with every rank holding the batch mix, tokens cross the groups.
  const auto mixed = dispatch_bytes(rre_source_tokens(r, table, mixed_domain_tokens(4, 512, {0.7, 0.3}), hist), 4, 16, 2);
  REQUIRE(mixed[0][2] > 0);

  // D = 4 > ep = 2 (G = 2, 4 experts per rank): rank 0 holds domains {0, 1}, rank 1 {2, 3}.
  // Mix {0.1, 0.3, 0.2, 0.4}, 600 tokens per rank: rank 0 splits 0.1 : 0.3 -> {150, 450},
  // rank 1 splits 0.2 : 0.4 -> {200, 400}. Every token stays on its rank: no network bytes.
  const RreSpec r4{100, 8, 4, 31};
  REQUIRE(domain_rank_groups(r4, 2) == std::vector<std::vector<int>>{{0}, {0}, {1}, {1}});
  const auto dt4 = grouped_domain_tokens(r4, 2, 600, {0.1, 0.3, 0.2, 0.4});
  REQUIRE(dt4[0][0] == Approx(150).epsilon(1e-12));
  REQUIRE(dt4[0][1] == Approx(450).epsilon(1e-12));
  REQUIRE(dt4[1][2] == Approx(200).epsilon(1e-12));
  REQUIRE(dt4[1][3] == Approx(400).epsilon(1e-12));
  const auto d4 = dispatch_bytes(rre_source_tokens(r4, rre_table(r4, 1), dt4, {hist[0]}), 2, 16, 2);
  REQUIRE(total_bytes(d4) == 0);
}

TEST_CASE("routing: token histogram files", "[routing][histogram]") {
  // "count" form: line k (ignoring blanks and comments) is token ID k-1.
  {
    std::istringstream in("3\n# comment\n\n1  # trailing\n0\n");
    REQUIRE(parse_token_histogram(in, "h", 3) == std::vector<double>{3, 1, 0});
  }
  // "token_id count" form: any order, missing IDs count 0.
  {
    std::istringstream in("2 5\n0 1.5\n");
    REQUIRE(parse_token_histogram(in, "h", 3) == std::vector<double>{1.5, 0, 5});
  }
  // A real file, and a missing one.
  const auto dir = std::filesystem::temp_directory_path();
  const auto path = (dir / "sparsim_test_routing_hist.txt").string();
  {
    std::ofstream(path) << "0 7\n1 1\n";
  }
  REQUIRE(read_token_histogram(path, 2) == std::vector<double>{7, 1});
  std::filesystem::remove(path);
  REQUIRE_THROWS_AS(read_token_histogram((dir / "sparsim_no_such_hist.txt").string(), 2), InputError);
}

TEST_CASE("routing: token histogram errors name the line", "[routing][histogram]") {
  struct Case {
    const char* text;
    int vocab;
    int line;
    const char* says;
  };
  // Each text's bad line counted by hand (blank and comment lines count as lines).
  const Case cases[] = {
      {"3\nabc\n1\n", 3, 2, "'abc' is not a number"},
      {"3\n\n-1\n", 3, 3, "negative"},
      {"0 1\n7 2\n", 3, 2, "outside [0, vocab 3)"},
      {"0 1\n# c\n0 2\n", 3, 3, "already given on line 1"},
      {"0 1\n5\n", 3, 2, "mixes the two forms"},
      {"1\n2\n", 3, 2, "found 2"},
      {"1\n2\n3\n4\n", 3, 4, "more than vocab (3)"},
      {"1 2 3\n", 3, 1, "found 3 fields"},
      {"x 3\n", 3, 1, "'x' is not an integer"},
      {"0\n0\n", 2, 2, "all counts are zero"},
      {"1\ninf\n", 2, 2, "not a number"},
  };
  for (const auto& c : cases) {
    const auto e = histogram_error(c.text, c.vocab);
    INFO(e.what());
    REQUIRE(e.origin().file == "hist.txt");
    REQUIRE(e.origin().line == c.line);
    REQUIRE(e.key_path() == "model.moe.token_histogram");
    REQUIRE_THAT(std::string(e.what()), Catch::Contains("hist.txt:" + std::to_string(c.line) + ":") &&
                                            Catch::Contains(c.says));
  }
  // Empty input has no line to blame.
  const auto e = histogram_error("# only a comment\n", 3);
  REQUIRE_THAT(std::string(e.what()), Catch::Contains("no counts found"));
}
