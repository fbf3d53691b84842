#include "results.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "config/error.hpp"
#include "config/scenario.hpp"

namespace sparsim::report {

using nlohmann::json;

namespace {

const char* kSchema = "sparsim.result/1";

std::string type_name(const json& v) { return v.is_null() ? "null" : v.type_name(); }

/// Walks a dotted key path; throws InputError when a key is missing.
const json& at(const json& j, const std::string& path, const std::string& source) {
  const json* cur = &j;
  std::string::size_type start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object()) {
      throw InputError({source, 0, 0}, path, "expected an object on the way, found " + type_name(*cur));
    }
    const auto it = cur->find(key);
    if (it == cur->end()) throw InputError({source, 0, 0}, path, "missing required key of sparsim.result/1");
    cur = &*it;
    if (dot == std::string::npos) return *cur;
    start = dot + 1;
  }
}

double number(const json& j, const std::string& path, const std::string& source) {
  const json& v = at(j, path, source);
  if (!v.is_number()) throw InputError({source, 0, 0}, path, "expected a number, found " + type_name(v));
  return v.get<double>();
}

/// "devices": a whole number from 0 to 2^53 (sparsim::kMaxCount), read exactly (not through a
/// double and not wrapped into an int: clusters of billions of devices).
std::int64_t device_count(const json& j, const std::string& source) {
  const json& v = at(j, "devices", source);
  if (v.is_number_unsigned()) {
    if (v.get<std::uint64_t>() <= static_cast<std::uint64_t>(kMaxCount)) return v.get<std::int64_t>();
  } else if (v.is_number_integer()) {
    if (v.get<std::int64_t>() >= 0 && v.get<std::int64_t>() <= kMaxCount) return v.get<std::int64_t>();
  } else if (v.is_number()) {
    const double d = v.get<double>();
    if (d >= 0 && d <= static_cast<double>(kMaxCount) && d == std::floor(d)) return static_cast<std::int64_t>(d);
  }
  throw InputError({source, 0, 0}, "devices", "expected a whole number of devices from 0 to 2^53, found " + v.dump());
}

std::string string(const json& j, const std::string& path, const std::string& source) {
  const json& v = at(j, path, source);
  if (!v.is_string()) throw InputError({source, 0, 0}, path, "expected a string, found " + type_name(v));
  return v.get<std::string>();
}

std::vector<std::string> strings_or_empty(const json& j, const std::string& key, const std::string& source) {
  std::vector<std::string> out;
  if (!j.contains(key)) return out;
  const json& v = j.at(key);
  if (!v.is_array()) throw InputError({source, 0, 0}, key, "expected a list of strings, found " + type_name(v));
  for (const auto& s : v) {
    if (!s.is_string()) throw InputError({source, 0, 0}, key, "expected a list of strings, found " + type_name(s));
    out.push_back(s.get<std::string>());
  }
  return out;
}

struct TermSpec {
  const char* key;
  const char* label;
};

constexpr TermSpec kBreakdown[] = {
    {"compute", "compute"},          {"exposed_comm.tp", "TP comm"},     {"exposed_comm.pp", "PP comm"},
    {"exposed_comm.dp", "DP comm"},  {"exposed_comm.ep", "EP comm"},     {"pipeline_bubble", "pipeline bubble"},
    {"h2d", "H2D copies"},           {"d2h", "D2H copies"},              {"host_optimizer", "host optimizer"},
    {"optimizer", "optimizer"}};

constexpr TermSpec kDeviceMemory[] = {
    {"params", "params"}, {"grads", "grads"}, {"optimizer", "optimizer"}, {"activations", "activations"},
    {"buffers", "buffers"}};

}  // namespace

namespace {
// Finds the byte where JSON text goes wrong, for any error of the parser (syntax, or a number
// out of range, whose exception carries no position): a SAX pass that accepts every event and
// records the position of the first error (1-based, like json::parse_error::byte).
struct ErrorPosition : json::json_sax_t {
  std::size_t byte = 0;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&, const json::exception&) override {
    byte = position;
    return false;
  }
};
}  // namespace

