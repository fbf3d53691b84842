// Perturbations of a calibrated node file (validate.hpp): one cost of the model scaled.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <vector>
#include <sstream>

#include "config/error.hpp"
#include "validation/files.hpp"
#include "validation/validate.hpp"

namespace sparsim::validation {

namespace {

const std::vector<std::string> kCosts = {"gemm", "elementwise", "optimizer", "comm", "copy"};

std::string known() {
  std::string k;
  for (const auto& c : kCosts) k += (k.empty() ? "" : ", ") + c;
  return k;
}

/// "180.352 GFLOPS" times `factor`, its unit kept (a bare number too).
std::string scaled(const std::string& quantity, double factor) {
  const char* begin = quantity.c_str();
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  SPARSIM_ASSERT(end != begin, "perturb: '" + quantity + "' is not a quantity");
  std::ostringstream o;
  o.precision(9);
  o << v * factor << end;
  return o.str();
}

void scale(YAML::Node n, double factor) {
  if (n && n.IsScalar()) n = scaled(n.as<std::string>(), factor);
}

}  // namespace

Perturbation parse_perturbation(const std::string& text) {
  const Origin cli{"command line", 0, 0};
  const auto eq = text.find('=');
  Perturbation p;
  p.cost = text.substr(0, eq);
  if (eq == std::string::npos || std::find(kCosts.begin(), kCosts.end(), p.cost) == kCosts.end())
    throw InputError(cli, "--perturb", "expected COST=FACTOR, found '" + text + "'; known: " + known());
  char* end = nullptr;
  const std::string f = text.substr(eq + 1);
  p.factor = std::strtod(f.c_str(), &end);
  if (f.empty() || *end != '\0' || !(p.factor > 0))
    throw InputError(cli, "--perturb", "expected a factor > 0 after '" + p.cost + "=', found '" + f + "'");
  return p;
}

void perturb_node(const std::filesystem::path& in, const std::filesystem::path& out, const Perturbation& p) {
  YAML::Node top = YAML::LoadFile(in.string());
  YAML::Node device = top["device"];
  const double slower = 1.0 / p.factor;  // rates divide, times multiply
  if (p.cost == "gemm") {
    for (auto it : device["peak_flops"])
      if (it.first.as<std::string>() != "source" && it.first.as<std::string>() != "note") scale(it.second, slower);
    for (auto row : device["gemm_shapes"]) scale(row["rate"], slower);
  } else if (p.cost == "elementwise") {
    scale(device["vector_flops"], slower);
    for (auto it : device["vector_rates"]) scale(it.second, slower);
  } else if (p.cost == "optimizer") {
    scale(device["optimizer_rate"], slower);
    scale(top["host"]["optimizer_rate"], slower);
  } else if (p.cost == "comm") {
    for (const char* level : {"intra_node", "nic"}) {
      scale(top[level]["bandwidth"], slower);
      scale(top[level]["latency"], p.factor);
    }
  } else if (p.cost == "copy") {
    scale(top["host_link"]["bandwidth"], slower);
    scale(top["host_link"]["switch_bandwidth"], slower);
  }
  YAML::Emitter e;
  e << top;
  write_text(out, std::string("# ") + in.string() + " with " + p.cost + " times " + std::to_string(p.factor) + "\n" + e.c_str() + "\n");
}

}  // namespace sparsim::validation
