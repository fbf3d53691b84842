// The plan search's page (reports/src/plan_page.hpp): sparsim.plan/1 read back, the Pareto front
// of time to train and cost, the best plans side by side.
#include <catch2/catch.hpp>
#include <fstream>

#include "config/error.hpp"
#include "plan_page.hpp"

using namespace sparsim::report;
using nlohmann::json;

namespace {

/// A search over 4 device counts with --tokens and --price. The best plan of each count:
///   devices  days  cost
///        64    40   100
///       128    20   110   (faster and dearer than 64: on the front)
///       256    25   200   (slower and dearer than 128: beaten)
///       512     5   150   (fastest; dearer than 64 and 128: on the front)
/// and 32 devices where no plan runs. Front: 64, 128, 512.
json search() {
  std::ifstream in(std::string(SPARSIM_SOURCE_DIR) + "/tests/report/data/gpt3-175b-1024xa100.json");
  REQUIRE(in);
  const json base = json::parse(in);
  json sizes = json::array();
  sizes.push_back({{"devices", 32}, {"plans", 10}, {"runs", 0}, {"does_not_fit", 10}, {"infeasible", 0}, {"best", json::array()}});
  const std::vector<std::tuple<int, double, double>> best{{64, 40, 100}, {128, 20, 110}, {256, 25, 200}, {512, 5, 150}};
  for (const auto& [devices, days, cost] : best) {
    json r = base;
    r["tokens_per_s"] = 1e12 / (days * 86400);
    json b{{"rank", 1}, {"plan", "tp 8 pp 4"}, {"days", days}, {"device_hours", cost / 2}, {"cost", cost}, {"result", r}};
    json second = b;
    second["rank"] = 2;
    sizes.push_back({{"devices", devices}, {"plans", 100}, {"runs", 60}, {"does_not_fit", 30}, {"infeasible", 10},
                     {"best", {b, second}}, {"runner_up", {{"rank", 3}, {"plan", "tp 4 pp 8"}, {"loses_by", "+0.4 s pipeline bubble"}}}});
  }
  sizes[1]["verified"] = {{{"des_rank", 1}, {"rank", 2}, {"plan", "tp 8 pp 4"}, {"analytic_step_time_s", 2.0}, {"des_step_time_s", 2.1}}};
  return {{"schema", "sparsim.plan/1"}, {"scenario", "s"}, {"file", "s.yaml"}, {"tokens", 1e12}, {"price", 2.0},
          {"configurations", 410}, {"sizes", sizes}};
}

}  // namespace

TEST_CASE("plan page: the front holds the counts no other count beats on both time and cost", "[report]") {
  PlanData p = parse_plan(search(), "p.json");
  REQUIRE(p.sizes.size() == 5);
  CHECK(p.sizes[0].best.empty());
  CHECK(p.sizes[1].best.size() == 2);
  CHECK(p.sizes[1].runner_up == "#3 (tp 4 pp 8) loses: +0.4 s pipeline bubble");
  REQUIRE(p.sizes[1].verified.size() == 1);
  CHECK(p.sizes[1].verified[0].des_step_s == 2.1);
  // indices into sizes: 64 -> 1, 128 -> 2, 512 -> 4 (see search())
  CHECK(pareto_front(p) == std::vector<std::size_t>{1, 2, 4});
  // without a price the second axis is devices: 64 (fewest), 128 (faster than 64), 512 (fastest);
  // 256 is slower than 128 on more devices
  p.price = 0;
  CHECK(pareto_front(p) == std::vector<std::size_t>{1, 2, 4});
  // a count as fast as another on fewer devices beats it: 256 at 20 days loses to 128 at 20
  p.sizes[3].best[0].days = 20;
  CHECK(pareto_front(p) == std::vector<std::size_t>{1, 2, 4});
}

TEST_CASE("plan page: the front plot and the cost plot carry each count's best", "[report]") {
  const PlanData p = parse_plan(search(), "p.json");
  const auto front = plan_front_plot(p);
  REQUIRE(front.plot);
  CHECK_THAT(front.plot->script, Catch::Contains("$d << EOD\n64 40\n128 20\n256 25\n512 5\nEOD\n"));
  CHECK_THAT(front.plot->script, Catch::Contains("$f << EOD\n64 40\n128 20\n512 5\nEOD\n"));
  CHECK_THAT(front.plot->script, Catch::Contains("set logscale x 2"));
  CHECK_THAT(front.plot->script, Catch::Contains("days to train 1T tokens"));
  const auto cost = plan_cost_plot(p);
  REQUIRE(cost.plot);
  // the front in order of time: 512 (5 days), 128 (20), 64 (40)
  CHECK_THAT(cost.plot->script, Catch::Contains("$f << EOD\n5 150\n20 110\n40 100\nEOD\n"));
  // no price: no cost plot, said so; one count with a plan: no front plot
  PlanData q = p;
  q.price = 0;
  CHECK_FALSE(plan_cost_plot(q).plot);
  q.sizes.resize(2);
  CHECK_FALSE(plan_front_plot(q).plot);
}

TEST_CASE("plan page: a file that is not a plan search, or lacks the plans' results, is bad input naming it", "[report]") {
  json j = search();
  j["schema"] = "sparsim.sweep/1";
  CHECK_THROWS_WITH(parse_plan(j, "p.json"), Catch::Contains("p.json") && Catch::Contains("sparsim.plan/1"));
  j = search();
  j["sizes"][1]["best"][0].erase("result");
  CHECK_THROWS_WITH(parse_plan(j, "p.json"), Catch::Contains("sizes.1.best.0.result") && Catch::Contains("run sparsim plan --json again"));
  j = search();
  j["sizes"][2]["devices"] = "many";
  CHECK_THROWS_WITH(parse_plan(j, "p.json"), Catch::Contains("sizes.2.devices"));
  j = search();
  j["sizes"][2]["best"][0]["days"] = 0;
  CHECK_THROWS_WITH(parse_plan(j, "p.json"), Catch::Contains("sizes.2.best.0"));
  j = search();
  j["sizes"][1]["verified"][0].erase("des_step_time_s");
  CHECK_THROWS_WITH(parse_plan(j, "p.json"), Catch::Contains("sizes.1.verified.0.des_step_time_s"));
}

TEST_CASE("plan page: the plots, the side-by-side breakdowns and every count's table", "[report]") {
  std::vector<std::string> ids;
  const Page page = build_plan_page(search(), "p.json", [&](const Plot& p) {
    ids.push_back(p.id);
    return std::string("<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
  });
  CHECK(ids == std::vector<std::string>{"plan-front", "plan-cost", "breakdown", "memory-device"});
  CHECK_THAT(page.html, Catch::StartsWith("<!DOCTYPE html>"));
  CHECK_THAT(page.html, Catch::Contains("<h3 id=\"devices-32\">32 devices</h3>"));
  CHECK_THAT(page.html, Catch::Contains("No plan runs on this many devices."));
  CHECK_THAT(page.html, Catch::Contains("Runner-up #3 (tp 4 pp 8) loses: +0.4 s pipeline bubble."));
  CHECK_THAT(page.html, Catch::Contains("+5.00%"));  // the DES's 2.1 s against the analytic 2.0 s
}
