#include "plots.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace sparsim::report {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

/// Tic labels slant when there are several bars, so long scenario names do not overlap.
std::string xtics_for(std::size_t bars) {
  return bars > 2 ? "set xtics rotate by 20 right nomirror\n" : "set xtics nomirror\n";
}

std::string num(double v) { return fmt::format("{:.9g}", v); }
/// A datablock cell: a space and the number.
std::string cell(double v) { return fmt::format(" {:.9g}", v); }

std::vector<Result> feasible(const std::vector<Result>& results) {
  std::vector<Result> out;
  for (const auto& r : results) {
    if (r.feasible) out.push_back(r);
  }
  return out;
}

/// "plot" clauses for a row-stacked histogram: column 2 carries the x tic labels.
std::string stacked_clauses(const std::vector<std::string>& titles) {
  std::string s;
  for (std::size_t i = 0; i < titles.size(); ++i) {
    s += i == 0 ? fmt::format("$d using {}:xtic(1) title {}", i + 2, gnuplot_string(titles[i]))
                : fmt::format(", '' using {} title {}", i + 2, gnuplot_string(titles[i]));
  }
  return s;
}

const char* kNoFeasible = "No feasible result: there is nothing to draw.";

}  // namespace

std::string plot_header(int width, int height, const std::string& title) {
  return fmt::format(
      "set terminal svg size {},{} noenhanced font 'sans,12' background rgb 'white'\n"
      "set title {}\n"
      "set linetype 1 lc rgb '#4e79a7'\nset linetype 2 lc rgb '#f28e2b'\nset linetype 3 lc rgb '#e15759'\n"
      "set linetype 4 lc rgb '#76b7b2'\nset linetype 5 lc rgb '#59a14f'\nset linetype 6 lc rgb '#edc948'\n"
      "set linetype 7 lc rgb '#b07aa1'\nset linetype 8 lc rgb '#ff9da7'\nset linetype 9 lc rgb '#9c755f'\n"
      "set linetype 10 lc rgb '#bab0ac'\nset linetype cycle 10\n"
      "set grid ytics lc rgb '#dddddd'\nset key outside right top vertical\n",
      width, height, gnuplot_string(title));
}

std::string datablock(const std::string& rows, const std::string& name) {
  return fmt::format("${} << EOD\n{}EOD\n", name, rows);  // fmt: GCC 12 warns falsely on "literal" + string at -O3
}

std::string gnuplot_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '\'';
    else if (c == '\\') out += '/';
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out + "\"";
}

std::string breakdown_rows(const std::vector<Result>& results, std::vector<std::string>& terms) {
  terms.clear();
  std::vector<std::size_t> keep;
  if (results.empty()) return "";
  for (std::size_t t = 0; t < results.front().breakdown_s.size(); ++t) {
    const bool used = std::any_of(results.begin(), results.end(), [&](const Result& r) { return r.breakdown_s[t].value != 0; });
    if (t == 0 || used) {
      keep.push_back(t);
      terms.push_back(results.front().breakdown_s[t].label);
    }
  }
  std::string rows;
  for (const auto& r : results) {
    rows += gnuplot_string(r.label);
    for (std::size_t t : keep) rows += cell(r.breakdown_s[t].value);
    rows += "\n";
  }
  return rows;
}

PlotOrSkip breakdown_plot(const std::vector<Result>& all) {
  const auto results = feasible(all);
  if (results.empty()) return {std::nullopt, kNoFeasible};
  std::vector<std::string> terms;
  const std::string rows = breakdown_rows(results, terms);
  std::string s = plot_header(900, 480, "Step time by where it goes (critical path)");
  s += datablock(rows);
  s += "set style data histograms\nset style histogram rowstacked\nset style fill solid 0.9 border rgb '#333333'\n"
       "set boxwidth 0.6\nset yrange [0:*]\nset ylabel 'seconds per step'\n";
  s += xtics_for(results.size());
  s += "plot " + stacked_clauses(terms) + "\n";
  return {Plot{"breakdown", "Stacked bars: step time per result split into compute, exposed communication, "
                            "pipeline bubble, copies and optimizer", s}, ""};
}

