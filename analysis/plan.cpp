#include "analysis/plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <thread>
#include <tuple>
#include <utility>

#include "analysis/grid.hpp"
#include "config/error.hpp"
#include "sim/analytic.hpp"
#include "workload/layout.hpp"
#include "workload/sparse.hpp"

namespace sparsim::analysis {

namespace {

std::vector<std::int64_t> divisors(std::int64_t n) {
  std::vector<std::int64_t> d;
  for (std::int64_t i = 1; i * i <= n; ++i) {
    if (n % i) continue;
    d.push_back(i);
    if (i != n / i) d.push_back(n / i);
  }
  std::sort(d.begin(), d.end());
  return d;
}

}  // namespace

namespace {

// Calls emit(candidate) for every plan of plan_space, in its order.
template <class Emit>
void visit_space(const Scenario& base, std::int64_t devices, const Emit& emit) {
  const Model& m = base.model;
  const int node = base.cluster.node.devices;
  const std::int64_t batch = base.training.global_batch;
  std::vector<Placement> placements{Placement::device, Placement::offload};
  if (m.moe) placements.push_back(Placement::ecss);
  for (int tp = 1; tp <= node; tp *= 2) {
    if (m.heads % tp != 0) continue;
    for (const std::int64_t pp64 : divisors(m.layers)) {
      if (pp64 * tp > devices || devices % (pp64 * tp) != 0) continue;
      const int pp = static_cast<int>(pp64);
      const std::int64_t dp = devices / (pp64 * tp);
      // virtual stages: any number that splits the stage's layers evenly (Megatron's interleaved
      // schedule; Llama-3-405B-style 126 / 14 = 9 layers per stage takes 3 or 9)
      for (const std::int64_t v64 : divisors(m.layers / pp)) {
        if (v64 > 1 && pp == 1) break;
        const int v = static_cast<int>(v64);
        std::vector<std::int64_t> eps{1};
        if (m.moe) {
          eps.clear();
          for (std::int64_t e : divisors(dp))
            if (m.moe->experts % e == 0) eps.push_back(e);
        }
        for (std::int64_t ep : eps) {
          // Sparse models: each expert over etp devices of the tensor-parallel group (tp, tp/2, ..
          // 1, whose sub-groups split the rank's experts evenly), the all-to-all overlapped with
          // compute or not (with more than one rank and one stage: with stages the paired
          // passes send later, which the DES sees and the analytic backend does not,
          // docs/sparse-models.md). Dense: as the scenario has them.
          std::vector<std::pair<int, bool>> expert_plans{{base.plan.etp, base.plan.overlap_ep}};
          if (m.moe) {
            expert_plans.clear();
            for (int etp = tp; etp >= 1; etp /= 2)
              for (bool overlap : {false, true})
                if ((m.moe->experts / ep) % (tp / etp) == 0 && (!overlap || (ep > 1 && pp == 1))) expert_plans.emplace_back(etp, overlap);
          }
          for (int mb = 1; mb <= 16; mb *= 2) {
            if (batch % (dp * mb) != 0) continue;
            for (Recompute rc : {Recompute::none, Recompute::selective, Recompute::full}) {
              for (int sp = 0; sp <= (tp > 1 ? 1 : 0); ++sp) {
                for (int zero = 0; zero <= (dp > 1 ? 3 : 0); ++zero) {
                  for (Placement where : placements) {
                    for (HostOverlap ho : {HostOverlap::none, HostOverlap::layers}) {
                      if (where == Placement::device && ho == HostOverlap::layers) continue;
                      for (const auto& [etp, overlap_ep] : expert_plans) {
                        Candidate c;
                        c.plan = base.plan;
                        c.plan.tp = tp;
                        c.plan.pp = pp;
                        c.plan.virtual_stages = v;
                        c.plan.schedule = v > 1 ? Schedule::interleaved : Schedule::one_f_one_b;
                        c.plan.dp = dp;
                        c.plan.ep = static_cast<int>(ep);
                        c.plan.recompute = rc;
                        c.plan.sequence_parallel = sp == 1;
                        c.plan.zero = zero;
                        c.plan.placement = where;
                        c.plan.host_overlap = ho;
                        c.plan.etp = etp;
                        c.plan.overlap_ep = overlap_ep;
                        c.micro_batch = mb;
                        emit(std::move(c));
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace

std::vector<Candidate> plan_space(const Scenario& base, std::int64_t devices) {
  // counted first: the space of a large search holds millions of candidates, and a vector that
  // grows by doubling would copy them and touch twice the memory
  std::size_t n = 0;
  visit_space(base, devices, [&](Candidate&&) { ++n; });
  std::vector<Candidate> out;
  out.reserve(n);
  visit_space(base, devices, [&](Candidate&& c) { out.push_back(std::move(c)); });
  return out;
}

Scenario with_plan(const Scenario& base, std::int64_t devices, const Candidate& c) {
  Scenario sc = base;
  sc.cluster.nodes = devices / base.cluster.node.devices;
  sc.plan = c.plan;
  sc.training.micro_batch = c.micro_batch;
  return sc;
}

namespace {

/// Runs `job(i)` for i in [0, n) on `threads` threads.
template <class Job>
void parallel_for(std::size_t n, int threads, const Job& job) {
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < n; i = next++) job(i);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, threads); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

}  // namespace

void evaluate_plans(const Scenario& base, std::int64_t devices, std::vector<Candidate>& candidates, int threads) {
  std::vector<std::size_t> all(candidates.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  evaluate_plans(base, devices, candidates, all, threads);
}

void evaluate_plans(const Scenario& base, std::int64_t devices, std::vector<Candidate>& candidates,
                    const std::vector<std::size_t>& which, int threads) {
  // The routing (workload::sparse_traffic) depends on the plan through ep, the micro-batch and
  // the micro-batches per step (dp) only: computed once per combination, shared by the plans.
  std::map<std::tuple<int, int, std::int64_t>, std::size_t> key_of;
  std::vector<std::size_t> route(which.size(), 0);
  std::vector<std::size_t> first;  // a candidate of each combination
  if (base.model.moe) {
    for (std::size_t j = 0; j < which.size(); ++j) {
      const Candidate& c = candidates[which[j]];
      const auto [it, fresh] = key_of.emplace(std::make_tuple(c.plan.ep, c.micro_batch, c.plan.dp), first.size());
      if (fresh) first.push_back(which[j]);
      route[j] = it->second;
    }
  }
  std::vector<std::vector<workload::SparseLayerTraffic>> routed(first.size());
  const workload::RouterShares shares = first.empty() ? workload::RouterShares{} : workload::router_shares(base);  // the model's part, once
  parallel_for(first.size(), threads, [&](std::size_t k) {
    // any candidate of the combination: the space makes ep divide dp and the experts
    const Scenario sc = with_plan(base, devices, candidates[first[k]]);
    routed[k] = workload::sparse_traffic(sc, workload::layout_of(sc), &shares);
  });
  // The block times (every layer kind's forward and backward) depend on a few of the plan's
  // choices only (sim::SharedBlocks says which): computed once per combination, by the first
  // plan of it that fits, and shared.
  std::map<std::tuple<int, int, bool, int, int, std::size_t, int>, std::size_t> block_key;
  std::vector<std::size_t> blocks_of(which.size());
  for (std::size_t j = 0; j < which.size(); ++j) {
    const Candidate& c = candidates[which[j]];
    const auto key = std::make_tuple(c.plan.tp, c.plan.expert_tp(), c.plan.sequence_parallel, static_cast<int>(c.plan.recompute),
                                     c.micro_batch, base.model.moe ? route[j] : 0, sim::expert_shared_threads(c.plan, base.cluster.node));
    blocks_of[j] = block_key.emplace(key, block_key.size()).first->second;
  }
  std::deque<sim::SharedBlocks> blocks(block_key.size());
  parallel_for(which.size(), threads, [&](std::size_t j) {
    Candidate& c = candidates[which[j]];
    // Pruned early: a plan that is infeasible, or whose memory does not fit, is not timed (its
    // verdict says why, as simulate's would).
    c.result = sim::analytic_step(with_plan(base, devices, c), base.model.moe ? &routed[route[j]] : nullptr, true, &blocks[blocks_of[j]]);
    c.verdict = sim::verdict(c.result).word();
  });
}

Score score_of(const Candidate& c, std::size_t index) {
  SPARSIM_ASSERT(!c.verdict.empty(), "scoring a plan that was not evaluated");
  const std::int32_t verdict = c.verdict == "runs" ? 0 : c.verdict == "does-not-fit" ? 1 : 2;
  return {index, verdict, c.result.step_time, c.result.tokens_per_s, c.result.memory.device_peak()};
}

std::vector<std::uint64_t> rank_scores(const std::vector<Score>& scores, std::size_t top) {
  std::vector<const Score*> runs;
  for (const Score& s : scores)
    if (s.verdict == 0) runs.push_back(&s);
  // fastest first; of equally fast plans the one with less device memory (more headroom), then
  // the earlier in the space
  std::sort(runs.begin(), runs.end(), [](const Score* a, const Score* b) {
    if (a->tokens_per_s != b->tokens_per_s) return a->tokens_per_s > b->tokens_per_s;
    if (a->device_peak != b->device_peak) return a->device_peak < b->device_peak;
    return a->index < b->index;
  });
  if (runs.size() > top) runs.resize(top);
  std::vector<std::uint64_t> out;
  for (const Score* s : runs) out.push_back(s->index);
  return out;
}

std::vector<const Candidate*> best_plans(const std::vector<Candidate>& candidates, std::size_t top) {
  std::vector<Score> scores;
  for (std::size_t i = 0; i < candidates.size(); ++i)
    if (candidates[i].verdict == "runs") scores.push_back(score_of(candidates[i], i));
  std::vector<const Candidate*> out;
  for (const std::uint64_t i : rank_scores(scores, top)) out.push_back(&candidates[i]);
  return out;
}

std::string describe(const Candidate& c) {
  const Plan& p = c.plan;
  std::string s = fmt::format("tp {} pp {} v {} dp {} ep {} mb {} {} zero {} {}", p.tp, p.pp, p.virtual_stages, p.dp, p.ep,
                              c.micro_batch, to_string(p.recompute), p.zero, to_string(p.placement));
  if (p.sequence_parallel) s += " sp";
  if (p.host_overlap == HostOverlap::layers) s += " overlapped";
  if (p.etp > 0 && p.etp != p.tp) s += fmt::format(" etp {}", p.etp);
  if (p.overlap_ep) s += " a2a-overlap";
  return s;
}

std::vector<std::string> plan_sets(const Candidate& c, std::int64_t devices, int node_devices, bool sparse) {
  const Plan& p = c.plan;
  std::vector<std::string> out{fmt::format("cluster.nodes={}", devices / node_devices),
          fmt::format("plan.tp={}", p.tp),
          fmt::format("plan.pp={}", p.pp),
          fmt::format("plan.schedule={}", to_string(p.schedule)),
          fmt::format("plan.virtual_stages={}", p.virtual_stages),
          fmt::format("plan.dp={}", p.dp),
          fmt::format("plan.ep={}", p.ep),
          fmt::format("training.micro_batch={}", c.micro_batch),
          fmt::format("plan.recompute={}", to_string(p.recompute)),
          fmt::format("plan.sequence_parallel={}", p.sequence_parallel ? "true" : "false"),
          fmt::format("plan.zero={}", p.zero),
          fmt::format("plan.placement={}", to_string(p.placement)),
          fmt::format("plan.host_overlap={}", p.host_overlap == HostOverlap::layers ? "layers" : "none")};
  if (sparse) {
    out.push_back(fmt::format("plan.etp={}", p.expert_tp()));
    out.push_back(fmt::format("plan.overlap_ep={}", p.overlap_ep ? "true" : "false"));
  }
  return out;
}

std::string why_slower(const sim::StepResult& first, const sim::StepResult& second) {
  const sim::Breakdown &a = first.breakdown, &b = second.breakdown;
  const std::vector<std::pair<const char*, double>> terms{
      {"compute", b.compute - a.compute}, {"tp comm", b.tp - a.tp}, {"pp comm", b.pp - a.pp},
      {"dp comm", b.dp - a.dp}, {"ep comm", b.ep - a.ep}, {"pipeline bubble", b.pipeline_bubble - a.pipeline_bubble},
      {"h2d", b.h2d - a.h2d}, {"d2h", b.d2h - a.d2h}, {"host optimizer", b.host_optimizer - a.host_optimizer},
      {"optimizer", b.optimizer - a.optimizer}};
  const double gap = std::abs(second.step_time - first.step_time);
  std::vector<std::pair<const char*, double>> big;
  for (const auto& t : terms)
    if (t.second != 0 && std::abs(t.second) >= 0.1 * gap) big.push_back(t);
  std::stable_sort(big.begin(), big.end(), [](const auto& x, const auto& y) { return std::abs(x.second) > std::abs(y.second); });
  if (big.size() > 3) big.resize(3);
  std::string s;
  for (const auto& [name, d] : big) s += fmt::format("{}{:+.3g} s {}", s.empty() ? "" : ", ", d, name);
  return s.empty() ? "the same breakdown" : s;
}

std::vector<std::int64_t> parse_devices(const std::string& spec, int node_devices) {
  const Origin cli{"command line", 0, 0};
  std::string expanded = spec;
  const auto dots = spec.find("..");
  if (dots != std::string::npos && spec.find_first_of("*+", dots) == std::string::npos) expanded += "*2";
  Axis axis;
  try {
    axis = parse_vary("devices=" + expanded);
  } catch (const InputError& e) {
    throw InputError(cli, "--devices", "expected N, a,b,c or a..b (doubling), got '" + spec + "'");
  }
  std::vector<std::int64_t> out;
  for (const std::string& v : axis.values) {
    std::size_t used = 0;
    long long n = 0;
    try {
      n = std::stoll(v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != v.size() || n <= 0 || n % node_devices != 0) {
      throw InputError(cli, "--devices",
                       "expected device counts that are positive multiples of the node's " + std::to_string(node_devices) +
                           " devices (N, a,b,c or a..b), got '" + v + "'");
    }
    out.push_back(n);
  }
  return out;
}

}  // namespace sparsim::analysis
