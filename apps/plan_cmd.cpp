#include "plan_cmd.hpp"

#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstring>
#include <optional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "analysis/plan.hpp"
#include "cli.hpp"
#include "dist.hpp"
#include "config/error.hpp"
#include "config/loader.hpp"
#include "output.hpp"
#include "plan_page.hpp"
#include "report_cmd.hpp"
#include "sim/des/des_backend.hpp"
#include "sim/isolate.hpp"
#include "sim/result.hpp"

namespace po = boost::program_options;

namespace sparsim::app {

namespace {

/// "300e9", "300B", "1.5T" tokens: a number with an optional k/M/B/G/T suffix.
double parse_tokens(const std::string& s) {
  std::size_t used = 0;
  double x = 0;
  try {
    x = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  double scale = 1;
  const std::string rest = used > 0 ? s.substr(used) : "";
  if (rest == "k" || rest == "K") scale = 1e3;
  else if (rest == "M") scale = 1e6;
  else if (rest == "B" || rest == "G") scale = 1e9;
  else if (rest == "T") scale = 1e12;
  else if (!rest.empty()) used = 0;
  if (used == 0 || !(x > 0)) {
    throw InputError(Origin{"command line", 0, 0}, "--tokens", "expected a positive token count such as 300e9 or 300B, got '" + s + "'");
  }
  return x * scale;
}

/// The scores of a rank's evaluated candidates as bytes, and back (the same build on every rank).
std::string to_bytes(const std::vector<analysis::Score>& scores) {
  std::string out(scores.size() * sizeof(analysis::Score), '\0');
  if (!scores.empty()) std::memcpy(out.data(), scores.data(), out.size());
  return out;
}

void from_bytes(const std::string& bytes, std::vector<analysis::Score>& into) {
  SPARSIM_ASSERT(bytes.size() % sizeof(analysis::Score) == 0, "a rank sent a partial score");
  for (std::size_t at = 0; at < bytes.size(); at += sizeof(analysis::Score)) {
    analysis::Score s;
    std::memcpy(&s, bytes.data() + at, sizeof s);
    SPARSIM_ASSERT(s.index < into.size(), "a rank scored a plan outside the space");
    into[s.index] = s;
  }
}

/// The `count` best plans (`ranked`) simulated on the DES, each in a child process (SimGrid is a
/// process singleton), printed as a table ranked by the DES's step time, with the analytic
/// backend's step beside it; returned as the size's "verified" list.
nlohmann::json verify_on_des(const Scenario& base, std::int64_t devices, const std::vector<analysis::Candidate>& space,
                             const std::vector<std::uint64_t>& ranked, std::size_t count) {
  struct Verified {
    std::size_t analytic_rank;
    const analysis::Candidate* c;
    nlohmann::json des;
  };
  std::vector<Verified> rows;
  for (std::size_t k = 0; k < count; ++k) {
    const analysis::Candidate& c = space[ranked[k]];
    const Scenario sc = analysis::with_plan(base, devices, c);
    rows.push_back({k + 1, &c, sim::in_child([&] { return sim::to_json(sim::des_step(sc)); })});
  }
  // by the DES's step time; equal steps keep the analytic order
  std::stable_sort(rows.begin(), rows.end(), [](const Verified& a, const Verified& b) {
    return a.des.at("step_time_s").get<double>() < b.des.at("step_time_s").get<double>();
  });
  std::cout << fmt::format("  on the DES (--verify {}):\n  {:>3} {:>3}  {:<72} {:>12} {:>9} {:>8} {:>11}\n", count, "des", "#", "plan",
                           "analytic [s]", "des [s]", "des/an.", "des tok/s");
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t j = 0; j < rows.size(); ++j) {
    const Verified& v = rows[j];
    const double des = v.des.at("step_time_s").get<double>(), analytic = v.c->result.step_time;
    std::cout << fmt::format("  {:>3} {:>3}  {:<72} {:>12.5g} {:>9.5g} {:>+7.2f}% {:>11.0f}\n", j + 1, v.analytic_rank,
                             analysis::describe(*v.c), analytic, des, 100 * (des / analytic - 1), v.des.at("tokens_per_s").get<double>());
    out.push_back({{"des_rank", j + 1}, {"rank", v.analytic_rank}, {"plan", analysis::describe(*v.c)}, {"analytic_step_time_s", analytic},
                   {"des_step_time_s", des}, {"des_tokens_per_s", v.des.at("tokens_per_s")}, {"des_verdict", v.des.value("verdict", "")}});
  }
  return out;
}

/// What a search shows, the same for every device count.
struct Shown {
  std::size_t top = 5, verify = 0;
  double tokens = 0, price = 0;  ///< to train; per device-hour (0: not asked)
  int threads = 1;
  int node = 1;                  ///< devices per node
  double step_tokens = 0;        ///< tokens per step
};

/// Rank 0's part for one device count, from every plan's score: the counts, the best plans
/// (evaluated again here when another rank evaluated them), why the runner-up loses and the
/// DES's verdict on the best; printed, appended to `csv_text` and returned as the size's JSON.
nlohmann::json report_size(const Shown& o, const Scenario& base, std::int64_t n, std::vector<analysis::Candidate>& space,
                           const std::vector<analysis::Score>& scores, std::string& csv_text) {
  std::size_t runs = 0, no_fit = 0, infeasible = 0;
  for (const auto& s : scores) (s.verdict == 0 ? runs : s.verdict == 1 ? no_fit : infeasible)++;
  const std::vector<std::uint64_t> ranked = analysis::rank_scores(scores, scores.size());  // every plan that runs
  const std::size_t shown = std::min<std::size_t>(o.top, ranked.size());
  // the runner-up: the fastest plan that is slower than #1 (plans as fast as #1 differ only in
  // memory, ranked by it)
  std::size_t runner_up = 0;
  for (std::size_t k = 1; k < ranked.size() && runner_up == 0; ++k)
    if (scores[ranked[k]].step_time > scores[ranked[0]].step_time) runner_up = k;
  const std::size_t verified = std::min<std::size_t>(o.verify, ranked.size());
  std::vector<std::size_t> missing;  // shown plans another rank evaluated
  for (std::size_t k = 0; k < ranked.size(); ++k)
    if ((k < std::max(shown, verified) || k == runner_up) && space[ranked[k]].verdict.empty()) missing.push_back(ranked[k]);
  analysis::evaluate_plans(base, n, space, missing, o.threads);

  std::cout << fmt::format("{} devices ({} nodes): {} plans, {} run, {} do not fit, {} infeasible\n", n, n / o.node, space.size(), runs,
                           no_fit, infeasible);
  nlohmann::json size{{"devices", n}, {"plans", space.size()}, {"runs", runs}, {"does_not_fit", no_fit},
                      {"infeasible", infeasible}, {"best", nlohmann::json::array()}};
  if (ranked.empty()) {
    std::cout << "  no plan runs on " << n << " devices\n\n";
    return size;
  }
  std::cout << fmt::format("  {:>2}  {:<72} {:>9} {:>11} {:>6} {:>9}", "#", "plan", "step [s]", "tokens/s", "MFU", "dev GiB");
  if (o.tokens > 0) std::cout << fmt::format(" {:>8}", "days");
  if (o.price > 0) std::cout << fmt::format(" {:>12} {:>14}", "device-hours", "cost");
  std::cout << "\n";
  for (std::size_t k = 0; k < shown; ++k) {
    const analysis::Candidate& c = space[ranked[k]];
    const sim::StepResult& r = c.result;
    const double seconds = o.tokens > 0 ? o.tokens / r.tokens_per_s : 0.0;
    const double hours = seconds * double(n) / 3600;
    std::cout << fmt::format("  {:>2}  {:<72} {:>9.4f} {:>11.0f} {:>5.1f}% {:>9.1f}", k + 1, analysis::describe(c), r.step_time,
                             r.tokens_per_s, 100 * r.mfu, r.memory.device_peak() / 1073741824.0);
    if (o.tokens > 0) std::cout << fmt::format(" {:>8.1f}", seconds / 86400);
    if (o.price > 0) std::cout << fmt::format(" {:>12.0f} {:>14.0f}", hours, hours * o.price);
    std::cout << "\n";
    nlohmann::json b{{"rank", k + 1}, {"plan", analysis::describe(c)}, {"set", analysis::plan_sets(c, n, o.node, base.model.moe.has_value())},
                     {"step_time_s", r.step_time}, {"tokens_per_s", r.tokens_per_s}, {"mfu", r.mfu},
                     {"device_peak_bytes", r.memory.device_peak()}, {"steps_per_tokens", o.tokens > 0 ? o.tokens / o.step_tokens : 0.0},
                     {"result", sim::to_json(r)}};
    if (o.tokens > 0) b["days"] = seconds / 86400;
    if (o.price > 0) b["device_hours"] = hours, b["cost"] = hours * o.price;
    size["best"].push_back(b);
    csv_text += fmt::format("{},{},{},{},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g}\n", n, k + 1, analysis::describe(c), c.verdict,
                            r.step_time, r.tokens_per_s, r.mfu, r.memory.device_peak(), o.tokens > 0 ? seconds / 86400 : 0.0,
                            o.price > 0 ? hours : 0.0, o.price > 0 ? hours * o.price : 0.0);
  }
  if (runner_up > 0) {
    const analysis::Candidate &first = space[ranked[0]], &second = space[ranked[runner_up]];
    const std::string why = analysis::why_slower(first.result, second.result);
    std::cout << fmt::format("  runner-up #{} ({}) loses by {:.4g} s a step: {}\n", runner_up + 1, analysis::describe(second),
                             second.result.step_time - first.result.step_time, why);
    size["runner_up"] = {{"rank", runner_up + 1}, {"plan", analysis::describe(second)}, {"loses_by", why}};
  }
  if (verified > 0) size["verified"] = verify_on_des(base, n, space, ranked, verified);
  std::cout << "\n";
  return size;
}

}  // namespace

int plan_main(const std::vector<std::string>& args) {
  dist::World world;  // one process, or the ranks of mpirun: each evaluates a share, rank 0 prints
  po::options_description opts("sparsim plan FILE [options]");
  std::string file, devices_spec, tokens_spec, json, csv, report_dir;
  double price = 0;
  std::size_t top = 5, verify = 0;
  int threads = world.default_threads();
  std::vector<std::string> sets;
  opts.add_options()("help,h", "show this help")
      ("devices", po::value(&devices_spec), "device counts: N | a,b,c | a..b (doubling); default the scenario's")
      ("tokens", po::value(&tokens_spec), "tokens to train (300e9, 300B): adds the time to train")
      ("price", po::value(&price), "price per device-hour: adds device-hours and cost (needs --tokens)")
      ("top", po::value(&top)->default_value(5), "plans shown per device count")
      ("verify", po::value(&verify), "simulate the K best plans of each device count on the DES and rank them by its step time")
      ("set", po::value(&sets)->composing(), "override a key of the scenario first: --set training.global_batch=2048")
      ("threads", po::value(&threads), "evaluation threads per process (default: the machine's hardware threads over its ranks)")
      ("json", po::value(&json), "write the search (sparsim.plan/1: every device count's best plans and counts) to this file")
      ("csv", po::value(&csv), "write one CSV row per shown plan to this file")
      ("report", po::value(&report_dir), "write an HTML page (the Pareto front of time to train and cost against devices, the best plans' breakdowns) into this directory")
      ("force", "replace existing output files");
  po::variables_map vm;
  std::optional<Scenario> loaded;
  std::vector<std::int64_t> counts;
  double tokens = 0;
  world.together([&] {
    vm = parse_verb(args, opts, file);
    if (vm.count("help")) return;
    const Origin cli{"command line", 0, 0};
    if (file.empty()) throw InputError(cli, "FILE", "missing the scenario file");
    if (top < 1) throw InputError(cli, "--top", "expected at least 1");
    if (threads < 1) throw InputError(cli, "--threads", "expected at least 1");
    if (vm.count("price") && !(price > 0)) throw InputError(cli, "--price", "expected a positive price per device-hour");
    if (vm.count("price") && tokens_spec.empty()) throw InputError(cli, "--price", "the cost needs --tokens (how much to train)");
    if (world.root()) {  // rank 0 writes them
      for (const auto& out : {json, csv})
        if (!out.empty()) check_output_path(out, vm.count("force") > 0, {file});
      if (!report_dir.empty()) check_report_dir(report_dir, vm.count("force") > 0, {file});
    }
    loaded = config::load_scenario(file, sets).scenario;
    counts = devices_spec.empty() ? std::vector<std::int64_t>{loaded->cluster.devices()}
                                  : analysis::parse_devices(devices_spec, loaded->cluster.node.devices);
    tokens = tokens_spec.empty() ? 0.0 : parse_tokens(tokens_spec);
  });
  if (vm.count("help")) {
    if (world.root()) {
      std::cout << opts
                << "\nSearches tp, pp, virtual stages, dp, ep, micro-batch, recomputation, sequence parallelism,\n"
                   "ZeRO stage and placement (analysis/plan.hpp) with the analytic backend; the model, hardware,\n"
                   "network, global batch and precision are the scenario's. Plans that cannot run or fit are\n"
                   "counted with their verdict. Under mpirun -np R the ranks split each device count's plans\n"
                   "and rank 0 prints and writes what one process would.\n";
    }
    return 0;
  }
  const Scenario& base = *loaded;
  const Shown shown{top, verify, tokens, price, threads, base.cluster.node.devices,
                    double(base.training.global_batch) * base.model.seq_len};

  nlohmann::json doc{{"schema", "sparsim.plan/1"}, {"scenario", base.name}, {"file", file}, {"tokens", tokens}, {"price", price},
                     {"sizes", nlohmann::json::array()}};
  std::string csv_text = "devices,rank,plan,verdict,step_time_s,tokens_per_s,mfu,device_peak_bytes,days,device_hours,cost\n";
  std::size_t evaluated = 0;
  double screening = 0;  // s: the search itself, without rank 0's report and the DES's verification
  for (const std::int64_t n : counts) {
    const auto start = std::chrono::steady_clock::now();
    // Every rank builds the same space and evaluates every world.size()-th plan from its rank on;
    // rank 0 gathers the scores, ranks them and evaluates again the few it shows that another
    // rank evaluated (an evaluation does not depend on which others run with it).
    std::vector<analysis::Candidate> space;
    std::vector<std::size_t> mine;
    std::vector<analysis::Score> scored;
    world.together([&] {
      space = analysis::plan_space(base, n);
      for (std::size_t i = static_cast<std::size_t>(world.rank()); i < space.size(); i += static_cast<std::size_t>(world.size()))
        mine.push_back(i);
      analysis::evaluate_plans(base, n, space, mine, threads);
      for (const std::size_t i : mine) scored.push_back(analysis::score_of(space[i], i));
    });
    const std::vector<std::string> parts = world.gather(to_bytes(scored));
    evaluated += space.size();
    screening += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // rank 0 ranks, prints and verifies; a failure there ends every rank with its message
    world.together([&] {
      if (!world.root()) return;
      std::vector<analysis::Score> scores(space.size());
      for (const std::string& part : parts) from_bytes(part, scores);
      doc["sizes"].push_back(report_size(shown, base, n, space, scores, csv_text));
    });
  }
  if (!world.root()) return 0;
  const double seconds = screening;
  const std::string workers = world.size() > 1 ? fmt::format("{} ranks x {} threads", world.size(), threads) : fmt::format("{} threads", threads);
  std::cout << fmt::format("{} configurations in {:.2f} s ({:.0f} configurations/s, {})\n", evaluated, seconds,
                           evaluated / std::max(seconds, 1e-9), workers);
  doc["configurations"] = evaluated;
  if (!json.empty()) write_file(json, doc.dump(2) + "\n");
  if (!csv.empty()) write_file(csv, csv_text);
  if (!report_dir.empty()) {
    return write_page([&] { return report::build_plan_page(doc, file); }, report_dir, vm.count("force") > 0, {file});
  }
  return 0;
}

}  // namespace sparsim::app