PlotOrSkip device_memory_plot(const std::vector<Result>& all) {
  const auto results = feasible(all);
  if (results.empty()) return {std::nullopt, kNoFeasible};
  std::vector<std::string> titles;
  for (const auto& t : results.front().device_bytes) titles.push_back(t.label);
  std::string rows;
  for (const auto& r : results) {
    rows += gnuplot_string(r.label);
    for (const auto& t : r.device_bytes) rows += cell(t.value / kGiB);
    rows += cell(r.device_capacity_bytes / kGiB);
    rows += "\n";
  }
  const std::size_t cap_col = titles.size() + 2;
  std::string s = plot_header(900, 480, "Device memory at peak against capacity (per device)");
  s += datablock(rows);
  s += "set style data histograms\nset style histogram rowstacked\nset style fill solid 0.9 border rgb '#333333'\n"
       "set boxwidth 0.6\nset yrange [0:*]\nset offsets 0,0,graph 0.1,0\nset ylabel 'GiB per device'\n";
  s += xtics_for(results.size());
  s += "plot " + stacked_clauses(titles) +
       fmt::format(", '' using 0:{}:(0.4) with xerrorbars lc rgb 'black' lw 3 pt 0 title 'capacity'\n", cap_col);
  return {Plot{"memory-device", "Stacked bars: device memory per result (params, grads, optimizer, activations, "
                                "buffers) with a black mark at the device capacity", s}, ""};
}

PlotOrSkip host_memory_plot(const std::vector<Result>& all) {
  const auto results = feasible(all);
  if (results.empty()) return {std::nullopt, kNoFeasible};
  std::string rows;
  for (const auto& r : results) {
    rows += fmt::format("{} {} {}\n", gnuplot_string(r.label), num(r.host_peak_bytes / kGiB), num(r.host_capacity_bytes / kGiB));
  }
  std::string s = plot_header(900, 420, "Host memory at peak against capacity (per node)");
  s += datablock(rows);
  s += "set style data histograms\nset style histogram rowstacked\nset style fill solid 0.9 border rgb '#333333'\n"
       "set boxwidth 0.6\nset yrange [0:*]\nset offsets 0,0,graph 0.1,0\nset ylabel 'GiB per node'\n";
  s += xtics_for(results.size());
  s += "plot $d using 2:xtic(1) lt 9 title 'host peak', '' using 0:3:(0.4) with xerrorbars lc rgb 'black' lw 3 pt 0 "
       "title 'capacity'\n";
  return {Plot{"memory-host", "Bars: host memory per node per result with a black mark at the host capacity", s}, ""};
}

std::vector<double> tokens_ratios(const std::vector<Result>& results) {
  std::vector<double> out;
  if (results.empty() || !(results.front().tokens_per_s > 0)) return out;
  for (const auto& r : results) out.push_back(r.tokens_per_s / results.front().tokens_per_s);
  return out;
}

PlotOrSkip variants_plot(const std::vector<Result>& results) {
  if (results.size() < 2) {
    return {std::nullopt, "One result: nothing to set side by side. Pass several result JSONs (for example MoE, RRE "
                          "and ECSS variants of one scenario) to compare them; ratios are to the first."};
  }
  const auto ratios = tokens_ratios(results);
  if (ratios.empty()) {
    return {std::nullopt, "The first result has no positive tokens/s (infeasible?), so there is no baseline for "
                          "ratios; put a feasible result first."};
  }
  std::string rows;
  for (std::size_t i = 0; i < results.size(); ++i) {
    rows += fmt::format("{} {} {}\n", gnuplot_string(results[i].label), num(results[i].tokens_per_s),
                        gnuplot_string(fmt::format("{:.2f}x", ratios[i])));
  }
  std::string s = plot_header(900, 440, "Throughput side by side (ratio to " + results.front().label + ")");
  s += datablock(rows);
  s += "set style fill solid 0.9 border rgb '#333333'\nset boxwidth 0.6\nset yrange [0:*]\nset offsets 0.5,0.5,graph 0.1,0\n"
       "set ylabel 'tokens/s'\nset key off\n";
  s += xtics_for(results.size());
  s += "plot $d using 0:2:xtic(1) with boxes lt 1, '' using 0:2:3 with labels offset 0,0.8 font 'sans,12'\n";
  return {Plot{"variants", "Bars: tokens per second per result, each labelled with its ratio to the first", s}, ""};
}

std::vector<ScalingPoint> scaling_points(const std::vector<Result>& results) {
  std::vector<ScalingPoint> pts;
  std::set<std::int64_t> sizes;
  for (const auto& r : results) {
    if (r.measured() || !r.feasible || r.devices <= 0) continue;
    pts.push_back({r.devices, r.tokens_per_s, r.mfu, r.label});
    sizes.insert(r.devices);
  }
  if (sizes.size() < 2) return {};
  std::stable_sort(pts.begin(), pts.end(), [](const auto& a, const auto& b) { return a.devices < b.devices; });
  return pts;
}

