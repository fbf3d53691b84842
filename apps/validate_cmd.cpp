#include "validate_cmd.hpp"

#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>

#include "config/error.hpp"
#include "output.hpp"
#include "validation/published.hpp"
#include "validation/validate.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace sparsim::app {

namespace {

/// `validate --published RUNS`: per-run errors and the summary; exit 1 when the MAPE is more than
/// one point above the run set's committed baseline or more runs get a wrong memory verdict.
int published_main(const std::string& file, const std::vector<std::string>& sets, const std::string& json,
                   const std::string& csv, bool force) {
  for (const std::string& out : {json, csv})
    if (!out.empty()) check_output_path(out, force, {file});
  const validation::RunSet set = validation::load_run_set(file);
  const validation::PublishedReport rep = validation::evaluate(set, validation::scenarios(set, sets));
  validation::print(std::cout, set, rep);
  if (!json.empty()) write_file(json, validation::to_json(set, rep).dump(2) + "\n");
  if (!csv.empty()) write_file(csv, validation::to_csv(set, rep));
  const bool worse = set.baseline_mape >= 0 && (rep.mape > set.baseline_mape + 0.01 || rep.wrong_verdicts > set.baseline_wrong_verdicts);
  if (worse) std::cout << "validate --published: FAILED (worse than the committed baseline)\n";
  return worse ? 1 : 0;
}

}  // namespace

int validate_main(const std::vector<std::string>& args) {
  po::options_description opts("sparsim validate [--quick] [options]");
  validation::Options o;
  std::string out;
  std::vector<std::string> perturb, sets;
  std::string published, json, csv;
  double shared_tolerance = 0;
  opts.add_options()("help,h", "show this help")
      ("quick", "quick calibration, 7 of the 9 configurations, fewer steps (CI: about 3 minutes on 2 cores)")
      ("out", po::value(&out)->default_value("validate-out"), "directory for the node files, configs, JSONs and records")
      ("tolerance", po::value(&o.tolerance)->default_value(0.15, "0.15"), "largest accepted |step-time error| (fraction)")
      ("shared-tolerance", po::value(&shared_tolerance),
       "the same for configurations whose ranks outnumber the hardware threads (they time-share the cores; default: --tolerance)")
      ("retries", po::value(&o.retries)->default_value(1), "measure a configuration past its tolerance again, up to this many times; the last attempt is the verdict")
      ("replay", "measure nothing: simulate and compare the records a previous run left in --out, with the model as it is now")
      ("perturb", po::value(&perturb), "with --replay: COST=F scales one cost of the calibrated model (gemm, elementwise, optimizer, comm, copy) by F")
      ("published", po::value(&published), "RUNS.runs.yaml: predict published runs instead (a run table, its model shapes and a scenario template; scenarios/published/)")
      ("set", po::value(&sets), "with --published: K=V applied to every run's scenario (after the row's own keys)")
      ("json", po::value(&json), "with --published: write the per-run results here")
      ("csv", po::value(&csv), "with --published: write the per-run table here")
      ("force", "replace existing --json / --csv files");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts
              << "\ncalibrate -> train 3 times -> calibrate again -> simulate on the calibrations -> compare: the step time "
                 "within the tolerance (1 rank: each calibration scaled to the run's speed by a machine-speed probe; several "
                 "ranks: interpolated to each run's time; a third calibration when the two disagree), and each timed step's "
                 "GEMM FLOPs and bytes exactly; exit 1 past tolerance or on a count that differs.\n";
    return 0;
  }
  const Origin cli{"command line", 0, 0};
  if (!published.empty()) return published_main(published, sets, json, csv, vm.count("force") > 0);
  if (!(o.tolerance > 0)) throw InputError(cli, "--tolerance", "expected > 0");
  o.shared_tolerance = vm.count("shared-tolerance") ? shared_tolerance : o.tolerance;
  if (!(o.shared_tolerance > 0)) throw InputError(cli, "--shared-tolerance", "expected > 0");
  if (o.retries < 0) throw InputError(cli, "--retries", "expected >= 0");
  o.quick = vm.count("quick") > 0;
  o.replay = vm.count("replay") > 0;
  for (const auto& p : perturb) o.perturb.push_back(validation::parse_perturbation(p));
  if (!o.perturb.empty() && !o.replay) throw InputError(cli, "--perturb", "only with --replay (a perturbed model against records)");
  o.out = fs::absolute(out);
  if (o.replay && !fs::is_directory(o.out)) throw InputError(cli, "--out", "no directory " + o.out.string() + " to replay");
  o.sparsim = fs::read_symlink("/proc/self/exe");
  o.trainer_mpi = o.sparsim.parent_path() / "trainer_mpi";
  o.mpiexec = SPARSIM_VALIDATE_MPIEXEC;
  return validation::validate(o, std::cout);
}

}  // namespace sparsim::app
