// Training-level tests of the reference trainer: data, routing against the simulator's table,
// capacity, loss decrease, placements (bitwise), checkpoint/resume, AdamW, measured result.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "data.hpp"
#include "moe.hpp"
#include "optim.hpp"
#include "routing/routing.hpp"
#include "train.hpp"

using namespace sparsim::trainer;
namespace routing = sparsim::routing;

namespace {
TrainConfig small(std::optional<Router> r, Placement p = Placement::device) {
  TrainConfig c;
  auto& m = c.model;
  m.seq = 16, m.hidden = 24, m.heads = 3, m.ffn = 40, m.layers = 2;
  m.router = r;
  m.sparse_layers = {1};
  m.experts = 4, m.top_k = 2, m.capacity_factor = 1.0, m.domains = 2;
  c.placement = p;
  c.global_batch = 4;
  c.adamw.lr = 3e-3f;
  c.adamw.weight_decay = 0.01f;
  return c;
}
const Dataset& corpus() {
  static const Dataset d = pack(synthetic_corpus(2, 300, 3), 16);
  return d;
}
// An empty directory under the temp directory (what an earlier run left there removed).
std::filesystem::path fresh_dir(const char* name) {
  const auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}
RunOptions quiet(int steps) {
  RunOptions o;
  o.steps = steps;
  o.progress = false;
  return o;
}
}  // namespace

TEST_CASE("tokenizer and packing", "[trainer][data]") {
  // BOS, 'a' = 97, 'b' = 98, EOS
  REQUIRE(tokenize("ab") == std::vector<int>{256, 97, 98, 257});
  // domain 0: 2 docs of 2 bytes = 8 tokens -> 2 sequences of s + 1 = 4; domain 1: 1 doc "xyz" = 5
  // tokens -> 1 sequence (tail dropped); interleaved d0, d1, d0.
  const Dataset d = pack({{"a", {"ab", "cd"}}, {"b", {"xyz"}}}, 3);
  REQUIRE(d.size() == 3);
  REQUIRE(d.domain == std::vector<int>{0, 1, 0});
  REQUIRE(d.tokens[0] == std::vector<int>{256, 97, 98, 257});
  REQUIRE(d.tokens[1] == std::vector<int>{256, 120, 121, 122});
}

TEST_CASE("corpus directory: one domain per sorted .txt, documents split at '%' lines", "[trainer][data]") {
  const auto dir = std::filesystem::temp_directory_path() / "sparsim-trainer-corpus";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "b.txt") << "one\n%\ntwo\nlines\n%\n";
  std::ofstream(dir / "a.txt") << "x\n";
  const auto c = read_corpus(dir.string());
  REQUIRE(c.size() == 2);
  REQUIRE(c[0].name == "a");
  REQUIRE(c[1].docs == std::vector<std::string>{"one\n", "two\nlines\n"});
  REQUIRE_THROWS_AS(read_corpus((dir / "missing").string()), sparsim::InputError);
}

TEST_CASE("batches: the ranks' slices make up the one-rank batch", "[trainer][data]") {
  const auto& d = corpus();
  for (int step : {0, 5, 1000}) {
    const auto all = batch_indices(d, step, 8, 0, 1, 9);
    std::vector<int> joined;
    for (int r = 0; r < 4; ++r) {
      const auto part = batch_indices(d, step, 8, r, 4, 9);
      joined.insert(joined.end(), part.begin(), part.end());
    }
    REQUIRE(joined == all);
  }
}

