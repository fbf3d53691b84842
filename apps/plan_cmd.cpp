#include "plan_cmd.hpp"

#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "analysis/plan.hpp"
#include "cli.hpp"
#include "config/error.hpp"
#include "config/loader.hpp"
#include "output.hpp"
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

struct Row {
  const analysis::Candidate* c;
  double days = 0, device_hours = 0, cost = 0;
};

}  // namespace

int plan_main(const std::vector<std::string>& args) {
  po::options_description opts("sparsim plan FILE [options]");
  std::string file, devices_spec, tokens_spec, json, csv;
  double price = 0;
  std::size_t top = 5;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::string> sets;
  opts.add_options()("help,h", "show this help")
      ("devices", po::value(&devices_spec), "device counts: N | a,b,c | a..b (doubling); default the scenario's")
      ("tokens", po::value(&tokens_spec), "tokens to train (300e9, 300B): adds the time to train")
      ("price", po::value(&price), "price per device-hour: adds device-hours and cost (needs --tokens)")
      ("top", po::value(&top)->default_value(5), "plans shown per device count")
      ("set", po::value(&sets)->composing(), "override a key of the scenario first: --set training.global_batch=2048")
      ("threads", po::value(&threads), "evaluation threads (default: the machine's)")
      ("json", po::value(&json), "write the search (sparsim.plan/1: every device count's best plans and counts) to this file")
      ("csv", po::value(&csv), "write one CSV row per shown plan to this file")
      ("force", "replace existing output files");
  const po::variables_map vm = parse_verb(args, opts, file);
  if (vm.count("help")) {
    std::cout << opts
              << "\nSearches tp, pp, virtual stages, dp, ep, micro-batch, recomputation, sequence parallelism,\n"
                 "ZeRO stage and placement (analysis/plan.hpp) with the analytic backend; the model, hardware,\n"
                 "network, global batch and precision are the scenario's. Plans that cannot run or fit are\n"
                 "counted with their verdict.\n";
    return 0;
  }
  const Origin cli{"command line", 0, 0};
  if (file.empty()) throw InputError(cli, "FILE", "missing the scenario file");
  if (top < 1) throw InputError(cli, "--top", "expected at least 1");
  if (threads < 1) throw InputError(cli, "--threads", "expected at least 1");
  if (vm.count("price") && !(price > 0)) throw InputError(cli, "--price", "expected a positive price per device-hour");
  if (vm.count("price") && tokens_spec.empty()) throw InputError(cli, "--price", "the cost needs --tokens (how much to train)");
  const bool force = vm.count("force") > 0;
  for (const auto& out : {json, csv})
    if (!out.empty()) check_output_path(out, force, {file});
  const Scenario base = config::load_scenario(file, sets).scenario;
  const int node = base.cluster.node.devices;
  const std::vector<std::int64_t> counts =
      devices_spec.empty() ? std::vector<std::int64_t>{base.cluster.devices()} : analysis::parse_devices(devices_spec, node);
  const double tokens = tokens_spec.empty() ? 0.0 : parse_tokens(tokens_spec);
  const double step_tokens = double(base.training.global_batch) * base.model.seq_len;

  nlohmann::json doc{{"schema", "sparsim.plan/1"}, {"scenario", base.name}, {"file", file}, {"sizes", nlohmann::json::array()}};
  std::string csv_text = "devices,rank,plan,verdict,step_time_s,tokens_per_s,mfu,device_peak_bytes,days,device_hours,cost\n";
  std::size_t evaluated = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const std::int64_t n : counts) {
    std::vector<analysis::Candidate> space = analysis::plan_space(base, n);
    analysis::evaluate_plans(base, n, space, threads);
    evaluated += space.size();
    std::size_t runs = 0, no_fit = 0, infeasible = 0;
    for (const auto& c : space) (c.verdict == "runs" ? runs : c.verdict == "does-not-fit" ? no_fit : infeasible)++;
    const auto ranked = analysis::best_plans(space, space.size());  // every plan that runs, fastest first
    const std::vector<const analysis::Candidate*> best(ranked.begin(), ranked.begin() + std::min(top, ranked.size()));
    std::cout << fmt::format("{} devices ({} nodes): {} plans, {} run, {} do not fit, {} infeasible\n", n, n / node, space.size(), runs,
                             no_fit, infeasible);
    nlohmann::json size{{"devices", n}, {"plans", space.size()}, {"runs", runs}, {"does_not_fit", no_fit},
                        {"infeasible", infeasible}, {"best", nlohmann::json::array()}};
    if (best.empty()) {
      std::cout << "  no plan runs on " << n << " devices\n\n";
      doc["sizes"].push_back(size);
      continue;
    }
    std::cout << fmt::format("  {:>2}  {:<72} {:>9} {:>11} {:>6} {:>9}", "#", "plan", "step [s]", "tokens/s", "MFU", "dev GiB");
    if (tokens > 0) std::cout << fmt::format(" {:>8}", "days");
    if (price > 0) std::cout << fmt::format(" {:>12} {:>14}", "device-hours", "cost");
    std::cout << "\n";
    for (std::size_t k = 0; k < best.size(); ++k) {
      const analysis::Candidate& c = *best[k];
      const sim::StepResult& r = c.result;
      const double seconds = tokens > 0 ? tokens / r.tokens_per_s : 0.0;
      const double hours = seconds * double(n) / 3600;
      std::cout << fmt::format("  {:>2}  {:<72} {:>9.4f} {:>11.0f} {:>5.1f}% {:>9.1f}", k + 1, analysis::describe(c), r.step_time,
                               r.tokens_per_s, 100 * r.mfu, r.memory.device_peak() / 1073741824.0);
      if (tokens > 0) std::cout << fmt::format(" {:>8.1f}", seconds / 86400);
      if (price > 0) std::cout << fmt::format(" {:>12.0f} {:>14.0f}", hours, hours * price);
      std::cout << "\n";
      nlohmann::json b{{"rank", k + 1}, {"plan", analysis::describe(c)}, {"set", analysis::plan_sets(c, n, node)},
                       {"step_time_s", r.step_time}, {"tokens_per_s", r.tokens_per_s}, {"mfu", r.mfu},
                       {"device_peak_bytes", r.memory.device_peak()}, {"steps_per_tokens", tokens > 0 ? tokens / step_tokens : 0.0}};
      if (tokens > 0) b["days"] = seconds / 86400;
      if (price > 0) b["device_hours"] = hours, b["cost"] = hours * price;
      size["best"].push_back(b);
      csv_text += fmt::format("{},{},{},{},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g}\n", n, k + 1, analysis::describe(c), c.verdict,
                              r.step_time, r.tokens_per_s, r.mfu, r.memory.device_peak(), tokens > 0 ? seconds / 86400 : 0.0,
                              price > 0 ? hours : 0.0, price > 0 ? hours * price : 0.0);
    }
    // the runner-up: the fastest plan that is slower than #1 (plans as fast as #1 differ only in
    // memory, ranked by it)
    for (std::size_t k = 1; k < ranked.size(); ++k) {
      if (!(ranked[k]->result.step_time > ranked[0]->result.step_time)) continue;
      const std::string why = analysis::why_slower(ranked[0]->result, ranked[k]->result);
      std::cout << fmt::format("  runner-up #{} ({}) loses by {:.4g} s a step: {}\n", k + 1, analysis::describe(*ranked[k]),
                               ranked[k]->result.step_time - ranked[0]->result.step_time, why);
      size["runner_up"] = {{"rank", k + 1}, {"plan", analysis::describe(*ranked[k])}, {"loses_by", why}};
      break;
    }
    std::cout << "\n";
    doc["sizes"].push_back(size);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format("{} configurations in {:.2f} s ({:.0f} configurations/s, {} threads)\n", evaluated, seconds,
                           evaluated / std::max(seconds, 1e-9), threads);
  doc["configurations"] = evaluated;
  if (!json.empty()) write_file(json, doc.dump(2) + "\n");
  if (!csv.empty()) write_file(csv, csv_text);
  return 0;
}

}  // namespace sparsim::app
