#include "compare_cmd.hpp"

#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "config/error.hpp"
#include "config/loader.hpp"
#include "output.hpp"
#include "report_cmd.hpp"
#include "sim/analytic.hpp"
#include "sim/des/des_backend.hpp"
#include "sim/isolate.hpp"

namespace po = boost::program_options;

namespace sparsim::app {

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, ',');) {
    if (!x.empty()) out.push_back(x);
  }
  return out;
}

double num(const nlohmann::json& j, const char* a, const char* b = nullptr, const char* c = nullptr) {
  const nlohmann::json* x = &j.at(a);
  if (b != nullptr) x = &x->at(b);
  if (c != nullptr) x = &x->at(c);
  return x->get<double>();
}

}  // namespace

std::string compare_table(const std::vector<std::string>& names, const std::vector<nlohmann::json>& results,
                          size_t baseline) {
  constexpr double GiB = 1024.0 * 1024 * 1024;
  const size_t w = 16;
  std::string o = fmt::format("{:<22}", "");
  for (const auto& n : names) o += fmt::format("{:>{}}", n, w);
  o += "\n";
  auto row = [&](const std::string& label, auto cell) {
    o += fmt::format("{:<22}", label);
    for (size_t i = 0; i < results.size(); ++i) {
      o += fmt::format("{:>{}}", results[i].at("feasible").get<bool>() ? cell(results[i]) : std::string("-"), w);
    }
    o += "\n";
  };
  const nlohmann::json& base = results[baseline];
  row("feasible", [](const nlohmann::json&) { return std::string("yes"); });
  row("step time [s]", [](const nlohmann::json& r) { return fmt::format("{:.4f}", num(r, "step_time_s")); });
  row("tokens/s", [](const nlohmann::json& r) { return fmt::format("{:.0f}", num(r, "tokens_per_s")); });
  row(fmt::format("x {}", names[baseline]), [&](const nlohmann::json& r) {
    return base.at("feasible").get<bool>() ? fmt::format("{:.2f}x", num(r, "tokens_per_s") / num(base, "tokens_per_s"))
                                           : std::string("-");
  });
  row("MFU", [](const nlohmann::json& r) { return fmt::format("{:.1f}%", 100 * num(r, "mfu")); });
  o += "breakdown [s]\n";
  const std::pair<const char*, const char*> parts[] = {
      {"  compute", "compute"}, {"  pipeline bubble", "pipeline_bubble"}, {"  h2d copies", "h2d"},
      {"  d2h copies", "d2h"},  {"  host optimizer", "host_optimizer"},  {"  optimizer", "optimizer"}};
  row(parts[0].first, [](const nlohmann::json& r) { return fmt::format("{:.4f}", num(r, "breakdown_s", "compute")); });
  for (const char* c : {"tp", "pp", "dp", "ep"}) {
    row(fmt::format("  {} comm", c), [c](const nlohmann::json& r) {
      return fmt::format("{:.4f}", num(r, "breakdown_s", "exposed_comm", c));
    });
  }
  for (size_t i = 1; i < std::size(parts); ++i) {
    const char* key = parts[i].second;
    row(parts[i].first, [key](const nlohmann::json& r) { return fmt::format("{:.4f}", num(r, "breakdown_s", key)); });
  }
  o += "memory [GiB]\n";
  row("  device peak", [](const nlohmann::json& r) {
    return fmt::format("{:.1f}/{:.0f}", num(r, "memory", "device_peak_bytes") / GiB, num(r, "memory", "device_capacity_bytes") / GiB);
  });
  row("  host per node", [](const nlohmann::json& r) {
    return fmt::format("{:.0f}/{:.0f}", num(r, "memory", "host_peak_bytes") / GiB, num(r, "memory", "host_capacity_bytes") / GiB);
  });
  row("  fits", [](const nlohmann::json& r) { return std::string(r.at("memory").at("fits").get<bool>() ? "yes" : "NO"); });
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].at("feasible").get<bool>()) {
      for (const auto& why : results[i].at("infeasible")) o += fmt::format("{}: infeasible: {}\n", names[i], why.get<std::string>());
    }
  }
  return o;
}

