// The sweep (analysis/): --vary parsing, the grid and its order, and each point's scenario
// against the reference, simulate's loader with the point's values as --set.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "analysis/grid.hpp"
#include "analysis/sweep.hpp"
#include "analysis/sweep_output.hpp"
#include "config/error.hpp"
#include "config/loader.hpp"
#include "sim/analytic.hpp"

using namespace sparsim;
using analysis::AxisKind;
using analysis::parse_vary;
using Strings = std::vector<std::string>;

namespace {

std::string data(const std::string& f) { return std::string(SPARSIM_TEST_DATA) + "/" + f; }

/// The message of the InputError that `f` must throw.
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("expected an InputError");
  return "";
}

std::string vary_error(const std::string& arg) { return error_of([&] { parse_vary(arg); }); }

}  // namespace

TEST_CASE("sweep: a list keeps its values as written; numbers when they share a unit", "[sweep]") {
  auto a = parse_vary("plan.tp=1,2,4");
  CHECK(a.key == "plan.tp");
  CHECK(a.kind == AxisKind::list);
  CHECK(a.values == Strings{"1", "2", "4"});
  CHECK(a.numbers == std::vector<double>{1, 2, 4});
  // Units as in YAML, spaces around commas dropped: numeric axis in "us".
  a = parse_vary("cluster.network.latency=1 us, 5 us");
  CHECK(a.values == Strings{"1 us", "5 us"});
  CHECK(a.numbers == std::vector<double>{1, 5});
  CHECK(a.unit == "us");
  // Names, or numbers in two units: categorical (no numbers).
  CHECK(parse_vary("plan.placement=device,ecss").numbers.empty());
  CHECK(parse_vary("cluster.node.nic.bandwidth=100 Gbps,25 GB/s").numbers.empty());
  // A YAML list is one value: commas inside [] do not split.
  CHECK(parse_vary("model.moe.layers=[0,2],[1,3]").values == Strings{"[0,2]", "[1,3]"});
  // A file path with ".." is a list value, not a range (no number before "..").
  CHECK(parse_vary("cluster.node=../hw/a.yaml").values == Strings{"../hw/a.yaml"});
}

TEST_CASE("sweep: arithmetic ranges include the end when a step lands on it", "[sweep]") {
  auto a = parse_vary("training.micro_batch=1..4+1");
  CHECK(a.kind == AxisKind::arithmetic);
  CHECK(a.values == Strings{"1", "2", "3", "4"});
  // 1, 5, 9; 13 > 10 is past the end.
  CHECK(parse_vary("x=1..10+4").values == Strings{"1", "5", "9"});
  // 0.1 + 2 * 0.1 = 0.30000000000000004 in doubles: within 1e-9 of 0.3, so 0.3 is included and
  // printed as 0.3 (the value the loader gets is the text).
  CHECK(parse_vary("x=0.1..0.3+0.1").values == Strings{"0.1", "0.2", "0.3"});
  // a == b: one point.
  CHECK(parse_vary("x=5..5+1").values == Strings{"5"});
  // One unit, written on any of the numbers, carried to every value.
  a = parse_vary("cluster.node.device.memory=16 GiB..64 GiB+16 GiB");
  CHECK(a.values == Strings{"16 GiB", "32 GiB", "48 GiB", "64 GiB"});
  CHECK(a.unit == "GiB");
  CHECK(parse_vary("x=1..3+1 us").values == Strings{"1 us", "2 us", "3 us"});
}

TEST_CASE("sweep: geometric ranges multiply by the factor", "[sweep]") {
  auto a = parse_vary("cluster.nodes=8..64*2");
  CHECK(a.kind == AxisKind::geometric);
  CHECK(a.values == Strings{"8", "16", "32", "64"});
  CHECK(a.numbers == std::vector<double>{8, 16, 32, 64});
  // log(1000) / log(10) = 2.9999999999999996 in doubles: the epsilon keeps 1000 in.
  CHECK(parse_vary("x=1..1000*10").values == Strings{"1", "10", "100", "1000"});
  // 1, 3, 9; 27 > 10.
  CHECK(parse_vary("x=1..10*3").values == Strings{"1", "3", "9"});
  CHECK(parse_vary("cluster.node.nic.bandwidth=100 Gbps..400 Gbps*2").values ==
        Strings{"100 Gbps", "200 Gbps", "400 Gbps"});
}

