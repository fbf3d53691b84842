#include "plan_page.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "config/error.hpp"
#include "html.hpp"

namespace sparsim::report {

using nlohmann::json;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr const char* kSchema = "sparsim.plan/1";

template <class T>
T get(const json& j, const char* key, const std::string& source, const std::string& where) {
  return typed_get<T>(j, key, source, where, kSchema);
}

std::string esc(const std::string& s) { return html_escape(s); }

/// The first axis of the front: days to train (lower is better), or seconds per token when the
/// search had no --tokens.
double time_of(const PlanData& p, const PlanSize& s) {
  const PlanChoice& b = s.best.front();
  return p.tokens > 0 ? b.days : 1.0 / b.result.tokens_per_s;
}
/// The second axis: cost with --price, else devices (lower is better).
double money_of(const PlanData& p, const PlanSize& s) { return p.price > 0 ? s.best.front().cost : double(s.devices); }

/// 3e11 -> "300B", 1.5e12 -> "1.5T"
std::string tokens_text(double t) {
  if (t >= 1e12) return fmt::format("{:.4g}T", t / 1e12);
  if (t >= 1e9) return fmt::format("{:.4g}B", t / 1e9);
  if (t >= 1e6) return fmt::format("{:.4g}M", t / 1e6);
  return fmt::format("{:.4g}", t);
}

std::string y_label(const PlanData& p) { return p.tokens > 0 ? "days to train " + tokens_text(p.tokens) + " tokens" : "tokens/s"; }
double y_of(const PlanData& p, const PlanSize& s) { return p.tokens > 0 ? s.best.front().days : s.best.front().result.tokens_per_s; }

std::vector<std::size_t> with_plans(const PlanData& p) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < p.sizes.size(); ++i)
    if (!p.sizes[i].best.empty()) out.push_back(i);
  return out;
}

std::string summary_table(const PlanData& p, const std::vector<std::size_t>& front) {
  std::string o = "<table>\n<tr><th>devices</th><th>plans</th><th>run</th><th>do not fit</th><th>infeasible</th>"
                  "<th>best plan</th><th>step time</th><th>tokens/s</th><th>MFU</th><th>device memory</th>";
  if (p.tokens > 0) o += "<th>days</th>";
  if (p.price > 0) o += "<th>cost</th>";
  o += "<th>on the front</th></tr>\n";
  for (std::size_t i = 0; i < p.sizes.size(); ++i) {
    const PlanSize& s = p.sizes[i];
    o += fmt::format("<tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
                     s.devices, s.plans, s.runs, s.does_not_fit, s.infeasible);
    if (s.best.empty()) {
      o += fmt::format("<td colspan=\"{}\" class=\"bad\">no plan runs</td></tr>\n", 6 + (p.tokens > 0) + (p.price > 0));
      continue;
    }
    const PlanChoice& b = s.best.front();
    const Result& r = b.result;
    o += fmt::format("<td><code>{}</code></td><td class=\"n\">{:.4g} s</td><td class=\"n\">{:.0f}</td><td class=\"n\">{:.1f}%</td>"
                     "<td class=\"n\">{:.1f} of {:.0f} GiB</td>",
                     esc(b.plan), r.step_time_s, r.tokens_per_s, 100 * r.mfu, r.device_peak_bytes / kGiB, r.device_capacity_bytes / kGiB);
    if (p.tokens > 0) o += fmt::format("<td class=\"n\">{:.1f}</td>", b.days);
    if (p.price > 0) o += fmt::format("<td class=\"n\">{:.0f}</td>", b.cost);
    o += std::find(front.begin(), front.end(), i) != front.end() ? "<td>yes</td></tr>\n" : "<td></td></tr>\n";
  }
  return o + "</table>\n";
}

