#include "report_cmd.hpp"

#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>

#include "config/error.hpp"
#include "output.hpp"
#include "plan_page.hpp"
#include "sweep.hpp"

namespace sparsim::app {

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace {
constexpr int kOk = 0;
constexpr int kRunFailed = 1;
const Origin kCli{"command line", 0, 0};
}  // namespace

void check_report_dir(const std::string& dir, bool force, const std::vector<std::string>& inputs) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw InputError(kCli, "--out", "'" + dir + "' exists and is not a directory");
  }
  check_output_path((fs::path(dir) / "index.html").string(), force, inputs);
}

int write_report(const std::vector<report::Input>& inputs, const std::string& dir, bool force,
                 const std::vector<std::string>& input_paths) {
  return write_page([&] { return report::build_page(inputs); }, dir, force, input_paths);
}

int write_page(const std::function<report::Page()>& build, const std::string& dir, bool force,
               const std::vector<std::string>& input_paths) {
  check_report_dir(dir, force, input_paths);
  report::Page page;
  try {
    page = build();
  } catch (const report::ToolError& e) {
    std::cerr << "sparsim: error: " << e.what() << "\n";
    return kRunFailed;
  }
  for (const auto& [src, name] : page.copies) check_output_path((fs::path(dir) / name).string(), force, input_paths);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InputError(kCli, "--out", "cannot create directory '" + dir + "': " + ec.message());
  for (const auto& [src, name] : page.copies) {
    fs::copy_file(src, fs::path(dir) / name, fs::copy_options::overwrite_existing, ec);
    if (ec) throw InputError({src, 0, 0}, "", "cannot copy the trace into the report: " + ec.message());
  }
  const std::string index = (fs::path(dir) / "index.html").string();
  write_file(index, page.html);
  std::cerr << "sparsim: wrote " << index << "\n";
  return kOk;
}

int report_main(const std::vector<std::string>& args) {
  po::options_description opts("sparsim report RESULT.json... --out DIR [options]");
  std::vector<std::string> files;
  std::string out;
  opts.add_options()("help,h", "show this help")
      ("out", po::value(&out), "directory to write index.html into (created if missing)")
      ("force", "replace an existing index.html");
  po::options_description hidden;
  hidden.add_options()("result", po::value(&files)->composing());
  po::positional_options_description pos;
  pos.add("result", -1);
  po::options_description all;
  all.add(opts).add(hidden);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts
              << "\nWrites a self-contained HTML page with gnuplot plots (step-time breakdown, memory against\n"
                 "capacity, variants with ratios to the first result, scaling, predicted against measured).\n"
                 "RESULT.resolved.yaml and RESULT.trace.json next to a result are embedded / linked.\n"
                 "One SWEEP.json (sparsim sweep --json) gives the sweep's page instead, one PLAN.json\n"
                 "(sparsim plan --json) the plan search's page.\n";
    return kOk;
  }
  if (files.empty()) throw InputError(kCli, "RESULT.json", "missing the result files to report");
  if (out.empty()) throw InputError(kCli, "--out", "missing the output directory");
  const bool force = vm.count("force") > 0;
  check_report_dir(out, force, files);
  std::vector<report::Input> inputs;
  for (const auto& f : files) inputs.push_back(report::read_input(f));
  // A sweep's JSON (sparsim sweep --json) gets the sweep page.
  if (inputs.size() == 1 && report::schema_of(inputs[0].result) == "sparsim.sweep/1") {
    return write_page([&] { return report::build_sweep_page(inputs[0].result, files[0]); }, out, force, files);
  }
  // A plan search's JSON (sparsim plan --json) gets the plan page.
  if (inputs.size() == 1 && report::schema_of(inputs[0].result) == "sparsim.plan/1") {
    return write_page([&] { return report::build_plan_page(inputs[0].result, files[0]); }, out, force, files);
  }
  return write_report(inputs, out, force, files);
}

}  // namespace sparsim::app