TEST_CASE("sweep: bad --vary names the key and what was expected", "[sweep]") {
  using Catch::Contains;
  CHECK_THAT(vary_error("plan.tp=4..1+1"), Contains("key 'plan.tp'") && Contains("start 4 is greater than the end 1"));
  CHECK_THAT(vary_error("plan.tp=1..4+0"), Contains("key 'plan.tp'") && Contains("expected a step > 0, found 0"));
  CHECK_THAT(vary_error("plan.tp=1..4+-1"), Contains("expected a step > 0, found -1"));
  CHECK_THAT(vary_error("plan.tp=1..8*1"), Contains("key 'plan.tp'") && Contains("expected a factor > 1, found 1"));
  CHECK_THAT(vary_error("plan.tp=1..8*0.5"), Contains("expected a factor > 1"));
  CHECK_THAT(vary_error("plan.tp=0..8*2"), Contains("a geometric range needs a start > 0"));
  CHECK_THAT(vary_error("plan.tp=1..8"), Contains("key 'plan.tp'") && Contains("expected a step"));
  CHECK_THAT(vary_error("plan.tp=1..x+1"), Contains("expected a number after '..'"));
  CHECK_THAT(vary_error("plan.tp=1..8+y"), Contains("expected a number after '+'"));
  CHECK_THAT(vary_error("m=1 GB..4 GiB+1"), Contains("key 'm'") && Contains("different units ('GB' and 'GiB')"));
  CHECK_THAT(vary_error("m=1 GiB..4 GiB*2 GiB"), Contains("a factor has no unit"));
  // (100000 - 1) / 1 + 1 = 100000 points > kMaxPoints = 10000.
  CHECK_THAT(vary_error("plan.tp=1..100000+1"), Contains("key 'plan.tp'") && Contains("100000 points; at most 10000"));
  CHECK_THAT(vary_error("plan.tp=1,,2"), Contains("key 'plan.tp'") && Contains("empty value in the list"));
  CHECK_THAT(vary_error("plan.tp=1,2,"), Contains("empty value in the list"));
  CHECK_THAT(vary_error("plan.tp=1,2,1"), Contains("key 'plan.tp'") && Contains("value '1' is listed twice"));
  CHECK_THAT(vary_error("plan.tp="), Contains("key 'plan.tp'") && Contains("empty value"));
  CHECK_THAT(vary_error("plan.tp"), Contains("--vary plan.tp") && Contains("expected key.path="));
  CHECK_THAT(vary_error("=1,2"), Contains("expected key.path="));
}

TEST_CASE("sweep: the grid is the product, the first --vary varying slowest", "[sweep]") {
  const std::vector<analysis::Axis> axes{parse_vary("a=1,2"), parse_vary("b=x,y,z")};
  // 2 x 3 = 6 points; as nested loops `for a: for b:`.
  CHECK(analysis::grid_size(axes) == 6);
  const std::vector<std::vector<std::size_t>> order{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}};
  CHECK(analysis::grid(axes) == order);
  // No axes: one point, the scenario itself.
  CHECK(analysis::grid({}) == std::vector<std::vector<std::size_t>>{{}});
  // 200 x 100 = 20000 > 10000: the message names both keys and their sizes.
  const std::vector<analysis::Axis> big{parse_vary("p=1..200+1"), parse_vary("q=1..100+1")};
  CHECK_THAT(error_of([&] { analysis::grid_size(big); }),
             Catch::Contains("20000 points (p: 200 x q: 100); at most 10000"));
  // A key varied twice, or both varied and set.
  CHECK_THAT(error_of([&] { analysis::check_keys({parse_vary("a=1"), parse_vary("a=2")}, {}); }),
             Catch::Contains("key 'a'") && Catch::Contains("varied twice"));
  CHECK_THAT(error_of([&] { analysis::check_keys({parse_vary("a=1")}, {"a=3"}); }),
             Catch::Contains("--set a=3") && Catch::Contains("also varied"));
}

