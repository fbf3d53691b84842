// libFuzzer target: the scenario loader (YAML, units, includes, --set) through its real entry
// points, config::load_scenario and config::load_comparison, and the resolved configuration
// that `--resolved` writes.
//
// Input: the text of a scenario file. Each line "#set key.path=value" (a YAML comment, so the
// file stays what it was) is also passed as a --set override, in order, at most 8.
// Sandbox: the text is written to <tmp>/fuzz/input.yaml beside copies of the shipped scenarios
// and tests/data's YAML files, with scenarios/hardware and scenarios/models as <tmp>/hardware and
// <tmp>/models (the `../hardware/x.yaml` includes of the shipped scenarios work); the working
// directory is <tmp>/fuzz, where a --set include is looked up. An input that names a .yaml/.yml
// file outside <tmp> is rejected before it is loaded (returns -1: not kept in the corpus), so
// the loader reads only those copies.
// Oracle: a load either succeeds or throws sparsim::InputError. Any other exception (libFuzzer:
// "deadly signal" after std::terminate), a crash, a sanitizer report, a hang (-timeout) or
// runaway memory (-rss_limit_mb) is a bug. A successful load's resolved configuration loads
// again to the same scenario name (`--resolved F` "loads again as a scenario").
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "config/error.hpp"
#include "config/loader.hpp"
#include "sandbox.hpp"

namespace fs = std::filesystem;

namespace {

fs::path g_root;   // the sandbox
fs::path g_input;  // <root>/fuzz/input.yaml

void copy_yaml(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) {
    const auto ext = e.path().extension();
    if (e.is_regular_file() && (ext == ".yaml" || ext == ".hist")) {
      fs::copy_file(e.path(), to / e.path().filename(), fs::copy_options::overwrite_existing);
    }
  }
}

bool names_a_file(const std::string& s) {
  auto ends = [&](const std::string& suf) {
    return s.size() > suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
  };
  return ends(".yaml") || ends(".yml");
}

// Whether `path`, as an include written in a file of `dir`, stays inside the sandbox.
bool inside(const fs::path& dir, const std::string& path) {
  const std::string t = (dir / path).lexically_normal().string();
  const std::string r = g_root.string() + "/";
  return t.compare(0, r.size(), r) == 0;
}

// Every scalar naming a file, anywhere in `n` (each distinct node once: aliases share nodes).
bool includes_inside(const YAML::Node& n, const fs::path& dir, std::vector<YAML::Node>& seen) {
  for (const auto& s : seen)
    if (s.is(n)) return true;
  seen.push_back(n);
  if (n.IsScalar()) return !names_a_file(n.Scalar()) || inside(dir, n.Scalar());
  if (n.IsSequence() || n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (n.IsSequence()) {
        if (!includes_inside(*it, dir, seen)) return false;
      } else if (!includes_inside(it->first, dir, seen) || !includes_inside(it->second, dir, seen)) {
        return false;
      }
    }
  }
  return true;
}

// False when the text (parsed as YAML) names a file outside the sandbox. Text that does not
// parse names nothing: the loader stops at the syntax error before any include.
bool stays_inside(const std::string& text) {
  try {
    std::vector<YAML::Node> seen;
    return includes_inside(YAML::Load(text), g_input.parent_path(), seen);
  } catch (const YAML::Exception&) {
    return true;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_root = sparsim::fuzz::fresh_temp_dir("scenario");
  const fs::path src = SPARSIM_SOURCE_DIR;
  copy_yaml(src / "scenarios/hardware", g_root / "hardware");
  copy_yaml(src / "scenarios/models", g_root / "models");
  for (const auto& e : fs::directory_iterator(src / "scenarios")) {
    if (e.is_directory() && e.path().filename() != "hardware" && e.path().filename() != "models") {
      copy_yaml(e.path(), g_root / "fuzz");
    }
  }
  copy_yaml(src / "tests/data", g_root / "fuzz");
  g_input = g_root / "fuzz" / "input.yaml";
  fs::current_path(g_root / "fuzz");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> sets;
  for (size_t at = 0; at < text.size() && sets.size() < 8;) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (text.compare(at, 5, "#set ") == 0) sets.push_back(text.substr(at + 5, end - at - 5));
    at = end + 1;
  }
  if (!stays_inside(text)) return -1;
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    if (eq != std::string::npos && !stays_inside(s.substr(eq + 1))) return -1;
  }
  sparsim::fuzz::write_file(g_input, text);
  const bool comparison = text.find("variants") != std::string::npos;
  try {
    if (comparison) {
      const auto c = sparsim::config::load_comparison(g_input.string(), sets);
      (void)c.tree.emit();
    } else {
      const auto l = sparsim::config::load_scenario(g_input.string(), sets);
      // `--resolved F` writes this text; it must load again as the same scenario.
      const std::string resolved = l.tree.emit();
      const fs::path again = g_input.parent_path() / "resolved.yaml";
      sparsim::fuzz::write_file(again, resolved);
      const auto l2 = sparsim::config::load_scenario(again.string());
      if (l2.scenario.name != l.scenario.name) {
        std::fprintf(stderr, "resolved configuration loads as '%s', not '%s'\n", l2.scenario.name.c_str(),
                     l.scenario.name.c_str());
        std::abort();
      }
    }
  } catch (const sparsim::InputError&) {
    // a clean input error: the expected outcome for most inputs
  }
  return 0;
}