TEST_CASE("grouped domain data: each rank its experts' domains", "[trainer][data]") {
  // 4 ranks, 2 domains: ranks 0-1 hold domain 0's experts, 2-3 domain 1's; 2 ranks, 4 domains:
  // two whole domains each; 3 ranks and 2 domains would send tokens outside a rank's group
  REQUIRE(grouped_rank_domains(4, 2) == std::vector<std::vector<int>>{{0}, {0}, {1}, {1}});
  REQUIRE(grouped_rank_domains(2, 4) == std::vector<std::vector<int>>{{0, 1}, {2, 3}});
  REQUIRE(grouped_rank_domains(1, 2) == std::vector<std::vector<int>>{{0, 1}});
  REQUIRE_THROWS_AS(grouped_rank_domains(3, 2), std::invalid_argument);

  const auto& d = corpus();
  const auto one = grouped_rank_domains(1, 2), four = grouped_rank_domains(4, 2);
  REQUIRE(grouped_step_counts(d, 8, one) == std::vector<int>{4, 4});
  REQUIRE(grouped_step_counts(d, 8, four) == std::vector<int>{4, 4});
  for (int step : {0, 5, 1000}) {
    // every rank reads only its domain, and the 4 ranks read the one rank's set
    std::multiset<int> joined;
    for (int r = 0; r < 4; ++r)
      for (int i : grouped_batch_indices(d, step, 8, four, r, 9)) {
        REQUIRE(d.domain[static_cast<std::size_t>(i)] == four[static_cast<std::size_t>(r)][0]);
        joined.insert(i);
      }
    const auto all = grouped_batch_indices(d, step, 8, one, 0, 9);
    REQUIRE(joined == std::multiset<int>(all.begin(), all.end()));
    REQUIRE(joined.size() == 8);
  }
  // one epoch of a domain reads each of its sequences once
  std::vector<int> of0;
  for (std::size_t i = 0; i < d.size(); ++i)
    if (d.domain[i] == 0) of0.push_back(static_cast<int>(i));
  const int steps = static_cast<int>(of0.size()) / 4;
  std::set<int> seen;
  for (int step = 0; step < steps; ++step)
    for (int r = 0; r < 2; ++r)
      for (int i : grouped_batch_indices(d, step, 8, four, r, 9)) REQUIRE(seen.insert(i).second);
  REQUIRE(static_cast<int>(seen.size()) == steps * 4);
  // a domain with fewer sequences than a step takes
  const Dataset tiny = pack({{"a", {std::string(40, 'a')}}, {"b", {"bb"}}}, 3);
  REQUIRE_NOTHROW(grouped_batch_indices(tiny, 0, 4, grouped_rank_domains(2, 2), 0, 1));  // domain a: 10 sequences
  REQUIRE_THROWS_AS(grouped_batch_indices(tiny, 0, 4, grouped_rank_domains(2, 2), 1, 1), std::invalid_argument);
}

TEST_CASE("grouped domain data: one rank trains; more model domains than data domains is refused", "[trainer][rre]") {
  // (1 rank vs 4 ranks on the same sequences: mpi_compare.py, ctest trainer.mpi.np4_vs_np1.rre_grouped)
  TrainConfig c = small(Router::rre);
  c.model.domain_data = DomainData::grouped;
  SelfComm comm;
  const RunResult r = run(c, corpus(), comm, quiet(6));
  REQUIRE(r.losses.size() == 6);
  REQUIRE(r.losses.back() < r.losses.front());
  c.model.domains = 3;  // the corpus has 2 domains
  c.model.experts = 3;
  REQUIRE_THROWS_AS(run(c, corpus(), comm, quiet(1)), std::invalid_argument);
}

TEST_CASE("RRE routing uses the simulator's table", "[trainer][rre]") {
  // The trainer's layer-l table must be routing::rre_table(spec, l), and every token goes to
  // expert d G + table[id] (routing::rre_expert): count them by hand and compare.
  TrainConfig c = small(Router::rre);
  c.model.experts = 6, c.model.domains = 3;
  MoeLayer layer(c.model, Placement::device, 1, 0, 1);
  const routing::RreSpec spec{c.model.vocab, 6, 3, c.model.seed};
  REQUIRE(layer.table() == routing::rre_table(spec, 1));
  const auto& d = corpus();
  const int B = 3, s = c.model.seq, h = c.model.hidden;
  std::vector<int> tokens;
  const std::vector<int> domains{0, 2, 1};
  for (int b = 0; b < B; ++b) tokens.insert(tokens.end(), d.tokens[b].begin(), d.tokens[b].begin() + s);
  std::vector<float> x(static_cast<std::size_t>(B * s * h), 0.1f), y(x.size());
  SelfComm comm;
  Profiler prof;
  layer.forward(x.data(), y.data(), B, tokens.data(), domains.data(), 0, comm, prof);
  std::vector<std::int64_t> expected(6, 0);
  for (int t = 0; t < B * s; ++t) ++expected[static_cast<std::size_t>(routing::rre_expert(spec, layer.table(), domains[t / s], tokens[t]))];
  REQUIRE(layer.kept_per_expert == expected);
  REQUIRE(layer.dropped == 0);
  // domain 2 (sequence 1) only reaches experts [4, 6)
  REQUIRE(routing::rre_expert(spec, layer.table(), 2, tokens[s]) >= 4);
}

