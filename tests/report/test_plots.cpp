// The gnuplot scripts and the data they carry (reports/src/plots.hpp). Pure: nothing is run.
#include <catch2/catch.hpp>

#include "plots.hpp"

using namespace sparsim::report;

namespace {
/// A result with breakdown (compute, tp, pp) = (c, t, p) s and everything else zero.
Result make(const std::string& label, double c, double t, double p, int devices = 8) {
  Result r;
  r.label = r.scenario = label;
  r.backend = "analytic";
  r.devices = devices;
  const char* keys[] = {"compute", "exposed_comm.tp", "exposed_comm.pp", "exposed_comm.dp", "exposed_comm.ep",
                        "pipeline_bubble", "h2d", "d2h", "host_optimizer", "optimizer"};
  const char* labels[] = {"compute", "TP comm", "PP comm", "DP comm", "EP comm", "pipeline bubble",
                          "H2D copies", "D2H copies", "host optimizer", "optimizer"};
  for (int i = 0; i < 10; ++i) r.breakdown_s.push_back({keys[i], labels[i], 0});
  r.breakdown_s[0].value = c;
  r.breakdown_s[1].value = t;
  r.breakdown_s[2].value = p;
  r.step_time_s = c + t + p;
  r.tokens_per_s = 1000 / r.step_time_s;  // 1000 tokens per step
  for (const char* k : {"params", "grads", "optimizer", "activations", "buffers"}) r.device_bytes.push_back({k, k, 0});
  return r;
}
}  // namespace

TEST_CASE("plots: gnuplot strings are quoted and cannot break out", "[report]") {
  // Data files have no escapes: '"' becomes "'", '\' becomes '/', newlines spaces.
  CHECK(gnuplot_string("moe_64") == "\"moe_64\"");
  CHECK(gnuplot_string("a\"b\\c\nd") == "\"a'b/c d\"");
}

TEST_CASE("plots: breakdown rows keep compute and the terms some result uses", "[report]") {
  // a: compute 2, tp 1, pp 0; b: compute 3, tp 0, pp 0.5. TP is used by a, PP by b; the other
  // seven terms are zero in both and are dropped, so each row is label compute tp pp.
  const std::vector<Result> rs{make("a", 2, 1, 0), make("b", 3, 0, 0.5)};
  std::vector<std::string> terms;
  const std::string rows = breakdown_rows(rs, terms);
  CHECK(terms == std::vector<std::string>{"compute", "TP comm", "PP comm"});
  CHECK(rows == "\"a\" 2 1 0\n\"b\" 3 0 0.5\n");
  // Only compute when nothing else is used (a compute-only step).
  breakdown_rows({make("c", 4, 0, 0)}, terms);
  CHECK(terms == std::vector<std::string>{"compute"});
}

TEST_CASE("plots: the breakdown script stacks one column per kept term", "[report]") {
  const auto p = breakdown_plot({make("a", 2, 1, 0), make("b", 3, 0, 0.5)});
  REQUIRE(p.plot);
  const std::string& s = p.plot->script;
  CHECK_THAT(s, Catch::StartsWith("set terminal svg"));
  CHECK_THAT(s, Catch::Contains("set style histogram rowstacked"));
  // three terms -> columns 2, 3, 4; the labels are column 1
  CHECK_THAT(s, Catch::Contains("$d using 2:xtic(1) title \"compute\", '' using 3 title \"TP comm\", '' using 4 "
                                "title \"PP comm\""));
  CHECK_THAT(s, !Catch::Contains("using 5"));
}

TEST_CASE("plots: infeasible results are not drawn", "[report]") {
  Result bad = make("bad", 0, 0, 0);
  bad.feasible = false;
  const auto p = breakdown_plot({bad});
  CHECK_FALSE(p.plot);
  CHECK_THAT(p.skipped, Catch::Contains("No feasible result"));
  const auto q = breakdown_plot({make("ok", 1, 0, 0), bad});
  REQUIRE(q.plot);
  CHECK_THAT(q.plot->script, !Catch::Contains("\"bad\""));
}