int compare_main(const std::vector<std::string>& args) {
  po::options_description opts("sparsim compare FILE [options]");
  std::string file, backend, variants, baseline, json, csv, report_dir;
  std::vector<std::string> sets;
  opts.add_options()("help,h", "show this help")
      ("variants", po::value(&variants), "comma-separated variant names to show, in this order (default: all)")
      ("baseline", po::value(&baseline), "variant the ratios refer to (default: the file's baseline)")
      ("backend", po::value(&backend)->default_value("analytic"), "analytic | des")
      ("set", po::value(&sets)->composing(), "override a key in every variant: --set plan.zero=0 (repeatable)")
      ("json", po::value(&json), "write the results as a JSON array to this file")
      ("csv", po::value(&csv), "write one CSV row per variant to this file")
      ("report", po::value(&report_dir), "write an HTML report of the variants into this directory")
      ("force", "replace existing output files");
  const po::variables_map vm = parse_verb(args, opts, file);
  if (vm.count("help")) {
    std::cout << opts
              << "\nFILE is a comparison file: name, baseline and variants (name: scenario file), e.g.\n"
                 "scenarios/pangu-sigma/pangu-sigma-512.compare.yaml.\n";
    return 0;
  }
  const Origin cli{"command line", 0, 0};
  if (file.empty()) throw InputError(cli, "FILE", "missing the comparison file");
  check_choice("--backend", backend, {"analytic", "des"});
  const bool force = vm.count("force") > 0;
  for (const auto& out : {json, csv}) {
    if (!out.empty()) check_output_path(out, force, {file});
  }
  if (!report_dir.empty()) check_report_dir(report_dir, force, {file});
  const config::Comparison cmp = config::load_comparison(file, sets);
  std::vector<std::string> names;
  std::string known;
  for (const auto& [n, s] : cmp.variants) known += (known.empty() ? "" : ", ") + n;
  names = variants.empty() ? std::vector<std::string>{} : split(variants);
  if (names.empty()) {
    for (const auto& [n, s] : cmp.variants) names.push_back(n);
  }
  // The file's baseline, unless it is not among the variants shown: then the first one shown.
  if (baseline.empty()) {
    baseline = std::find(names.begin(), names.end(), cmp.baseline) != names.end() ? cmp.baseline : names.front();
  } else if (std::find(names.begin(), names.end(), baseline) == names.end()) {
    throw InputError(cli, "--baseline", "baseline '" + baseline + "' is not among the variants shown; known: " + known);
  }
  std::vector<nlohmann::json> results;
  size_t base = names.size();
  for (size_t i = 0; i < names.size(); ++i) {
    const auto it = std::find_if(cmp.variants.begin(), cmp.variants.end(), [&](const auto& v) { return v.first == names[i]; });
    if (it == cmp.variants.end()) throw InputError(cli, "--variants", "unknown variant '" + names[i] + "'; known: " + known);
    if (names[i] == baseline) base = i;
    const Scenario& sc = it->second;
    nlohmann::json r = sim::to_json(sim::analytic_step(sc));  // bad input surfaces here, in this process
    if (backend == "des") r = sim::in_child([&] { return sim::to_json(sim::des_step(sc)); });
    std::cerr << "compare: " << names[i] << " done\n";
    results.push_back(std::move(r));
  }
  SPARSIM_ASSERT(base < names.size(), "compare: the baseline was checked against the variants shown");
  std::cout << cmp.name << " (" << backend << " backend; ratios to " << baseline << ")\n"
            << compare_table(names, results, base);
  if (!json.empty()) write_file(json, nlohmann::json(results).dump(2) + "\n");
  if (!csv.empty()) {
    std::string text = "variant," + sim::csv_header();
    for (size_t i = 0; i < results.size(); ++i) text += names[i] + "," + sim::to_csv_row(sim::from_json(results[i]));
    write_file(csv, text);
  }
  if (!report_dir.empty()) {
    // The report's ratios refer to its first result: put the baseline first.
    std::vector<report::Input> inputs{report::Input{names[base], results[base], "", ""}};
    for (size_t i = 0; i < results.size(); ++i) {
      if (i != base) inputs.push_back(report::Input{names[i], results[i], "", ""});
    }
    return write_report(inputs, report_dir, force, {file});
  }
  return 0;
}

}  // namespace sparsim::app
