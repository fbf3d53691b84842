#include "compare_cmd.hpp"

#include <boost/program_options.hpp>
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "config/error.hpp"
#include "config/loader.hpp"
#include "output.hpp"
#include "report_cmd.hpp"
#include "sim/analytic.hpp"
#include "sim/compare_table.hpp"
#include "sim/des/des_backend.hpp"
#include "sim/des/footprint.hpp"
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

}  // namespace

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
    if (backend == "des") {
      if (r.at("feasible").get<bool>()) sim::des::require_fits(sc, sim::des::fold_of(sc));  // so does a platform too large for memory
      r = sim::in_child([&] { return sim::to_json(sim::des_step(sc)); });
    }
    std::cerr << "compare: " << names[i] << " done\n";
    results.push_back(std::move(r));
  }
  SPARSIM_ASSERT(base < names.size(), "compare: the baseline was checked against the variants shown");
  std::cout << cmp.name << " (" << backend << " backend; ratios to " << baseline << ")\n"
            << sim::compare_table(names, results, base);
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
