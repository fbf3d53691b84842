#include "sweep.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "config/error.hpp"
#include "html.hpp"

namespace sparsim::report {

using nlohmann::json;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
/// More lines than this and the legend would hide the plot: it is left out.
constexpr std::size_t kMaxLegend = 10;

std::string esc(const std::string& s) { return html_escape(s); }

template <class T>
T get(const json& j, const char* key, const std::string& source, const std::string& where) {
  return typed_get<T>(j, key, source, where, "sparsim.sweep/1");
}

/// "k1=v, k2=w": the values of every axis but `skip` at point `p`.
std::string others(const SweepData& s, const SweepPoint& p, std::size_t skip) {
  std::string o;
  for (std::size_t k = 0; k < s.axes.size(); ++k) {
    if (k != skip) o += fmt::format("{}{}={}", o.empty() ? "" : ", ", s.axes[k].key, s.axes[k].values[p.index[k]]);
  }
  return o;
}

std::string points_table(const SweepData& s) {
  std::string o = "<table>\n<tr><th>#</th>";
  for (const auto& a : s.axes) o += "<th>" + esc(a.key) + "</th>";
  const bool why_not = std::any_of(s.points.begin(), s.points.end(), [](const SweepPoint& p) { return !p.result.feasible; });
  o += "<th>step time</th><th>tokens/s</th><th>MFU</th><th>verdict</th><th>device memory</th><th>host memory per node</th>";
  o += why_not ? "<th>why it cannot run</th></tr>\n" : "</tr>\n";
  for (std::size_t i = 0; i < s.points.size(); ++i) {
    const SweepPoint& p = s.points[i];
    const Result& r = p.result;
    o += fmt::format("<tr><td class=\"n\">{}</td>", i);
    for (std::size_t k = 0; k < s.axes.size(); ++k) o += "<td class=\"n\">" + esc(s.axes[k].values[p.index[k]]) + "</td>";
    const bool ok = r.feasible;
    const std::string bad = p.verdict == "runs" ? "" : " class=\"bad\"";
    o += ok ? fmt::format("<td class=\"n\">{:.4g} s</td><td class=\"n\">{:.0f}</td><td class=\"n\">{:.1f}%</td>",
                          r.step_time_s, r.tokens_per_s, 100 * r.mfu)
            : std::string("<td>-</td><td>-</td><td>-</td>");
    o += fmt::format("<td{}>{}</td>", bad, esc(p.verdict));
    o += ok ? fmt::format("<td class=\"n\">{:.1f} of {:.0f} GiB</td><td class=\"n\">{:.0f} of {:.0f} GiB</td>",
                          r.device_peak_bytes / kGiB, r.device_capacity_bytes / kGiB, r.host_peak_bytes / kGiB,
                          r.host_capacity_bytes / kGiB)
            : std::string("<td>-</td><td>-</td>");
    std::string why;
    for (const auto& w : r.infeasible) why += (why.empty() ? "" : "; ") + w;
    o += why_not ? "<td>" + esc(why) + "</td></tr>\n" : "</tr>\n";
  }
  return o + "</table>\n";
}

}  // namespace

SweepData parse_sweep(const json& j, const std::string& source) {
  if (!j.is_object()) throw InputError({source, 0, 0}, "", "expected a JSON object");
  SweepData s;
  const auto schema = get<std::string>(j, "schema", source, "");
  if (schema != "sparsim.sweep/1") throw InputError({source, 0, 0}, "schema", "expected 'sparsim.sweep/1', found '" + schema + "'");
  s.file = get<std::string>(j, "file", source, "");
  s.scenario = get<std::string>(j, "scenario", source, "");
  s.backend = get<std::string>(j, "backend", source, "");
  s.order = get<std::string>(j, "order", source, "");
  s.sets = get<std::vector<std::string>>(j, "set", source, "");
  const auto vary = get<json>(j, "vary", source, "");
  for (std::size_t k = 0; k < vary.size(); ++k) {
    const std::string where = fmt::format("vary.{}", k);
    SweepAxis a{get<std::string>(vary[k], "key", source, where), get<std::string>(vary[k], "kind", source, where),
                get<std::string>(vary[k], "unit", source, where), get<std::vector<std::string>>(vary[k], "values", source, where), {}};
    if (!get<json>(vary[k], "numbers", source, where).is_null()) a.numbers = get<std::vector<double>>(vary[k], "numbers", source, where);
    if (a.values.empty() || (!a.numbers.empty() && a.numbers.size() != a.values.size())) {
      throw InputError({source, 0, 0}, where, "expected values (and as many numbers, or null)");
    }
    s.axes.push_back(std::move(a));
  }
  const auto points = get<json>(j, "points", source, "");
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::string where = fmt::format("points.{}", i);
    SweepPoint p{get<std::vector<std::size_t>>(points[i], "index", source, where),
                 get<std::string>(points[i], "verdict", source, where),
                 parse_result(get<json>(points[i], "result", source, where), source + ": " + where + ".result")};
    bool ok = p.index.size() == s.axes.size();
    for (std::size_t k = 0; ok && k < p.index.size(); ++k) ok = p.index[k] < s.axes[k].values.size();
    if (!ok) throw InputError({source, 0, 0}, where + ".index", "expected one value index per varied key, within its values");
    s.points.push_back(std::move(p));
  }
  return s;
}

