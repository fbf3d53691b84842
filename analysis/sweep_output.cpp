#include "analysis/sweep_output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "sim/result.hpp"

namespace sparsim::analysis {

namespace {

constexpr double kGiB = 1024.0 * 1024 * 1024;

/// The breakdown terms of sparsim.result/1: table label and where the value is.
struct Term {
  const char* label;
  const char* key;
  const char* comm;  ///< inside exposed_comm, or nullptr
};
constexpr Term kTerms[] = {{"compute", "compute", nullptr},   {"tp", "exposed_comm", "tp"},
                           {"pp", "exposed_comm", "pp"},      {"dp", "exposed_comm", "dp"},
                           {"ep", "exposed_comm", "ep"},      {"bubble", "pipeline_bubble", nullptr},
                           {"h2d", "h2d", nullptr},           {"d2h", "d2h", nullptr},
                           {"host opt", "host_optimizer", nullptr}, {"optimizer", "optimizer", nullptr}};

double term(const nlohmann::json& r, const Term& t) {
  const auto& b = r.at("breakdown_s").at(t.key);
  return t.comm != nullptr ? b.at(t.comm).get<double>() : b.get<double>();
}

double mem(const nlohmann::json& r, const char* key) { return r.at("memory").at(key).get<double>(); }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

/// "plan.tp=2 plan.dp=4": the point's values, for lines about one point.
std::string where(const Sweep& s, const Point& p) {
  std::string o;
  for (std::size_t k = 0; k < s.axes().size(); ++k) {
    o += fmt::format("{}{}={}", o.empty() ? "" : " ", s.axes()[k].key, s.axes()[k].values[p.index[k]]);
  }
  return o.empty() ? "(no varied key)" : o;
}

}  // namespace

nlohmann::json sweep_json(const Sweep& s, const std::string& backend, const std::vector<nlohmann::json>& results) {
  using nlohmann::json;
  json vary = json::array();
  for (const auto& a : s.axes()) {
    vary.push_back({{"key", a.key},
                    {"spec", a.spec},
                    {"kind", to_string(a.kind)},
                    {"values", a.values},
                    {"numbers", a.numbers.empty() ? json(nullptr) : json(a.numbers)},
                    {"unit", a.unit}});
  }
  json points = json::array();
  for (std::size_t i = 0; i < results.size(); ++i) {
    const Point& p = s.points()[i];
    json values = json::object();
    for (std::size_t k = 0; k < s.axes().size(); ++k) values[s.axes()[k].key] = s.axes()[k].values[p.index[k]];
    points.push_back({{"index", p.index}, {"values", values}, {"verdict", verdict(results[i])}, {"result", results[i]}});
  }
  return {{"schema", "sparsim.sweep/1"},
          {"file", s.file()},
          {"scenario", results.empty() ? "" : results.front().at("scenario").get<std::string>()},
          {"backend", backend},
          {"order", kOrder},
          {"set", s.sets()},
          {"vary", vary},
          {"points", points}};
}

std::string sweep_csv(const Sweep& s, const std::vector<nlohmann::json>& results) {
  std::string o;
  for (const auto& a : s.axes()) o += csv_field(a.key) + ",";
  o += sim::csv_header();  // its verdict column follows the varied keys
  for (std::size_t i = 0; i < results.size(); ++i) {
    const Point& p = s.points()[i];
    for (std::size_t k = 0; k < s.axes().size(); ++k) o += csv_field(s.axes()[k].values[p.index[k]]) + ",";
    o += sim::to_csv_row(sim::from_json(results[i]));
  }
  return o;
}

std::string sweep_table(const Sweep& s, const std::string& backend, const std::vector<nlohmann::json>& results) {
  // Times in s, ms or us, whichever the longest step reads best in with four decimals.
  double longest = 0;
  for (const auto& r : results) longest = std::max(longest, r.at("step_time_s").get<double>());
  const auto [unit, scale] = longest >= 1 ? std::pair{"s", 1.0} : longest >= 1e-3 ? std::pair{"ms", 1e3} : std::pair{"us", 1e6};
  std::vector<std::string> header;
  for (const auto& a : s.axes()) header.push_back(a.key);
  header.push_back(fmt::format("step [{}]", unit));
  for (const char* h : {"tokens/s", "MFU", "verdict", "device GiB", "host GiB"}) header.emplace_back(h);
  std::vector<const Term*> terms;  // the breakdown terms that are non-zero somewhere
  for (const Term& t : kTerms) {
    if (std::any_of(results.begin(), results.end(), [&](const nlohmann::json& r) { return term(r, t) != 0; })) {
      terms.push_back(&t);
      header.push_back(fmt::format("{} [{}]", t.label, unit));
    }
  }
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    std::vector<std::string> row;
    for (std::size_t k = 0; k < s.axes().size(); ++k) row.push_back(s.axes()[k].values[s.points()[i].index[k]]);
    const bool ok = r.at("feasible").get<bool>();
    auto cell = [&](const std::string& text) { row.push_back(ok ? text : "-"); };
    cell(fmt::format("{:.4f}", scale * r.at("step_time_s").get<double>()));
    cell(fmt::format("{:.0f}", r.at("tokens_per_s").get<double>()));
    cell(fmt::format("{:.1f}%", 100 * r.at("mfu").get<double>()));
    row.push_back(verdict(r));
    cell(fmt::format("{:.1f}/{:.0f}", mem(r, "device_peak_bytes") / kGiB, mem(r, "device_capacity_bytes") / kGiB));
    cell(fmt::format("{:.0f}/{:.0f}", mem(r, "host_peak_bytes") / kGiB, mem(r, "host_capacity_bytes") / kGiB));
    for (const Term* t : terms) cell(fmt::format("{:.4f}", scale * term(r, *t)));
    rows.push_back(std::move(row));
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  std::string o = fmt::format("sweep of {} ({}, {} backend): {} point{}; {}\n",
                              results.empty() ? "" : results.front().at("scenario").get<std::string>(), s.file(),
                              backend, results.size(), results.size() == 1 ? "" : "s", kOrder);
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (std::size_t c = 0; c < cells.size(); ++c) l += fmt::format("{}{:>{}}", c == 0 ? "" : "  ", cells[c], width[c]);
    o += l + "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
  std::map<std::string, std::size_t> warnings;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (!r.at("feasible").get<bool>()) {
      std::string why;
      for (const auto& w : r.at("infeasible")) why += (why.empty() ? "" : "; ") + w.get<std::string>();
      o += fmt::format("{}: infeasible: {}\n", where(s, s.points()[i]), why);
    }
    for (const auto& w : r.at("warnings")) ++warnings[w.get<std::string>()];
  }
  for (const auto& [w, n] : warnings) o += fmt::format("warning ({} of {} points): {}\n", n, results.size(), w);
  return o;
}

}  // namespace sparsim::analysis
