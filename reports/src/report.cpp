#include "report.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "config/error.hpp"
#include "html.hpp"

namespace sparsim::report {

namespace fs = std::filesystem;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

const char* const kStyle = R"(body{font-family:sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .5em}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
img.plot{display:block;max-width:100%;height:auto;margin:.6em 0;border:1px solid #eee}
p.skip{color:#555;font-style:italic}.bad{color:#b00;font-weight:bold}
pre{background:#f7f7f7;border:1px solid #ddd;padding:.6em;overflow:auto;font-size:.85em}
code{background:#f3f3f3;padding:0 .2em})";

std::string esc(const std::string& s) { return html_escape(s); }

std::string read_file(const std::string& path, const char* what) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw InputError({path, 0, 0}, "", std::string("cannot open ") + what + ": " +
                                           (fs::exists(path, ec) ? "not a regular file" : "no such file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError({path, 0, 0}, "", std::string("cannot open ") + what);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string gib(double bytes) { return fmt::format("{:.1f} GiB", bytes / kGiB); }

std::string summary_table(const std::vector<Result>& rs) {
  const auto ratios = rs.size() > 1 ? tokens_ratios(rs) : std::vector<double>{};
  std::string o = "<table>\n<tr><th>result</th><th>scenario</th><th>backend</th><th>devices</th><th>step time</th>"
                  "<th>tokens/s</th>";
  if (!ratios.empty()) o += "<th>tokens/s ratio</th>";
  o += "<th>TFLOP/s per device</th><th>MFU</th><th>params (total / active per token)</th>"
       "<th>device memory</th><th>verdict</th></tr>\n";
  for (std::size_t i = 0; i < rs.size(); ++i) {
    const auto& r = rs[i];
    const std::string verdict = r.verdict.kind == workload::VerdictKind::runs
                                    ? esc(r.verdict.text())
                                    : "<span class=\"bad\">" + esc(r.verdict.text()) + "</span>";
    o += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:.4f} s</td>"
                     "<td class=\"n\">{:.0f}</td>",
                     esc(r.label), esc(r.scenario), esc(r.backend), r.devices > 0 ? std::to_string(r.devices) : "?",
                     r.step_time_s, r.tokens_per_s);
    if (!ratios.empty()) o += fmt::format("<td class=\"n\">{:.2f}x</td>", ratios[i]);
    o += fmt::format("<td class=\"n\">{:.1f}</td><td class=\"n\">{:.1f}%</td><td class=\"n\">{:.4g} / {:.4g}</td>"
                     "<td class=\"n\">{} of {}</td><td>{}</td></tr>\n",
                     r.tflops_per_device, 100 * r.mfu, r.params_total, r.params_active_per_token,
                     gib(r.device_peak_bytes), gib(r.device_capacity_bytes), verdict);
  }
  return o + "</table>\n";
}

std::string breakdown_table(const std::vector<Result>& rs) {
  std::vector<Result> drawn;
  for (const auto& r : rs) {
    if (r.feasible) drawn.push_back(r);
  }
  if (drawn.empty()) return "";
  std::vector<std::string> terms;
  breakdown_rows(drawn, terms);
  std::string o = "<table>\n<tr><th>result</th>";
  for (const auto& t : terms) o += "<th>" + esc(t) + "</th>";
  o += "<th>step time</th></tr>\n";
  for (const auto& r : drawn) {
    o += "<tr><td>" + esc(r.label) + "</td>";
    for (const auto& t : terms) {
      for (const auto& b : r.breakdown_s) {
        if (b.label == t) {
          o += fmt::format("<td class=\"n\">{:.4f} s ({:.1f}%)</td>", b.value,
                           r.step_time_s > 0 ? 100 * b.value / r.step_time_s : 0.0);
        }
      }
    }
    o += fmt::format("<td class=\"n\">{:.4f} s</td></tr>\n", r.step_time_s);
  }
  return o + "</table>\n";
}

std::string measured_table(const std::vector<Result>& rs) {
  std::vector<std::string> unpaired;
  const auto pairs = measured_pairs(rs, unpaired);
  std::string o;
  for (const auto& p : pairs) {
    o += fmt::format("<p>{} against {}:</p>\n<table>\n<tr><th>term</th><th>measured</th><th>predicted</th>"
                     "<th>error</th></tr>\n",
                     esc(p.measured->label), esc(p.predicted->label));
    for (const auto& c : p.rows) {
      o += fmt::format("<tr><td>{}</td><td class=\"n\">{:.4f} s</td><td class=\"n\">{:.4f} s</td>"
                       "<td class=\"n\">{:+.1f}%</td></tr>\n",
                       esc(c.metric), c.measured, c.predicted, 100 * c.error());
    }
    o += "</table>\n";
  }
  for (const auto& u : unpaired) {
    o += "<p class=\"skip\">Measured result " + esc(u) + " has no predicted result of the same scenario name.</p>\n";
  }
  return o;
}

std::string details(const Result& r, const Input& in, const std::string& trace_name) {
  std::string o = "<h3>" + esc(r.label) + "</h3>\n<ul>\n";
  o += "<li>scenario <code>" + esc(r.scenario) + "</code>, backend <code>" + esc(r.backend) + "</code>";
  if (r.devices > 0) o += ", " + std::to_string(r.devices) + " devices";
  o += "</li>\n<li>from <code>" + esc(r.source) + "</code></li>\n";
  if (!trace_name.empty()) {
    o += "<li>Chrome trace: <a href=\"" + esc(trace_name) + "\">" + esc(trace_name) +
         "</a> (open in chrome://tracing or ui.perfetto.dev)</li>\n";
  } else {
    o += "<li>no Chrome trace (none next to the result)</li>\n";
  }
  o += fmt::format("<li>host memory {} of {} per node; device {} of {}</li>\n", gib(r.host_peak_bytes),
                   gib(r.host_capacity_bytes), gib(r.device_peak_bytes), gib(r.device_capacity_bytes));
  if (r.verdict.kind != workload::VerdictKind::runs) o += "<li class=\"bad\">" + esc(r.verdict.text()) + "</li>\n";
  for (const auto& w : r.warnings) o += "<li>warning: " + esc(w) + "</li>\n";
  o += "</ul>\n";
  if (!in.resolved_yaml.empty()) {
    o += "<details><summary>resolved configuration</summary>\n<pre>" + esc(in.resolved_yaml) + "</pre>\n</details>\n";
  } else {
    o += "<p class=\"skip\">No resolved configuration next to the result (write one with "
         "<code>sparsim simulate ... --resolved RESULT.resolved.yaml</code>).</p>\n";
  }
  return o;
}

}  // namespace

std::string page_head(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         esc(title) + "</title>\n<style>\n" + kStyle + "\n</style>\n</head>\n<body>\n";
}

std::string page_foot(const std::string& command) {
  return "<p class=\"skip\">Generated by <code>" + esc(command) + "</code>; plots by gnuplot (SVG terminal).</p>\n"
         "</body>\n</html>\n";
}

std::string plot_or_skip(const PlotOrSkip& p, const Renderer& render) {
  if (!p.plot) return "<p class=\"skip\">" + esc(p.skipped) + "</p>\n";
  return svg_img(render(*p.plot), p.plot->alt) + "\n";
}

std::string sidecar_path(const std::string& result_path, const std::string& suffix) {
  const std::string ext = ".json";
  if (result_path.size() > ext.size() && result_path.compare(result_path.size() - ext.size(), ext.size(), ext) == 0) {
    return result_path.substr(0, result_path.size() - ext.size()) + suffix;
  }
  return result_path + suffix;
}

Input read_input(const std::string& path) {
  Input in;
  in.source = path;
  in.result = parse_json_text(read_file(path, "result file"), path);
  std::error_code ec;
  const std::string resolved = sidecar_path(path, ".resolved.yaml");
  if (fs::is_regular_file(resolved, ec)) in.resolved_yaml = read_file(resolved, "resolved configuration");
  const std::string trace = sidecar_path(path, ".trace.json");
  if (fs::is_regular_file(trace, ec)) in.trace_path = trace;
  return in;
}

std::string gnuplot_renderer(const Plot& plot) { return run_gnuplot(plot.script); }

Page build_page(const std::vector<Input>& inputs, const Renderer& render) {
  SPARSIM_ASSERT(!inputs.empty(), "a report needs at least one result");
  std::vector<Result> rs;
  for (const auto& in : inputs) rs.push_back(parse_result(in.result, in.source));
  assign_labels(rs);

  Page page;
  std::vector<std::string> trace_names(inputs.size());
  std::map<std::string, int> used;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].trace_path.empty()) continue;
    std::string name = fs::path(inputs[i].trace_path).filename().string();
    if (used[name]++ > 0) name = std::to_string(i + 1) + "-" + name;
    trace_names[i] = name;
    page.copies.emplace_back(inputs[i].trace_path, name);
  }

  std::string scenarios;
  for (const auto& r : rs) scenarios += (scenarios.empty() ? "" : ", ") + r.label;
  std::string& o = page.html;
  o += page_head("sparsim report: " + scenarios);
  o += "<h1>sparsim report</h1>\n";
  o += fmt::format("<p>{} result{}: {}. Ratios are to the first result. Times are per training step on the "
                   "critical path; memory is per device and per node.</p>\n",
                   rs.size(), rs.size() == 1 ? "" : "s", esc(scenarios));
  o += "<h2 id=\"summary\">Summary</h2>\n" + summary_table(rs);

  std::string not_drawn;
  for (const auto& r : rs) {
    if (!r.feasible) not_drawn += (not_drawn.empty() ? "" : ", ") + r.label;
  }
  if (!not_drawn.empty()) {
    o += "<p class=\"bad\">Infeasible, not drawn in the breakdown, memory and scaling plots: " + esc(not_drawn) +
         " (see the reasons below).</p>\n";
  }
  o += "<h2 id=\"breakdown\">Step-time breakdown</h2>\n" + plot_or_skip(breakdown_plot(rs), render);
  o += breakdown_table(rs);
  o += "<h2 id=\"memory\">Memory against capacity</h2>\n";
  o += plot_or_skip(device_memory_plot(rs), render);  // one statement each: plots render in page order
  o += plot_or_skip(host_memory_plot(rs), render);
  o += "<h2 id=\"variants\">Variants side by side</h2>\n" + plot_or_skip(variants_plot(rs), render);
  o += "<h2 id=\"scaling\">Scaling</h2>\n" + plot_or_skip(scaling_plot(rs), render);
  o += "<h2 id=\"measured\">Predicted against measured</h2>\n" + plot_or_skip(measured_plot(rs), render);
  o += measured_table(rs);
  o += "<h2 id=\"inputs\">Scenarios, backends and configurations</h2>\n";
  for (std::size_t i = 0; i < rs.size(); ++i) o += details(rs[i], inputs[i], trace_names[i]);
  o += page_foot("sparsim report");
  return page;
}

}  // namespace sparsim::report
