// The sparsim command line: only wiring (DESIGN.md "CLI"). Exit codes: 0 ok, 1 run failed or
// out of tolerance, 2 bad input.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "blas_kernels.hpp"
#include "calibrate_cmd.hpp"
#include "cli.hpp"
#include "compare_cmd.hpp"
#include "config/error.hpp"
#include "config/loader.hpp"
#include "dist.hpp"
#include "output.hpp"
#include "report_cmd.hpp"
#include "plan_cmd.hpp"
#include "sweep_cmd.hpp"
#include "train_cmd.hpp"
#include "fit_cmd.hpp"
#include "validate_cmd.hpp"
#include "sim/analytic.hpp"
#include "sim/des/des_backend.hpp"
#include "sim/result.hpp"

namespace po = boost::program_options;
using namespace sparsim;

namespace {

constexpr int kOk = 0;
constexpr int kBadInput = 2;

const char* kUsage =
    "usage: sparsim <verb> [options]\n"
    "\n"
    "verbs:\n"
    "  simulate FILE   predict one training step of a scenario\n"
    "  compare FILE    variants side by side (a comparison file), ratios to a baseline\n"
    "  sweep FILE --vary KEY=VALUES...\n"
    "                  a sensitivity grid: one result per point (lists, a..b+step, a..b*factor)\n"
    "  plan FILE [--devices N|a,b,c|a..b] [--tokens T] [--price P]\n"
    "                  the best parallel plans per device count, with time and cost to train\n"
    "  calibrate       measure this machine, write a hardware file (--cpu | --gpu, --out F.yaml)\n"
    "  train FILE      run the reference trainer on this CPU, write the measured result\n"
    "  validate        calibrate, train and simulate; predicted vs measured (--quick for CI);\n"
    "                  --published RUNS: predicted vs published runs\n"
    "  fit RUNS --node HW.yaml --out F.yaml\n"
    "                  fit a node file's few efficiencies to measured runs, with held-out error\n"
    "  report RESULT.json... --out DIR\n"
    "                  an HTML page with plots from result JSONs\n"
    "\n"
    "Run 'sparsim <verb> --help' for the options of a verb.\n"
    "Exit codes: 0 ok, 1 run failed or out of tolerance, 2 bad input; calibrate --gpu: 3 no GPU.\n";

int simulate(const std::vector<std::string>& args) {
  po::options_description opts("sparsim simulate FILE [options]");
  std::string file, backend, json, csv, trace, resolved, format, report_dir;
  std::vector<std::string> sets;
  opts.add_options()("help,h", "show this help")
      ("backend", po::value(&backend)->default_value("analytic"), "analytic (closed form, microseconds) | des (SimGrid discrete-event: contention, overlap, timelines)")
      ("set", po::value(&sets)->composing(), "override a key: --set plan.tp=8 (repeatable)")
      ("json", po::value(&json), "write the result JSON (sparsim.result/1) to this file")
      ("csv", po::value(&csv), "write one CSV row (with header) to this file")
      ("trace", po::value(&trace), "des backend: write a Chrome trace JSON (open in Perfetto) to this file")
      ("all-replicas", "des backend: simulate every data-parallel replica, not only the period of identical ones it keeps (the same result, slower: a check of the fold)")
      ("resolved", po::value(&resolved), "write the resolved configuration (includes, overrides, defaults) to this file")
      ("format", po::value(&format)->default_value("table"), "stdout format: table | json | csv")
      ("report", po::value(&report_dir), "write an HTML report (index.html with plots) into this directory")
      ("force", "replace existing output files");
  const po::variables_map vm = app::parse_verb(args, opts, file);
  if (vm.count("help")) {
    std::cout << opts << "\nPredicts step time, tokens/s, MFU, a breakdown and memory per device and host.\n";
    return kOk;
  }
  const Origin cli{"command line", 0, 0};
  if (file.empty()) throw InputError(cli, "FILE", "missing the scenario file");
  app::check_choice("--backend", backend, {"analytic", "des"});
  if (!trace.empty() && backend != "des") throw InputError(cli, "--trace", "a trace needs --backend des");
  const bool all_replicas = vm.count("all-replicas") > 0;
  if (all_replicas && backend != "des") throw InputError(cli, "--all-replicas", "--all-replicas needs --backend des");
  app::check_choice("--format", format, {"table", "json", "csv"});
  const bool force = vm.count("force") > 0;
  for (const auto& out : {json, csv, resolved, trace}) {
    if (!out.empty()) app::check_output_path(out, force, {file});
  }
  if (!report_dir.empty()) app::check_report_dir(report_dir, force, {file});
  config::Loaded loaded = config::load_scenario(file, sets);
  const sim::StepResult r = backend == "des" ? sim::des_step(loaded.scenario, sim::DesOptions{trace, !all_replicas})
                                             : sim::analytic_step(loaded.scenario);
  if (!resolved.empty()) app::write_file(resolved, loaded.tree.emit());
  if (!json.empty()) app::write_file(json, sim::to_json(r).dump(2) + "\n");
  if (!csv.empty()) app::write_file(csv, sim::csv_header() + sim::to_csv_row(r));
  if (format == "json") std::cout << sim::to_json(r).dump(2) << "\n";
  else if (format == "csv") std::cout << sim::csv_header() << sim::to_csv_row(r);
  else std::cout << sim::to_table(r);
  if (!report_dir.empty()) {
    return app::write_report({report::Input{file, sim::to_json(r), loaded.tree.emit(), trace}}, report_dir, force, {file});
  }
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  sparsim::blas::use_best_kernels(argv);  // before anything runs a GEMM (blas_kernels.hpp)
  if (argc < 2) {
    std::cerr << kUsage;
    return kBadInput;
  }
  const std::string verb = argv[1];
  if (verb == "--help" || verb == "-h" || verb == "help") {
    std::cout << kUsage;
    return kOk;
  }
  const std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (verb == "simulate") return simulate(args);
    if (verb == "calibrate") return app::calibrate_main(args);
    if (verb == "report") return app::report_main(args);
    if (verb == "compare") return app::compare_main(args);
    if (verb == "sweep") return app::sweep_main(args);
    if (verb == "plan") return app::plan_main(args);
    if (verb == "train") return app::train_main(args);
    if (verb == "validate") return app::validate_main(args);
    if (verb == "fit") return app::fit_main(args);
    std::cerr << "sparsim: unknown verb '" << verb << "'; known: simulate, compare, sweep, plan, calibrate, train, validate, fit, report\n" << kUsage;
    return kBadInput;
  } catch (const app::dist::Failed& e) {  // failed on some rank of mpirun: rank 0 says why
    if (!e.quiet()) std::cerr << "sparsim: error: " << e.what() << "\n";
    return e.code();
  } catch (...) {  // bad input (kBadInput), or a run that failed (a child simulation, a file system error)
    const app::dist::Failure f = app::dist::failure_of(std::current_exception());
    std::cerr << "sparsim: error: " << f.message << "\n";
    return f.code;
  }
}
