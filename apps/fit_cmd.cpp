#include "fit_cmd.hpp"

#include <boost/program_options.hpp>
#include <chrono>
#include <ctime>
#include <fmt/format.h>
#include <iostream>

#include "cli.hpp"
#include "config/error.hpp"
#include "output.hpp"
#include "validation/fit.hpp"

namespace po = boost::program_options;

namespace sparsim::app {

int fit_main(const std::vector<std::string>& args) {
  po::options_description opts("sparsim fit RUNS.runs.yaml --node HW.yaml --out FITTED.yaml [options]");
  std::string runs, node, out, keys;
  int folds = 5;
  std::vector<std::string> sets;
  opts.add_options()("help,h", "show this help")
      ("node", po::value(&node), "the node (hardware) file to start from; its scenario template's node is replaced by it")
      ("out", po::value(&out), "the fitted node file to write")
      ("params", po::value(&keys)->default_value("device.gemm.plateau,device.attention_plateau,device.attention_backward_plateau,device.memory_efficiency"),
       "comma list of the parameters to fit")
      ("folds", po::value(&folds)->default_value(5), "k of the k-fold error (0: none)")
      ("no-loo", "skip the leave-one-out error (one fit per run)")
      ("set", po::value(&sets), "K=V applied to every run's scenario")
      ("force", "replace an existing --out file");
  const po::variables_map vm = parse_verb(args, opts, runs);
  if (vm.count("help")) {
    std::cout << opts << "\nFits a node file's few efficiencies to measured runs (a run set: scenarios/published/), "
                         "minimising the MAPE of tokens/s per device; prints the error before and after, k-fold and "
                         "leave-one-out; writes the node file with the fit's provenance.\n";
    return 0;
  }
  const Origin cli{"command line", 0, 0};
  if (runs.empty()) throw InputError(cli, "RUNS", "missing the run set (a .runs.yaml file)");
  if (node.empty()) throw InputError(cli, "--node", "missing the node file to start from");
  if (out.empty()) throw InputError(cli, "--out", "missing the file to write");
  if (folds < 0 || folds == 1) throw InputError(cli, "--folds", "expected 0 or at least 2");
  check_output_path(out, vm.count("force") > 0, {runs, node});
  const std::vector<validation::FitParameter> params = validation::parameters_named(keys);
  const validation::RunSet set = validation::load_run_set(runs);
  sets.insert(sets.begin(), "cluster.node=" + node);
  const std::vector<Scenario> scs = validation::scenarios(set, sets);
  validation::FitOptions o;
  o.folds = folds;
  o.loo = vm.count("no-loo") == 0;
  const auto t0 = std::chrono::steady_clock::now();
  const validation::FitResult r = validation::fit(set, scs, params, o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (std::size_t k = 0; k < params.size(); ++k)
    std::cout << fmt::format("{:<28} {:>10.4g} -> {:<10.4g}\n", params[k].key, r.start[k], r.values[k]);
  std::cout << fmt::format("MAPE on the {} runs: {:.2f}% before, {:.2f}% fitted\n", set.runs.size(), 100 * r.start_mape, 100 * r.mape);
  if (r.kfold_mape >= 0) std::cout << fmt::format("{}-fold MAPE (each run predicted by the fit without its fold): {:.2f}%\n", folds, 100 * r.kfold_mape);
  if (r.loo_mape >= 0)
    std::cout << fmt::format("leave-one-out MAPE: {:.2f}% (worst {:+.1f}%, {})\n", 100 * r.loo_mape, 100 * r.loo_worst,
                             set.runs[static_cast<std::size_t>(std::max_element(r.loo_errors.begin(), r.loo_errors.end(),
                                                                                [](double a, double b) { return std::abs(a) < std::abs(b); }) -
                                                               r.loo_errors.begin())]
                                 .label());
  std::cout << fmt::format("{} scenario evaluations in {:.1f} s\n", r.evaluations, seconds);
  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
  write_file(out, validation::fitted_node_yaml(node, params, r, set, date));
  std::cout << "wrote " << out << "\n";
  return 0;
}

}  // namespace sparsim::app