std::string size_section(const PlanData& p, const PlanSize& s) {
  std::string o = fmt::format("<h3 id=\"devices-{}\">{} devices</h3>\n<p>{} plans: {} run, {} do not fit, {} infeasible.</p>\n",
                              s.devices, s.devices, s.plans, s.runs, s.does_not_fit, s.infeasible);
  if (s.best.empty()) return o + "<p class=\"bad\">No plan runs on this many devices.</p>\n";
  o += "<table>\n<tr><th>#</th><th>plan</th><th>step time</th><th>tokens/s</th><th>MFU</th><th>device memory</th>";
  if (p.tokens > 0) o += "<th>days</th>";
  if (p.price > 0) o += "<th>device-hours</th><th>cost</th>";
  o += "</tr>\n";
  for (const PlanChoice& b : s.best) {
    const Result& r = b.result;
    o += fmt::format("<tr><td class=\"n\">{}</td><td><code>{}</code></td><td class=\"n\">{:.4g} s</td><td class=\"n\">{:.0f}</td>"
                     "<td class=\"n\">{:.1f}%</td><td class=\"n\">{:.1f} GiB</td>",
                     b.rank, esc(b.plan), r.step_time_s, r.tokens_per_s, 100 * r.mfu, r.device_peak_bytes / kGiB);
    if (p.tokens > 0) o += fmt::format("<td class=\"n\">{:.1f}</td>", b.days);
    if (p.price > 0) o += fmt::format("<td class=\"n\">{:.0f}</td><td class=\"n\">{:.0f}</td>", b.device_hours, b.cost);
    o += "</tr>\n";
  }
  o += "</table>\n";
  if (!s.runner_up.empty()) o += "<p>Runner-up " + esc(s.runner_up) + ".</p>\n";
  if (!s.verified.empty()) {
    o += "<p>On the DES (<code>--verify</code>), ranked by its step time:</p>\n<table>\n<tr><th>DES #</th><th>analytic #</th><th>plan</th>"
         "<th>analytic step</th><th>DES step</th><th>DES / analytic</th></tr>\n";
    for (const PlanVerified& v : s.verified) {
      o += fmt::format("<tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td><code>{}</code></td><td class=\"n\">{:.5g} s</td>"
                       "<td class=\"n\">{:.5g} s</td><td class=\"n\">{:+.2f}%</td></tr>\n",
                       v.des_rank, v.rank, esc(v.plan), v.analytic_step_s, v.des_step_s, 100 * (v.des_step_s / v.analytic_step_s - 1));
    }
    o += "</table>\n";
  }
  return o;
}

}  // namespace

PlanData parse_plan(const json& j, const std::string& source) {
  if (!j.is_object()) throw InputError({source, 0, 0}, "", "expected a JSON object");
  const auto schema = get<std::string>(j, "schema", source, "");
  if (schema != kSchema) throw InputError({source, 0, 0}, "schema", "expected '" + std::string(kSchema) + "', found '" + schema + "'");
  PlanData p;
  p.scenario = get<std::string>(j, "scenario", source, "");
  p.file = get<std::string>(j, "file", source, "");
  p.tokens = j.contains("tokens") ? get<double>(j, "tokens", source, "") : 0.0;
  p.price = j.contains("price") ? get<double>(j, "price", source, "") : 0.0;
  if (!(p.tokens >= 0) || !(p.price >= 0)) throw InputError({source, 0, 0}, "tokens", "expected tokens and price of 0 or more");
  const auto sizes = get<json>(j, "sizes", source, "");
  if (!sizes.is_array()) throw InputError({source, 0, 0}, "sizes", "expected a list of device counts");
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const std::string where = fmt::format("sizes.{}", i);
    PlanSize s;
    s.devices = get<std::int64_t>(sizes[i], "devices", source, where);
    s.plans = get<std::size_t>(sizes[i], "plans", source, where);
    s.runs = get<std::size_t>(sizes[i], "runs", source, where);
    s.does_not_fit = get<std::size_t>(sizes[i], "does_not_fit", source, where);
    s.infeasible = get<std::size_t>(sizes[i], "infeasible", source, where);
    if (s.devices <= 0) throw InputError({source, 0, 0}, where + ".devices", "expected a positive device count");
    const auto best = get<json>(sizes[i], "best", source, where);
    if (!best.is_array()) throw InputError({source, 0, 0}, where + ".best", "expected a list of plans");
    for (std::size_t k = 0; k < best.size(); ++k) {
      const std::string at = fmt::format("{}.best.{}", where, k);
      if (!best[k].is_object() || !best[k].contains("result")) {
        throw InputError({source, 0, 0}, at + ".result",
                         "missing the plan's result (written before `sparsim plan` kept them): run sparsim plan --json again");
      }
      PlanChoice c;
      c.rank = get<std::size_t>(best[k], "rank", source, at);
      c.plan = get<std::string>(best[k], "plan", source, at);
      c.days = best[k].contains("days") ? get<double>(best[k], "days", source, at) : 0.0;
      c.device_hours = best[k].contains("device_hours") ? get<double>(best[k], "device_hours", source, at) : 0.0;
      c.cost = best[k].contains("cost") ? get<double>(best[k], "cost", source, at) : 0.0;
      c.result = parse_result(best[k].at("result"), source + ": " + at + ".result");
      if (!(c.result.tokens_per_s > 0) || (p.tokens > 0 && !(c.days > 0)) || (p.price > 0 && !(c.cost > 0))) {
        throw InputError({source, 0, 0}, at, "expected a plan that runs: positive tokens/s, and days and cost when asked for");
      }
      c.result.label = fmt::format("{} devices", s.devices);
      s.best.push_back(std::move(c));
    }
    if (sizes[i].contains("runner_up")) {
      const auto& r = sizes[i].at("runner_up");
      const std::string at = where + ".runner_up";
      s.runner_up = fmt::format("#{} ({}) loses: {}", get<std::size_t>(r, "rank", source, at), get<std::string>(r, "plan", source, at),
                                get<std::string>(r, "loses_by", source, at));
    }
    if (sizes[i].contains("verified")) {
      const auto verified = get<json>(sizes[i], "verified", source, where);
      for (std::size_t k = 0; k < verified.size(); ++k) {
        const std::string at = fmt::format("{}.verified.{}", where, k);
        s.verified.push_back({get<std::size_t>(verified[k], "des_rank", source, at), get<std::size_t>(verified[k], "rank", source, at),
                              get<std::string>(verified[k], "plan", source, at), get<double>(verified[k], "analytic_step_time_s", source, at),
                              get<double>(verified[k], "des_step_time_s", source, at)});
        if (!(s.verified.back().analytic_step_s > 0)) throw InputError({source, 0, 0}, at + ".analytic_step_time_s", "expected a positive step time");
      }
    }
    p.sizes.push_back(std::move(s));
  }
  return p;
}