PlotOrSkip scaling_plot(const std::vector<Result>& results) {
  const auto pts = scaling_points(results);
  if (pts.empty()) {
    return {std::nullopt, "All predicted results are for one cluster size: no scaling curve. Pass results for "
                          "several device counts (e.g. --set cluster.nodes=...) to draw one."};
  }
  std::string rows;
  for (const auto& p : pts) {
    rows += fmt::format("{} {} {} {}\n", p.devices, num(p.tokens_per_s), num(100 * p.mfu), gnuplot_string(p.label));
  }
  std::string s = plot_header(900, 480, "Scaling: throughput and MFU against cluster size");
  s += datablock(rows);
  s += "set logscale x 2\nset offsets graph 0.08, graph 0.08, graph 0.1, 0\nset xlabel 'devices'\n"
       "set ylabel 'tokens/s'\nset yrange [0:*]\nset ytics nomirror\nset y2label 'MFU (%)'\nset y2range [0:100]\n"
       "set y2tics\nset xtics nomirror\n";
  s += "plot $d using 1:2 with linespoints lt 1 lw 2 pt 7 ps 1.2 title 'tokens/s', "
       "'' using 1:3 axes x1y2 with linespoints lt 2 lw 2 dt 2 pt 5 title 'MFU', "
       "'' using 1:2:4 with labels offset 0,1.2 font 'sans,10' notitle\n";
  return {Plot{"scaling", "Line: tokens per second and MFU against the number of devices", s}, ""};
}

std::vector<MeasuredPair> measured_pairs(const std::vector<Result>& results, std::vector<std::string>& unpaired) {
  unpaired.clear();
  std::vector<MeasuredPair> pairs;
  for (const auto& m : results) {
    if (!m.measured()) continue;
    const auto p = std::find_if(results.begin(), results.end(),
                                [&](const Result& r) { return !r.measured() && r.scenario == m.scenario; });
    if (p == results.end()) {
      unpaired.push_back(m.label);
      continue;
    }
    MeasuredPair pair{&m, &*p, {}};
    if (m.step_time_s > 0) pair.rows.push_back({"step time", m.step_time_s, p->step_time_s});
    for (std::size_t t = 0; t < m.breakdown_s.size(); ++t) {
      if (m.breakdown_s[t].value > 0) {
        pair.rows.push_back({m.breakdown_s[t].label, m.breakdown_s[t].value, p->breakdown_s[t].value});
      }
    }
    pairs.push_back(std::move(pair));
  }
  return pairs;
}

PlotOrSkip measured_plot(const std::vector<Result>& results) {
  std::vector<std::string> unpaired;
  const auto pairs = measured_pairs(results, unpaired);
  const bool any_measured = std::any_of(results.begin(), results.end(), [](const Result& r) { return r.measured(); });
  if (!any_measured) {
    return {std::nullopt, "No result has backend \"measured\" (written by the reference trainer), so there is no "
                          "prediction to check against reality here."};
  }
  std::string rows;
  double lo = 0, hi = 0;
  for (const auto& p : pairs) {
    for (const auto& c : p.rows) {
      if (!(c.measured > 0 && c.predicted > 0)) continue;  // log axes
      const std::string name = pairs.size() > 1 ? p.measured->scenario + ": " + c.metric : c.metric;
      rows += fmt::format("{} {} {}\n", num(c.measured), num(c.predicted), gnuplot_string(name));
      const double a = std::min(c.measured, c.predicted), b = std::max(c.measured, c.predicted);
      lo = lo == 0 ? a : std::min(lo, a);
      hi = std::max(hi, b);
    }
  }
  if (rows.empty()) {
    return {std::nullopt, "No measured result has a predicted result of the same scenario name with positive "
                          "times, so there is nothing to plot."};
  }
  std::string s = plot_header(760, 640, "Predicted against measured time (log-log)");
  s += datablock(rows);
  s += fmt::format("set logscale xy\nset xrange [{}:{}]\nset yrange [{}:{}]\nset size ratio -1\n", num(lo / 2),
                   num(hi * 2), num(lo / 2), num(hi * 2));
  s += "set xlabel 'measured (s)'\nset ylabel 'predicted (s)'\nset grid xtics ytics lc rgb '#dddddd'\n"
       "set key inside left top\nset samples 200\n";
  s += "plot x with lines lc rgb 'black' dt 2 title 'predicted = measured', "
       "1.1*x with lines lc rgb '#999999' dt 3 title '+10 %', 0.9*x with lines lc rgb '#999999' dt 3 title '-10 %', "
       "$d using 1:2 with points lt 3 pt 7 ps 1.3 title 'per term', "
       "'' using 1:2:3 with labels left offset 1,0 font 'sans,10' notitle\n";
  return {Plot{"measured", "Scatter: predicted against measured time per breakdown term, with the y = x line and a "
                           "10 percent band", s}, ""};
}

}  // namespace sparsim::report