TEST_CASE("top-k gate respects the capacity", "[trainer][gate]") {
  // One sequence of s = 16 tokens, E = 4, k = 2, c = 0.5: C = ceil(0.5 * 2 * 16 / 4) = 4 per
  // expert, so at most 16 of the k s = 32 choices are kept and at least 16 are dropped.
  TrainConfig c = small(Router::topk);
  c.model.capacity_factor = 0.5;
  MoeLayer layer(c.model, Placement::device, 1, 0, 1);
  const int s = 16, h = c.model.hidden;
  std::vector<float> x(static_cast<std::size_t>(s * h)), y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i));
  std::vector<int> tokens(s, 65);
  const std::vector<int> domains{0};
  SelfComm comm;
  Profiler prof;
  layer.forward(x.data(), y.data(), 1, tokens.data(), domains.data(), 0, comm, prof);
  std::int64_t kept = 0;
  for (auto k : layer.kept_per_expert) {
    REQUIRE(k <= 4);
    kept += k;
  }
  REQUIRE(kept + layer.dropped == 2 * s);
  REQUIRE(layer.dropped >= 16);
}

TEST_CASE("loss decreases on the synthetic corpus (dense, top-k, RRE)", "[trainer][train]") {
  // Initial loss ~ ln V = ln 258 = 5.55; the corpus is highly predictable, so 40 steps at
  // lr 3e-3 must cut the mean of the last 5 losses by at least 1.5 nats.
  for (const std::optional<Router> r : {kDense, std::optional(Router::topk), std::optional(Router::rre)}) {
    const auto out = run(small(r), corpus(), *std::make_unique<SelfComm>(), quiet(40));
    REQUIRE(out.losses.size() == 40);
    // one wall time per timed step (after the warm-up), adding up to the timed steps' mean
    const RunOptions o = quiet(40);
    REQUIRE(out.step_times_s.size() == static_cast<std::size_t>(40 - o.warmup));
    double sum = 0;
    for (double t : out.step_times_s) {
      CHECK(t > 0);
      sum += t;
    }
    CHECK(sum / static_cast<double>(out.step_times_s.size()) == Approx(out.result.step_time).epsilon(0.05));
    CHECK(std::abs(out.losses[0] - std::log(258.0)) < 0.5);
    double first = 0, last = 0;
    for (int i = 0; i < 5; ++i) first += out.losses[static_cast<std::size_t>(i)] / 5, last += out.losses[static_cast<std::size_t>(35 + i)] / 5;
    INFO(router_name(r) << ": " << first << " -> " << last);
    CHECK(last < first - 1.5);
  }
}

namespace {
std::vector<float> all_params(Trainer& t) {
  std::vector<float> p;
  for (Tensor* x : t.model().dense_params()) p.insert(p.end(), x->w.begin(), x->w.end());
  for (MoeLayer* l : t.model().moe_layers())
    for (int e = 0; e < l->store.size(); ++e) {
      const auto& st = l->store.master(e);
      p.insert(p.end(), st.w.begin(), st.w.end());
      p.insert(p.end(), st.m.begin(), st.m.end());
      p.push_back(static_cast<float>(st.step));
    }
  return p;
}
}  // namespace