std::vector<std::size_t> pareto_front(const PlanData& p) {
  const std::vector<std::size_t> candidates = with_plans(p);
  std::vector<std::size_t> front;
  for (const std::size_t i : candidates) {
    const double ti = time_of(p, p.sizes[i]), mi = money_of(p, p.sizes[i]);
    const bool beaten = std::any_of(candidates.begin(), candidates.end(), [&](std::size_t j) {
      const double tj = time_of(p, p.sizes[j]), mj = money_of(p, p.sizes[j]);
      return tj <= ti && mj <= mi && (tj < ti || mj < mi);
    });
    if (!beaten) front.push_back(i);
  }
  std::sort(front.begin(), front.end(), [&](std::size_t a, std::size_t b) { return p.sizes[a].devices < p.sizes[b].devices; });
  return front;
}

PlotOrSkip plan_front_plot(const PlanData& p) {
  const std::vector<std::size_t> sizes = with_plans(p);
  if (sizes.size() < 2) return {std::nullopt, "Fewer than two device counts with a plan that runs: no front to draw."};
  std::string all, front;
  for (const std::size_t i : sizes) all += fmt::format("{} {:.9g}\n", p.sizes[i].devices, y_of(p, p.sizes[i]));
  for (const std::size_t i : pareto_front(p)) front += fmt::format("{} {:.9g}\n", p.sizes[i].devices, y_of(p, p.sizes[i]));
  std::string sc = plot_header(900, 480, p.tokens > 0 ? "Time to train against devices" : "Throughput against devices");
  sc += datablock(all) + datablock(front, "f");
  sc += fmt::format("set xlabel 'devices'\nset ylabel {}\nset logscale x 2\nset yrange [0:*]\nset offsets graph 0.05, graph 0.05, graph 0.1, 0\n"
                    "set key below\n",
                    gnuplot_string(y_label(p)));
  sc += fmt::format("plot $d using 1:2 with points pt 7 ps 1.4 lc rgb '#888888' title 'best plan of each device count', "
                    "$f using 1:2 with linespoints lt 1 lw 2 pt 7 ps 1.4 title {}, "
                    "$d using 1:2:(sprintf('%d', $1)) with labels offset 0,1 notitle\n",
                    gnuplot_string(p.price > 0 ? "Pareto front (time, cost)" : "Pareto front (time, devices)"));
  return {Plot{"plan-front", "Points: " + y_label(p) + " of each device count's best plan against devices; a line through those "
                                                      "on the Pareto front", sc}, ""};
}