PlotOrSkip sweep_plot(const SweepData& s, std::size_t k) {
  SPARSIM_ASSERT(k < s.axes.size(), "sweep_plot: no such axis");
  const SweepAxis& a = s.axes[k];
  if (a.values.size() < 2) return {std::nullopt, "One value of " + a.key + ": nothing to draw against it."};
  // One line per combination of the other axes' values, in grid order.
  std::vector<std::string> titles;
  std::map<std::string, std::string> rows;  // title -> datablock rows
  std::map<std::string, bool> drawn;        // title -> some point of the line can run
  std::string misfits;
  for (const SweepPoint& p : s.points) {
    const std::string t = others(s, p, k);
    if (!rows.count(t)) titles.push_back(t);
    const double x = a.numbers.empty() ? static_cast<double>(p.index[k]) : a.numbers[p.index[k]];
    const bool feasible = p.verdict != "infeasible";
    rows[t] += feasible ? fmt::format("{:.9g} {:.9g}\n", x, p.result.tokens_per_s) : fmt::format("{:.9g} NaN\n", x);
    drawn[t] = drawn[t] || feasible;
    if (p.verdict == "does-not-fit") misfits += fmt::format("{:.9g} {:.9g}\n", x, p.result.tokens_per_s);
  }
  std::string data, clauses;
  std::size_t lines = 0;
  for (const auto& t : titles) {
    if (!drawn[t]) continue;  // gnuplot warns about a line without a point
    data += (lines == 0 ? "" : "\n\n") + rows[t];
    clauses += fmt::format("{}$d index {} using 1:2 with linespoints lt {} lw 2 pt 7 ps 1 title {}", lines == 0 ? "" : ", ",
                           lines, lines + 1, gnuplot_string(t.empty() ? s.scenario : t));
    ++lines;
  }
  if (lines == 0) return {std::nullopt, "No point can run (all infeasible): nothing to draw against " + a.key + "."};
  std::string sc = plot_header(900, 480, "Throughput against " + a.key);
  sc += datablock(data);
  if (!misfits.empty()) sc += datablock(misfits, "nf");
  sc += fmt::format("set xlabel {}\nset ylabel 'tokens/s'\nset format y '%.1s%c'\nset yrange [0:*]\nset autoscale xfix\nset offsets graph 0.05, graph 0.05, graph 0.1, 0\n",
                    gnuplot_string(a.unit.empty() ? a.key : a.key + " [" + a.unit + "]"));
  if (a.kind == "geometric") sc += "set logscale x\n";
  if (a.numbers.empty() || a.values.size() <= 16) {  // the values as written: "100 Gbps" -> tic "100" at 100
    std::string tics;
    for (std::size_t v = 0; v < a.values.size(); ++v) {
      const std::string label = a.numbers.empty() ? a.values[v] : fmt::format("{:.6g}", a.numbers[v]);
      tics += fmt::format("{}{} {:.9g}", v == 0 ? "" : ", ", gnuplot_string(label), a.numbers.empty() ? double(v) : a.numbers[v]);
    }
    sc += "set xtics (" + tics + ")" + (a.numbers.empty() && a.values.size() > 4 ? " rotate by 20 right" : "") + "\n";
  }
  sc += lines > kMaxLegend ? "set key off\n" : "set key below\n";  // long titles: below keeps the plot wide
  sc += "plot " + clauses;
  if (!misfits.empty()) sc += ", $nf using 1:2 with points pt 6 ps 2.2 lw 2 lc rgb 'black' title 'does not fit'";
  sc += "\n";
  std::string alt = fmt::format("Lines: tokens per second against {}, one line per combination of the other keys' values "
                                "({} line{}{})", a.key, lines, lines == 1 ? "" : "s", lines > kMaxLegend ? ", no legend" : "");
  return {Plot{"sweep-" + std::to_string(k), alt, sc}, ""};
}

Page build_sweep_page(const json& sweep, const std::string& source, const Renderer& render) {
  const SweepData s = parse_sweep(sweep, source);
  Page page;
  std::string& o = page.html;
  o += page_head("sparsim sweep: " + s.scenario);
  o += "<h1>sparsim sweep: " + esc(s.scenario) + "</h1>\n";
  o += fmt::format("<p>{} point{} of <code>{}</code> on the {} backend; {}.", s.points.size(),
                   s.points.size() == 1 ? "" : "s", esc(s.file), esc(s.backend), esc(s.order));
  for (const auto& set : s.sets) o += " Fixed: <code>--set " + esc(set) + "</code>.";
  o += "</p>\n<ul>\n";
  for (const auto& a : s.axes) {
    std::string values;
    for (const auto& v : a.values) values += (values.empty() ? "" : ", ") + v;
    o += "<li><code>" + esc(a.key) + "</code> (" + esc(a.kind) + "): " + esc(values) + "</li>\n";
  }
  o += "</ul>\n";
  for (std::size_t k = 0; k < s.axes.size(); ++k) {
    o += fmt::format("<h2 id=\"vary-{}\">Against {}</h2>\n", k, esc(s.axes[k].key));
    o += plot_or_skip(sweep_plot(s, k), render);
  }
  o += "<h2 id=\"points\">Every point</h2>\n" + points_table(s);
  o += page_foot("sparsim sweep");
  return page;
}

}  // namespace sparsim::report