TEST_CASE("ecss gives bitwise the parameters of device; offload updates every expert", "[trainer][ecss]") {
  // device and ecss: the same arithmetic (copies are memcpy, AdamW is elementwise and skips
  // experts without tokens in both), so weights, moments and step counts must be equal bits.
  // offload (plain heterogeneous training) updates every expert every step, a zero gradient
  // where no token came: the same first step, then every expert's step count is the step's.
  for (Router r : {Router::topk, Router::rre}) {
    SelfComm comm;
    Trainer dev(small(r, Placement::device), corpus(), comm), ecss(small(r, Placement::ecss), corpus(), comm),
        off(small(r, Placement::offload), corpus(), comm);
    for (int i = 0; i < 6; ++i) {
      const double l = dev.train_step();
      REQUIRE(ecss.train_step() == l);
      const double lo = off.train_step();
      if (i == 0) REQUIRE(lo == l);
      for (MoeLayer* m : ecss.model().moe_layers()) REQUIRE(m->store.pool_experts() == 0);  // pool freed after the step
    }
    REQUIRE(all_params(ecss) == all_params(dev));
    int skipped = 0;  // expert-steps device skipped
    for (std::size_t k = 0; k < off.model().moe_layers().size(); ++k) {
      MoeLayer* o = off.model().moe_layers()[k];
      MoeLayer* d = dev.model().moe_layers()[k];
      for (int e = 0; e < o->store.size(); ++e) {
        REQUIRE(o->store.master(e).step == 6);
        skipped += 6 - d->store.master(e).step;
      }
    }
    // where device updated every expert every step, offload's arithmetic is device's
    if (skipped == 0) REQUIRE(all_params(off) == all_params(dev));
    // ecss moved only activated experts: fewer h2d spans than offload (all experts, every step)
    auto count = [](Trainer& t, const char* cat) {
      return std::count_if(t.profiler().spans.begin(), t.profiler().spans.end(),
                           [cat](const auto& s) { return std::string(s.category) == cat; });
    };
    CHECK(count(ecss, "h2d") <= count(off, "h2d"));
    CHECK(count(off, "h2d") == 6 * 4);
    CHECK(count(ecss, "host_optimizer") > 0);
    CHECK(count(dev, "h2d") == 0);
  }
}

TEST_CASE("checkpoint and resume reproduce the uninterrupted trajectory exactly", "[trainer][checkpoint]") {
  const auto dir = fresh_dir("sparsim-trainer-ckpt");
  const std::string ck = (dir / "run.ckpt").string();
  const TrainConfig c = small(Router::topk, Placement::ecss);
  SelfComm comm;
  const auto straight = run(c, corpus(), comm, quiet(8));
  RunOptions a = quiet(5);  // "killed" after step 5: the last checkpoint is the one of step 5
  a.checkpoint = ck, a.checkpoint_every = 1;
  const auto first = run(c, corpus(), comm, a);
  REQUIRE(std::filesystem::exists(ck));
  REQUIRE_FALSE(std::filesystem::exists(ck + ".tmp"));
  RunOptions b = quiet(8);
  b.checkpoint = ck, b.resume = true, b.checkpoint_every = 1;
  const auto second = run(c, corpus(), comm, b);
  std::vector<double> joined = first.losses;
  joined.insert(joined.end(), second.losses.begin(), second.losses.end());
  REQUIRE(joined == straight.losses);
  std::ofstream(ck, std::ios::app) << "junk";
  Trainer t(c, corpus(), comm);
  REQUIRE_THROWS_AS(t.load(ck), sparsim::InputError);
}

TEST_CASE("a run killed by SIGKILL and resumed continues the uninterrupted trajectory", "[trainer][checkpoint]") {
  // The child trains with a checkpoint after every step and kills itself (SIGKILL, no cleanup)
  // right after step 5; the parent resumes from the file and must reproduce losses 6..8 and the
  // final parameters of a run that was never interrupted, bit for bit.
  const auto dir = fresh_dir("sparsim-trainer-kill");
  const std::string ck = (dir / "run.ckpt").string();
  const TrainConfig c = small(Router::rre, Placement::ecss);
  SelfComm comm;
  const auto straight = run(c, corpus(), comm, quiet(8));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    RunOptions a = quiet(8);
    a.checkpoint = ck, a.checkpoint_every = 1;
    a.after_step = [](int step) {
      if (step == 5) std::raise(SIGKILL);
    };
    run(c, corpus(), comm, a);
    _exit(0);  // not reached
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
  RunOptions b = quiet(8);
  b.checkpoint = ck, b.resume = true;
  const auto resumed = run(c, corpus(), comm, b);
  REQUIRE(resumed.losses == std::vector<double>(straight.losses.begin() + 5, straight.losses.end()));
}