PlotOrSkip plan_cost_plot(const PlanData& p) {
  if (p.price <= 0 || p.tokens <= 0) return {std::nullopt, "No --price and --tokens in the search: no cost to draw."};
  const std::vector<std::size_t> sizes = with_plans(p);
  if (sizes.size() < 2) return {std::nullopt, "Fewer than two device counts with a plan that runs: no cost curve."};
  std::string all, front;
  for (const std::size_t i : sizes)
    all += fmt::format("{:.9g} {:.9g} {}\n", p.sizes[i].best.front().days, p.sizes[i].best.front().cost, p.sizes[i].devices);
  std::vector<std::size_t> f = pareto_front(p);
  std::sort(f.begin(), f.end(), [&](std::size_t a, std::size_t b) { return p.sizes[a].best.front().days < p.sizes[b].best.front().days; });
  for (const std::size_t i : f) front += fmt::format("{:.9g} {:.9g}\n", p.sizes[i].best.front().days, p.sizes[i].best.front().cost);
  std::string sc = plot_header(900, 480, "Cost against time to train " + tokens_text(p.tokens) + " tokens");
  sc += datablock(all) + datablock(front, "f");
  sc += "set xlabel 'days'\nset ylabel 'cost'\nset format y '%.3s%c'\nset offsets graph 0.05, graph 0.05, graph 0.1, graph 0.05\nset key below\n";
  sc += "plot $d using 1:2 with points pt 7 ps 1.4 lc rgb '#888888' title 'best plan of each device count', "
        "$f using 1:2 with linespoints lt 1 lw 2 pt 7 ps 1.4 title 'Pareto front', "
        "$d using 1:2:(sprintf('%d devices', $3)) with labels offset 0,1 notitle\n";
  return {Plot{"plan-cost", "Points: cost against days to train for each device count's best plan, labelled with the device "
                            "count; a line through the Pareto front", sc}, ""};
}

Page build_plan_page(const json& plan, const std::string& source, const Renderer& render) {
  const PlanData p = parse_plan(plan, source);
  const std::vector<std::size_t> front = pareto_front(p);
  Page page;
  std::string& o = page.html;
  o += page_head("sparsim plan: " + p.scenario);
  o += "<h1>sparsim plan: " + esc(p.scenario) + "</h1>\n";
  o += fmt::format("<p>The best parallel plans of <code>{}</code> on {} device count{}, searched with the analytic backend",
                   esc(p.file), p.sizes.size(), p.sizes.size() == 1 ? "" : "s");
  if (p.tokens > 0) o += "; time to train " + tokens_text(p.tokens) + " tokens";
  if (p.price > 0) o += fmt::format(" at {:.4g} per device-hour", p.price);
  o += ". A device count is on the Pareto front when no other count's best plan is both faster to train and ";
  o += p.price > 0 ? "cheaper.</p>\n" : "on fewer devices.</p>\n";
  o += "<h2 id=\"summary\">Best plan per device count</h2>\n" + summary_table(p, front);
  o += "<h2 id=\"front\">Time to train against devices</h2>\n" + plot_or_skip(plan_front_plot(p), render);
  o += "<h2 id=\"cost\">Cost against time to train</h2>\n" + plot_or_skip(plan_cost_plot(p), render);
  std::vector<Result> best;
  for (const PlanSize& s : p.sizes)
    if (!s.best.empty()) best.push_back(s.best.front().result);
  o += "<h2 id=\"breakdowns\">The best plans side by side</h2>\n";
  o += plot_or_skip(breakdown_plot(best), render);
  o += plot_or_skip(device_memory_plot(best), render);
  o += "<h2 id=\"sizes\">Every device count</h2>\n";
  for (const PlanSize& s : p.sizes) o += size_section(p, s);
  o += page_foot("sparsim plan");
  return page;
}

}  // namespace sparsim::report
