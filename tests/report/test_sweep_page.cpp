// The sweep's page (reports/src/sweep.hpp): sparsim.sweep/1 read back, one plot per varied key.
#include <catch2/catch.hpp>
#include <fstream>

#include "config/error.hpp"
#include "sweep.hpp"

using namespace sparsim::report;
using nlohmann::json;

namespace {

/// A sweep of a x b: a = 1, 2, 4 (geometric), b = x, y (names); point (i, j) runs at
/// tokens/s = 100 * (i + 1) + j, except (2, 1), infeasible, and (1, 0), which does not fit.
json sweep() {
  std::ifstream in(std::string(SPARSIM_SOURCE_DIR) + "/tests/report/data/gpt3-175b-1024xa100.json");
  REQUIRE(in);
  const json base = json::parse(in);
  json points = json::array();
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 2; ++j) {
      json r = base;
      r["tokens_per_s"] = 100 * (i + 1) + j;
      std::string verdict = "runs";
      if (i == 2 && j == 1) r["feasible"] = false, verdict = "infeasible";
      if (i == 1 && j == 0) r["memory"]["fits"] = false, verdict = "does-not-fit";
      points.push_back({{"index", {i, j}}, {"values", json::object()}, {"verdict", verdict}, {"result", r}});
    }
  }
  return {{"schema", "sparsim.sweep/1"}, {"file", "s.yaml"}, {"scenario", "s"}, {"backend", "analytic"},
          {"order", "first --vary varies slowest"}, {"set", json::array()},
          {"vary", {{{"key", "a"}, {"spec", "1..4*2"}, {"kind", "geometric"}, {"values", {"1", "2", "4"}},
                     {"numbers", {1, 2, 4}}, {"unit", ""}},
                    {{"key", "b"}, {"spec", "x,y"}, {"kind", "list"}, {"values", {"x", "y"}}, {"numbers", nullptr},
                     {"unit", ""}}}},
          {"points", points}};
}

}  // namespace

TEST_CASE("sweep page: one line per value of the other key, gaps where a point cannot run", "[report]") {
  const SweepData s = parse_sweep(sweep(), "s.json");
  REQUIRE(s.points.size() == 6);
  // Against a: the lines b=x and b=y, each over a = 1, 2, 4 (log x: a geometric range).
  auto p = sweep_plot(s, 0);
  REQUIRE(p.plot);
  const std::string& a = p.plot->script;
  CHECK_THAT(a, Catch::Contains("set logscale x"));
  CHECK_THAT(a, Catch::Contains("$d index 0 using 1:2 with linespoints lt 1 lw 2 pt 7 ps 1 title \"b=x\""));
  CHECK_THAT(a, Catch::Contains("$d index 1 using 1:2 with linespoints lt 2 lw 2 pt 7 ps 1 title \"b=y\""));
  // b=x: 100, 200, 300 at a = 1, 2, 4; b=y: 101, 201, then (4, y) infeasible -> NaN.
  CHECK_THAT(a, Catch::Contains("$d << EOD\n1 100\n2 200\n4 300\n\n\n1 101\n2 201\n4 NaN\nEOD\n"));
  // (a=2, b=x) does not fit: ringed.
  CHECK_THAT(a, Catch::Contains("$nf << EOD\n2 200\nEOD\n"));
  CHECK_THAT(a, Catch::Contains("title 'does not fit'"));
  // Against b (names: x at 0, y at 1), one line per a; a=4 keeps its one feasible point.
  p = sweep_plot(s, 1);
  REQUIRE(p.plot);
  CHECK_THAT(p.plot->script, Catch::Contains("set xtics (\"x\" 0, \"y\" 1)"));
  CHECK_THAT(p.plot->script, !Catch::Contains("logscale"));
  CHECK_THAT(p.plot->script, Catch::Contains("title \"a=4\""));
}

TEST_CASE("sweep page: a one-value key and a sweep where nothing runs are sentences", "[report]") {
  json j = sweep();
  j["vary"][1]["values"] = {"x"};
  json points = json::array();
  for (const auto& p : j["points"]) {
    if (p["index"][1] == 0) points.push_back(p);
  }
  j["points"] = points;
  CHECK_FALSE(sweep_plot(parse_sweep(j, "s.json"), 1).plot);
  for (auto& p : j["points"]) p["verdict"] = "infeasible";
  const auto none = sweep_plot(parse_sweep(j, "s.json"), 0);
  CHECK_FALSE(none.plot);
  CHECK_THAT(none.skipped, Catch::Contains("all infeasible"));
}

TEST_CASE("sweep page: a file that is not a sweep is bad input naming it", "[report]") {
  json j = sweep();
  j["schema"] = "sparsim.result/1";
  CHECK_THROWS_WITH(parse_sweep(j, "s.json"), Catch::Contains("s.json") && Catch::Contains("sparsim.sweep/1"));
  j = sweep();
  j["points"][0]["index"] = {0, 5};  // b has 2 values
  CHECK_THROWS_WITH(parse_sweep(j, "s.json"), Catch::Contains("points.0.index"));
  j = sweep();
  j["vary"][0].erase("values");
  CHECK_THROWS_WITH(parse_sweep(j, "s.json"), Catch::Contains("vary.0.values"));
}

TEST_CASE("sweep page: every plot is on the page, with the table of points", "[report]") {
  std::vector<std::string> ids;
  const Page page = build_sweep_page(sweep(), "s.json", [&](const Plot& p) {
    ids.push_back(p.id);
    return std::string("<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
  });
  CHECK(ids == std::vector<std::string>{"sweep-0", "sweep-1"});
  CHECK_THAT(page.html, Catch::StartsWith("<!DOCTYPE html>"));
  CHECK_THAT(page.html, Catch::Contains("<h2 id=\"vary-0\">Against a</h2>"));
  CHECK_THAT(page.html, Catch::Contains("does-not-fit"));
}