TEST_CASE("AdamW: first step by hand, thread count does not change the bits", "[trainer][optim]") {
  // Step 1: m = (1-b1) g, v = (1-b2) g^2, mhat = g, vhat = g^2, so
  // w1 = w0 - lr (g / (|g| + eps) + wd w0) = w0 - lr (sign(g) + wd w0) up to eps.
  AdamW hp;
  hp.lr = 0.1f, hp.weight_decay = 0.5f;
  std::vector<float> w{1.0f, -2.0f, 0.5f}, g{0.3f, -4.0f, 0.0f}, m(3, 0), v(3, 0);
  adamw_update(w.data(), g.data(), m.data(), v.data(), 3, 1, hp, 1);
  CHECK(w[0] == Approx(1.0 - 0.1 * (1 + 0.5)).epsilon(1e-6));
  CHECK(w[1] == Approx(-2.0 - 0.1 * (-1 - 1.0)).epsilon(1e-6));
  CHECK(w[2] == Approx(0.5 - 0.1 * 0.25).epsilon(1e-6));
  std::vector<float> big(100003), gb(big.size());
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = std::sin(float(i)), gb[i] = std::cos(0.1f * float(i));
  auto w1 = big, w5 = big;
  std::vector<float> m1(big.size()), v1(big.size()), m5(big.size()), v5(big.size());
  for (int s = 1; s <= 3; ++s) {
    adamw_update(w1.data(), gb.data(), m1.data(), v1.data(), big.size(), s, hp, 1);
    adamw_update(w5.data(), gb.data(), m5.data(), v5.data(), big.size(), s, hp, 5);
  }
  REQUIRE(w1 == w5);
}

TEST_CASE("measured result: sparsim.result/1 with backend measured, trace categories", "[trainer][result]") {
  SelfComm comm;
  RunOptions o = quiet(4);
  o.name = "unit";
  const auto out = run(small(Router::topk, Placement::ecss), corpus(), comm, o);
  const auto j = sparsim::sim::to_json(out.result);
  REQUIRE(j["schema"] == "sparsim.result/1");
  REQUIRE(j["backend"] == "measured");
  // it ran: the verdict beside feasible and memory.fits is "runs", with no reason
  REQUIRE(j["verdict"] == "runs");
  REQUIRE(j["verdict_reason"] == "");
  REQUIRE(j["step_time_s"].get<double>() > 0);
  // tokens/s = B s / step time = 4 * 16 / step_time
  REQUIRE(j["tokens_per_s"].get<double>() == Approx(64 / out.result.step_time));
  // the breakdown adds up to the step time (compute takes the untimed remainder)
  REQUIRE(out.result.breakdown.total() == Approx(out.result.step_time).epsilon(1e-9));
  REQUIRE(out.result.breakdown.ep > 0);
  REQUIRE(out.result.breakdown.h2d > 0);
  REQUIRE(out.result.breakdown.host_optimizer > 0);
  const auto path = (std::filesystem::temp_directory_path() / "sparsim-trainer-trace.json").string();
  out.trace.write(path, "unit");
  std::ifstream in(path);
  const auto t = nlohmann::json::parse(in);
  std::set<std::string> cats;
  for (const auto& e : t["traceEvents"])
    if (e.contains("cat")) cats.insert(e["cat"].get<std::string>());
  for (const char* c : {"compute", "ep", "h2d", "d2h", "host_optimizer", "optimizer"}) {
    INFO(c);
    CHECK(cats.count(c) == 1);
  }
}

TEST_CASE("speed probe: one sample per timed step, the same losses, its time left out", "[trainer][result]") {
  SelfComm comm;
  RunOptions o = quiet(6);
  o.warmup = 2;
  const auto plain = run(small(Router::rre), corpus(), comm, o);
  o.speed_probe = true;
  const auto probed = run(small(Router::rre), corpus(), comm, o);
  REQUIRE(plain.speed_probe_gflops.empty());
  REQUIRE(probed.speed_probe_gflops.size() == 4);
  for (double g : probed.speed_probe_gflops) CHECK(g > 0);
  REQUIRE(probed.losses == plain.losses);
  // the mean step is the timed steps' wall time without the probes': near their mean (a probe
  // of 2 GEMMs of 512x1024x256 takes longer than one step of this small model)
  double sum = 0;
  for (double t : probed.step_times_s) sum += t;
  CHECK(probed.result.step_time < 1.5 * sum / 4);
}