TEST_CASE("sweep: each point is the scenario simulate loads with its values as --set", "[sweep]") {
  // Reference: load_scenario(FILE, sets + the point's key=value), the files read afresh. The
  // point reuses one read of the files; reading a scenario writes defaults into its tree
  // (expert_ffn_hidden defaults to ffn_hidden), so a point that reused another's tree would get
  // the first point's 512 at the second.
  const std::vector<analysis::Axis> axes{parse_vary("model.ffn_hidden=512,1024"), parse_vary("plan.zero=0..1+1")};
  const analysis::Sweep s(data("tiny-moe.yaml"), {"training.micro_batch=1"}, axes);
  REQUIRE(s.points().size() == 4);
  CHECK(s.points()[1].assignments == Strings{"model.ffn_hidden=512", "plan.zero=1"});
  // Evaluated back to front, as a process given the last points would: the same results.
  for (std::size_t i = s.points().size(); i-- > 0;) {
    Strings sets{"training.micro_batch=1"};
    for (const auto& a : s.points()[i].assignments) sets.push_back(a);
    const Scenario ref = config::load_scenario(data("tiny-moe.yaml"), sets).scenario;
    const Scenario got = s.scenario(i);
    CHECK(got.model.moe->expert_ffn_hidden == ref.model.ffn_hidden);
    CHECK(got.training.micro_batch == 1);
    CHECK(sim::to_json(sim::analytic_step(got)) == sim::to_json(sim::analytic_step(ref)));
  }
}

TEST_CASE("sweep: a bad value is the error simulate gives, naming the key, value and line", "[sweep]") {
  // A value the key rejects: the origin is the --vary, the key is named.
  const analysis::Sweep a(data("tiny.yaml"), {}, {parse_vary("cluster.nodes=2,-1")});
  CHECK_THAT(error_of([&] { a.scenario(1); }),
             Catch::Contains("--vary cluster.nodes=-1") && Catch::Contains("key 'cluster.nodes'"));
  // A value that makes another key wrong: 9 experts in 2 domains. The copied tree has no lines,
  // so the point is read again from its files: tiny-moe.yaml line 19 "    domains: 2", the
  // value at column 14 -- what simulate --set says, and the point that made it wrong.
  const analysis::Sweep b(data("tiny-moe.yaml"), {}, {parse_vary("model.moe.experts=8,9")});
  const std::string e = error_of([&] { b.scenario(1); });
  CHECK_THAT(e, Catch::Contains("tiny-moe.yaml:19:14") && Catch::Contains("key 'model.moe.domains'"));
  const std::string simulate = error_of([&] { config::load_scenario(data("tiny-moe.yaml"), {"model.moe.experts=9"}); });
  CHECK(e == simulate + " (at the sweep point model.moe.experts=9)");
  // evaluate() reads every point before it reports any: the bad last point stops the sweep.
  CHECK_THAT(error_of([&] { analysis::evaluate(b, analysis::Backend::analytic); }), Catch::Contains("tiny-moe.yaml:19:14"));
}

TEST_CASE("sweep: a --set inside a varied key applies after the value that replaces it", "[sweep]") {
  // --vary cluster.node=FILE replaces the whole node at every point; --set cluster.node.nic.count=1
  // must then apply to the new node (node.yaml has count 2).
  const analysis::Sweep s(data("tiny.yaml"), {"cluster.node.nic.count=1"}, {parse_vary("cluster.node=" + data("node.yaml"))});
  CHECK(s.scenario(0).cluster.node.nic.count == 1);
}

TEST_CASE("sweep: infeasible points are rows with their verdict", "[sweep]") {
  // tiny: 8 devices = tp 2 x pp 2 x dp 2. tp = 4 makes 16 != 8: infeasible, not an error.
  const analysis::Sweep s(data("tiny.yaml"), {}, {parse_vary("plan.tp=2,4")});
  const auto results = analysis::evaluate(s, analysis::Backend::analytic);
  REQUIRE(results.size() == 2);
  CHECK(analysis::verdict(results[0]) == "runs");
  CHECK(analysis::verdict(results[1]) == "infeasible");
  const auto j = analysis::sweep_json(s, "analytic", results);
  CHECK(j.at("schema") == "sparsim.sweep/1");
  CHECK(j.at("points").at(1).at("values").at("plan.tp") == "4");
  CHECK(j.at("points").at(1).at("result").at("schema") == "sparsim.result/1");
  const std::string table = analysis::sweep_table(s, "analytic", results);
  CHECK_THAT(table, Catch::Contains("plan.tp=4: infeasible:"));
  // CSV: a header and one row per point, the varied value first.
  const std::string csv = analysis::sweep_csv(s, results);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 3);
  CHECK_THAT(csv, Catch::StartsWith("plan.tp,scenario,backend,verdict,"));
  CHECK_THAT(csv, Catch::Contains("\n4,tiny,analytic,infeasible,false,"));
}