TEST_CASE("plots: device memory marks the capacity in GiB", "[report]") {
  // 2 GiB of params and 6 GiB of optimizer against 80 GiB: the row is label 2 0 6 0 0 80, and the
  // capacity column (7) is drawn as a black mark.
  Result r = make("a", 1, 0, 0);
  r.device_bytes[0].value = 2.0 * (1 << 30);
  r.device_bytes[2].value = 6.0 * (1 << 30);
  r.device_capacity_bytes = 80.0 * (1 << 30);
  const auto p = device_memory_plot({r});
  REQUIRE(p.plot);
  CHECK_THAT(p.plot->script, Catch::Contains("\"a\" 2 0 6 0 0 80\n"));
  CHECK_THAT(p.plot->script, Catch::Contains("using 0:7:(0.4) with xerrorbars"));
}

TEST_CASE("plots: variants need two results and give ratios to the first", "[report]") {
  // step times 4 s and 2 s at 1000 tokens per step: 250 and 500 tokens/s, ratio 2.00x.
  const std::vector<Result> rs{make("moe", 4, 0, 0), make("ecss", 2, 0, 0)};
  const auto ratios = tokens_ratios(rs);
  REQUIRE(ratios.size() == 2);
  CHECK(ratios[0] == Approx(1.0));
  CHECK(ratios[1] == Approx(2.0));
  const auto p = variants_plot(rs);
  REQUIRE(p.plot);
  CHECK_THAT(p.plot->script, Catch::Contains("\"ecss\" 500 \"2.00x\""));
  CHECK_FALSE(variants_plot({rs[0]}).plot);
  CHECK_THAT(variants_plot({rs[0]}).skipped, Catch::Contains("One result"));
  Result zero = make("z", 1, 0, 0);
  zero.tokens_per_s = 0;
  CHECK(tokens_ratios({zero, rs[0]}).empty());
  CHECK_FALSE(variants_plot({zero, rs[0]}).plot);
}

TEST_CASE("plots: a scaling curve needs two device counts among predictions", "[report]") {
  // 16 and 8 devices (given out of order) -> sorted 8, 16; a measured result and an unknown
  // device count (0) are left out; one size only -> no curve.
  Result m = make("m", 1, 0, 0, 32);
  m.backend = "measured";
  const std::vector<Result> rs{make("big", 1, 0, 0, 16), make("small", 1, 0, 0, 8), m, make("u", 1, 0, 0, 0)};
  const auto pts = scaling_points(rs);
  REQUIRE(pts.size() == 2);
  CHECK(pts[0].devices == 8);
  CHECK(pts[0].label == "small");
  CHECK(pts[1].devices == 16);
  CHECK(scaling_plot(rs).plot);
  CHECK(scaling_points({make("a", 1, 0, 0, 8), make("b", 2, 0, 0, 8), m}).empty());
  CHECK_THAT(scaling_plot({make("a", 1, 0, 0, 8)}).skipped, Catch::Contains("one cluster size"));
}

TEST_CASE("plots: measured results pair with the prediction of the same scenario", "[report]") {
  // measured x: compute 2, tp 1 (step 3); predicted x: compute 2.2, tp 0.8 (step 3).
  // rows: step time (3 vs 3, error 0), compute (2 vs 2.2, +10 %), TP comm (1 vs 0.8, -20 %);
  // zero measured terms are not compared. y has no prediction: unpaired.
  Result mx = make("x", 2, 1, 0);
  mx.backend = "measured";
  Result my = make("y", 1, 0, 0);
  my.backend = "measured";
  const std::vector<Result> rs{make("x", 2.2, 0.8, 0), mx, my};
  std::vector<std::string> unpaired;
  const auto pairs = measured_pairs(rs, unpaired);
  REQUIRE(pairs.size() == 1);
  CHECK(pairs[0].measured == &rs[1]);
  CHECK(pairs[0].predicted == &rs[0]);
  REQUIRE(pairs[0].rows.size() == 3);
  CHECK(pairs[0].rows[0].metric == "step time");
  CHECK(pairs[0].rows[0].error() == Approx(0.0).margin(1e-12));
  CHECK(pairs[0].rows[1].error() == Approx(0.1));
  CHECK(pairs[0].rows[2].metric == "TP comm");
  CHECK(pairs[0].rows[2].error() == Approx(-0.2));
  CHECK(unpaired == std::vector<std::string>{"y"});
  const auto p = measured_plot(rs);
  REQUIRE(p.plot);
  CHECK_THAT(p.plot->script, Catch::Contains("set logscale xy"));
  CHECK_THAT(measured_plot({make("x", 1, 0, 0)}).skipped, Catch::Contains("No result has backend \"measured\""));
}