json parse_json_text(const std::string& text, const std::string& source) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    ErrorPosition where;
    json::sax_parse(text, &where);
    const std::size_t upto = std::min<std::size_t>(where.byte > 0 ? where.byte - 1 : 0, text.size());
    int line = 1, column = 1;
    for (std::size_t i = 0; i < upto; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    // out_of_range: a number beyond a double (nlohmann reports it only while parsing)
    const bool range = dynamic_cast<const json::out_of_range*>(&e) != nullptr;
    throw InputError({source, line, column}, "",
                     range ? "a number is out of range (beyond a double) in a sparsim.result/1 file"
                           : "not valid JSON (expected a sparsim.result/1 file)");
  }
}

Result parse_result(const json& j, const std::string& source) {
  if (!j.is_object()) throw InputError({source, 0, 0}, "", "expected a JSON object, found " + type_name(j));
  const std::string schema = string(j, "schema", source);
  if (schema != kSchema) {
    throw InputError({source, 0, 0}, "schema", "expected '" + std::string(kSchema) + "', found '" + schema + "'");
  }
  Result r;
  r.source = source;
  r.scenario = string(j, "scenario", source);
  r.backend = string(j, "backend", source);
  r.step_time_s = number(j, "step_time_s", source);
  r.tokens_per_s = number(j, "tokens_per_s", source);
  r.tflops_per_device = number(j, "tflops_per_device", source);
  r.mfu = number(j, "mfu", source);
  r.params_total = number(j, "params_total", source);
  r.params_active_per_token = number(j, "params_active_per_token", source);
  // Not in the original contract, written by sparsim since: optional.
  if (j.contains("devices")) r.devices = device_count(j, source);
  if (j.contains("feasible")) {
    const json& f = j.at("feasible");
    if (!f.is_boolean()) throw InputError({source, 0, 0}, "feasible", "expected true or false, found " + type_name(f));
    r.feasible = f.get<bool>();
  }
  r.infeasible = strings_or_empty(j, "infeasible", source);
  r.warnings = strings_or_empty(j, "warnings", source);
  for (const auto& t : kBreakdown) {
    const std::string path = std::string("breakdown_s.") + t.key;
    r.breakdown_s.push_back({t.key, t.label, number(j, path, source)});
  }
  for (const auto& t : kDeviceMemory) {
    const std::string path = std::string("memory.device_breakdown_bytes.") + t.key;
    r.device_bytes.push_back({t.key, t.label, number(j, path, source)});
  }
  r.device_peak_bytes = number(j, "memory.device_peak_bytes", source);
  r.device_capacity_bytes = number(j, "memory.device_capacity_bytes", source);
  r.host_peak_bytes = number(j, "memory.host_peak_bytes", source);
  r.host_capacity_bytes = number(j, "memory.host_capacity_bytes", source);
  const json& fits = at(j, "memory.fits", source);
  if (!fits.is_boolean()) throw InputError({source, 0, 0}, "memory.fits", "expected true or false, found " + type_name(fits));
  r.fits = fits.get<bool>();
  if (j.contains("verdict")) {
    const std::string word = string(j, "verdict", source);
    const auto kind = names<workload::VerdictKind>().find(word);
    if (!kind) throw InputError({source, 0, 0}, "verdict", names<workload::VerdictKind>().unknown(word));
    r.verdict = {*kind, j.contains("verdict_reason") ? string(j, "verdict_reason", source) : ""};
  } else {
    r.verdict = workload::verdict_of(r.feasible, r.infeasible,
                                     {r.device_peak_bytes, r.device_capacity_bytes, r.host_peak_bytes, r.host_capacity_bytes});
  }
  return r;
}

void assign_labels(std::vector<Result>& results) {
  auto base = [](const Result& r) {
    return r.backend == "analytic" ? r.scenario : fmt::format("{} ({})", r.scenario, r.backend);
  };
  std::map<std::string, int> count;
  for (const auto& r : results) ++count[base(r)];
  for (auto& r : results) {
    r.label = base(r);
    if (count[r.label] > 1) r.label = std::filesystem::path(r.source).stem().string();
  }
  std::map<std::string, int> seen;
  for (auto& r : results) {
    if (++seen[r.label] > 1) r.label += fmt::format("#{}", seen[r.label]);
  }
}

}  // namespace sparsim::report
