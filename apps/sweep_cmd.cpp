#include "sweep_cmd.hpp"

#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <optional>
#include <iostream>

#include "analysis/sweep.hpp"
#include "analysis/sweep_output.hpp"
#include "cli.hpp"
#include "dist.hpp"
#include "config/error.hpp"
#include "output.hpp"
#include "report_cmd.hpp"
#include "sweep.hpp"

namespace po = boost::program_options;

namespace sparsim::app {

namespace {

/// The help after the options (kMaxPoints filled in).
constexpr const char* kHelp =
    "\nVALUES is a list: plan.tp=1,2,4; cluster.node=a.yaml,b.yaml; values may carry units as in\n"
    "YAML: \"cluster.network.latency=1 us,5 us\". Or a range, including b when a step lands on it:\n"
    "arithmetic a..b+step (training.micro_batch=1..4+1), geometric a..b*factor (cluster.nodes=8..64*2:\n"
    "8, 16, 32, 64). Keys are those of --set, applied after includes. Several --vary make the grid,\n"
    "the first --vary varying slowest (nested loops in --vary order); at most {} points. Every\n"
    "point is read and checked before any is reported: a value its key does not accept is exit 2\n"
    "naming the key and value. A plan that cannot run or fit is a row with its verdict (runs,\n"
    "does-not-fit, infeasible).\n";

}  // namespace

int sweep_main(const std::vector<std::string>& args) {
  dist::World world;  // one process, or the ranks of mpirun: each evaluates a share, rank 0 prints
  po::options_description opts("sparsim sweep FILE --vary KEY=VALUES [--vary ...] [options]");
  std::string file, backend, json, csv, format, report_dir;
  std::vector<std::string> varies, sets;
  opts.add_options()("help,h", "show this help")
      ("vary", po::value(&varies)->composing(), "a key and its values: plan.tp=1,2,4 | cluster.nodes=8..64*2 | training.micro_batch=1..4+1 (repeat for a grid)")
      ("set", po::value(&sets)->composing(), "override a key at every point: --set plan.zero=1 (repeatable)")
      ("backend", po::value(&backend)->default_value("analytic"), "analytic | des (each point in its own process)")
      ("json", po::value(&json), "write the sweep JSON (sparsim.sweep/1: the grid, each point's sparsim.result/1) to this file")
      ("csv", po::value(&csv), "write one CSV row per point (varied keys, verdict, the simulate CSV columns) to this file")
      ("report", po::value(&report_dir), "write an HTML report (a plot per varied key) into this directory")
      ("format", po::value(&format)->default_value("table"), "stdout format: table | json | csv")
      ("force", "replace existing output files");
  po::variables_map vm;
  std::optional<analysis::Sweep> sweep;
  std::vector<nlohmann::json> results;
  const auto start = std::chrono::steady_clock::now();
  world.together([&] {
    vm = parse_verb(args, opts, file);
    if (vm.count("help")) return;
    const Origin cli{"command line", 0, 0};
    if (file.empty()) throw InputError(cli, "FILE", "missing the scenario file");
    if (varies.empty()) throw InputError(cli, "--vary", "missing --vary KEY=VALUES: a sweep needs a key to vary");
    check_choice("--backend", backend, {"analytic", "des"});
    check_choice("--format", format, {"table", "json", "csv"});
    if (world.root()) {  // rank 0 writes them
      const bool force = vm.count("force") > 0;
      for (const auto& out : {json, csv}) {
        if (!out.empty()) check_output_path(out, force, {file});
      }
      if (!report_dir.empty()) check_report_dir(report_dir, force, {file});
    }
    std::vector<analysis::Axis> axes;
    for (const auto& v : varies) axes.push_back(analysis::parse_vary(v));
    sweep.emplace(file, sets, axes);
    const std::size_t n = sweep->points().size();
    // Under mpirun each rank evaluates every size-th point (a DES sweep is where this pays).
    results = analysis::evaluate(*sweep, backend == "des" ? analysis::Backend::des : analysis::Backend::analytic,
                                 [&](std::size_t i) {
                                   if (backend == "des") std::cerr << "sweep: point " << i + 1 << "/" << n << " done\n";
                                 },
                                 {static_cast<std::size_t>(world.rank()), static_cast<std::size_t>(world.size())});
  });
  if (vm.count("help")) {
    if (world.root()) std::cout << opts << fmt::format(kHelp, analysis::kMaxPoints);
    return 0;
  }
  if (world.size() > 1) {
    // Each rank's points to rank 0, as CBOR (lossless: doubles, infinities and integers come back
    // as they were, so rank 0 writes what one process would).
    nlohmann::json mine = nlohmann::json::array();
    for (std::size_t i = static_cast<std::size_t>(world.rank()); i < results.size(); i += static_cast<std::size_t>(world.size()))
      mine.push_back({i, results[i]});
    const std::vector<std::uint8_t> bytes = nlohmann::json::to_cbor(mine);
    const std::vector<std::string> parts = world.gather(std::string(bytes.begin(), bytes.end()));
    if (!world.root()) return 0;
    for (const std::string& part : parts)
      for (const auto& point : nlohmann::json::from_cbor(part)) results.at(point.at(0).get<std::size_t>()) = point.at(1);
  }
  const std::size_t n = results.size();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << "sweep: " << n << " points in " << seconds << " s (" << n / seconds << " points/s, " << backend
            << (world.size() > 1 ? ", " + std::to_string(world.size()) + " ranks" : std::string()) << ")\n";

  const nlohmann::json doc = analysis::sweep_json(*sweep, backend, results);
  if (!json.empty()) write_file(json, doc.dump(2) + "\n");
  if (!csv.empty()) write_file(csv, analysis::sweep_csv(*sweep, results));
  if (format == "json") std::cout << doc.dump(2) << "\n";
  else if (format == "csv") std::cout << analysis::sweep_csv(*sweep, results);
  else std::cout << analysis::sweep_table(*sweep, backend, results);
  if (!report_dir.empty()) {
    return write_page([&] { return report::build_sweep_page(doc, file); }, report_dir, vm.count("force") > 0, {file});
  }
  return 0;
}

}  // namespace sparsim::app