TEST_CASE("a collective's wait runs to its last rank's arrival, within the call", "[trainer][result]") {
  // two calls among 3 ranks: starts[k * 3 + r]
  const std::vector<double> starts{10.0, 10.5, 12.0,   // call 0: rank 2 arrives last
                                   20.0, 19.0, 19.5};  // call 1: rank 0 arrives last
  const std::vector<double> durs{3.0, 0.25};
  const auto w0 = waits_for_last(starts, 3, 0, durs), w1 = waits_for_last(starts, 3, 1, durs),
             w2 = waits_for_last(starts, 3, 2, durs);
  CHECK(w0 == std::vector<double>{2.0, 0.0});   // the last to arrive waits for nobody
  CHECK(w1 == std::vector<double>{1.5, 0.25});  // 1.0 after its start, but the call took it 0.25
  CHECK(w2 == std::vector<double>{0.0, 0.25});
  CHECK(waits_for_last({5.0}, 1, 0, {1.0}) == std::vector<double>{0.0});  // one rank: no peers
  // one rank: no waits in the measured result, its collectives are its own
  SelfComm comm;
  const auto out = run(small(Router::topk, Placement::device), corpus(), comm, quiet(3));
  CHECK(out.peer_wait_s == 0);
}

TEST_CASE("AdamW: one team over several tensors equals one call per tensor, bit for bit", "[trainer][optim]") {
  // Tensor sizes straddle the per-thread slices, and each tensor keeps its own step count.
  AdamW hp;
  hp.lr = 0.01f, hp.weight_decay = 0.1f;
  const std::vector<std::size_t> sizes{3, 5000, 17, 12289};
  std::vector<std::vector<float>> wa, ga, ma, va;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    wa.emplace_back(sizes[i]), ga.emplace_back(sizes[i]), ma.emplace_back(sizes[i], 0.0f), va.emplace_back(sizes[i], 0.0f);
    for (std::size_t j = 0; j < sizes[i]; ++j) wa[i][j] = std::sin(float(i + j)), ga[i][j] = std::cos(0.3f * float(i * j + 1));
  }
  auto wb = wa, mb = ma, vb = va;
  for (int s = 1; s <= 3; ++s) {
    std::vector<AdamTensor> batch;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const int step = s + static_cast<int>(i);
      adamw_update(wa[i].data(), ga[i].data(), ma[i].data(), va[i].data(), sizes[i], step, hp, 1);
      batch.push_back({wb[i].data(), ga[i].data(), mb[i].data(), vb[i].data(), sizes[i], step});
    }
    adamw_update(batch, hp, 3);
  }
  REQUIRE(wa == wb);
  REQUIRE(ma == mb);
  REQUIRE(va == vb);
}

TEST_CASE("dense gradients are slices of one buffer, in dense_params order; copies own theirs", "[trainer]") {
  Model m(small(Router::topk).model, Placement::device, 0, 1);
  const auto params = m.dense_params();
  REQUIRE(params.size() > 5);
  for (std::size_t i = 1; i < params.size(); ++i)  // each slice starts where the one before ends
    CHECK(params[i]->g.data() == params[i - 1]->g.data() + params[i - 1]->size());
  for (Tensor* t : params) CHECK(t->g.size() == t->size());
  // a copied tensor owns its gradient: writing it leaves the model's alone
  params[0]->g[0] = 2.0f;
  Tensor copy = *params[0];
  copy.g[0] = 5.0f;
  CHECK(params[0]->g[0] == 2.0f);
  CHECK(copy.g.data() != params[0]->g.data());
  m.zero_grad();
  for (Tensor* t : params) CHECK(std::all_of(t->g.begin(), t->g.end(), [](float x) { return x == 0.0f; }));
}

TEST_CASE("dense_param_count: what dense_params holds; experts make up the rest of params_total", "[trainer]") {
  for (const std::optional<Router> r : {kDense, std::optional(Router::topk), std::optional(Router::rre)}) {
    const ModelConfig cfg = small(r).model;
    Model m(cfg, Placement::device, 0, 1);
    double held = 0;
    for (Tensor* t : m.dense_params()) held += static_cast<double>(t->size());
    CHECK(dense_param_count(cfg) == held);
    CHECK(dense_param_count(cfg) + expert_param_count(cfg) == m.params_total());
    // an expert is an FFN of the model's sizes: 2 h f + f + h
    const double per_layer = cfg.experts * (2.0 * cfg.hidden * cfg.ffn + cfg.ffn + cfg.hidden);
    int sparse = 0;
    for (int l = 0; l < cfg.layers; ++l) sparse += cfg.is_sparse(l) ? 1 : 0;
    CHECK(expert_param_count(cfg) == sparse * per_layer);
    if (!r) CHECK(expert_param_count(cfg) == 0);
  }
}
