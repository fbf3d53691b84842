// libFuzzer target: the result-JSON reader behind `sparsim report`, through its real entry
// points: report::read_input (the file, its JSON) and report::build_page (the typed parse of every
// result, labels, tables and the plots' gnuplot scripts), or the sweep's and the plan search's
// pages for one such file, with a renderer that returns a fixed SVG instead of running gnuplot.
//
// Input: one to three result files separated by NUL bytes (JSON text holds none), written to
// <tmp>/rN.json and read back as `sparsim report r0.json r1.json ...` would.
// Oracle: the page is built or sparsim::InputError is thrown. Any other exception, a crash, a
// sanitizer report, a hang (-timeout) or runaway memory (-rss_limit_mb) is a bug.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/error.hpp"
#include "plan_page.hpp"
#include "report.hpp"
#include "sweep.hpp"
#include "sandbox.hpp"

namespace fs = std::filesystem;

namespace {
fs::path g_root;

std::string fixed_svg(const sparsim::report::Plot&) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>";
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_root = sparsim::fuzz::fresh_temp_dir("result");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> docs;
  for (size_t at = 0; docs.size() < 3;) {
    const size_t end = text.find('\0', at);
    docs.push_back(text.substr(at, end == std::string::npos ? std::string::npos : end - at));
    if (end == std::string::npos) break;
    at = end + 1;
  }
  try {
    std::vector<sparsim::report::Input> inputs;
    for (size_t i = 0; i < docs.size(); ++i) {
      const fs::path p = g_root / ("r" + std::to_string(i) + ".json");
      sparsim::fuzz::write_file(p, docs[i]);
      inputs.push_back(sparsim::report::read_input(p.string()));
    }
    // as `sparsim report` dispatches: one sweep's or one plan search's JSON gets its own page
    const std::string schema = inputs.size() == 1 ? sparsim::report::schema_of(inputs[0].result) : "";
    if (schema == "sparsim.sweep/1") (void)sparsim::report::build_sweep_page(inputs[0].result, "r0.json", fixed_svg);
    else if (schema == "sparsim.plan/1") (void)sparsim::report::build_plan_page(inputs[0].result, "r0.json", fixed_svg);
    else (void)sparsim::report::build_page(inputs, fixed_svg);
  } catch (const sparsim::InputError&) {
    // a clean input error: the expected outcome for most inputs
  }
  return 0;
}
