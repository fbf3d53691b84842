// Reading result JSONs back for the report (reports/src/results.hpp).
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "config/error.hpp"
#include "results.hpp"

using namespace sparsim;
using namespace sparsim::report;
using nlohmann::json;

namespace {
json golden_gpt3() {
  std::ifstream in(std::string(SPARSIM_SOURCE_DIR) + "/tests/report/data/gpt3-175b-1024xa100.json");
  REQUIRE(in);
  return json::parse(in);
}

std::string error_of(const json& j) {
  try {
    parse_result(j, "r.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("results: the golden GPT-3 result parses into the typed struct", "[report]") {
  // Expected values are copied from tests/report/data/gpt3-175b-1024xa100.json (a frozen copy of
  // the GPT-3 golden result); the breakdown terms come in the fixed order compute, tp, pp, dp,
  // ep, bubble, h2d, d2h, host opt, opt.
  const Result r = parse_result(golden_gpt3(), "g.json");
  CHECK(r.scenario == "gpt3-175b-1024xa100");
  CHECK(r.backend == "analytic");
  CHECK_FALSE(r.measured());
  CHECK(r.devices == 1024);
  CHECK(r.feasible);
  CHECK(r.fits);
  CHECK(r.step_time_s == Approx(23.407225003432742));
  CHECK(r.tokens_per_s == Approx(134391.32573547994));
  REQUIRE(r.breakdown_s.size() == 10);
  CHECK(r.breakdown_s[0].label == "compute");
  CHECK(r.breakdown_s[0].value == Approx(18.914264949012914));
  CHECK(r.breakdown_s[1].key == "exposed_comm.tp");
  CHECK(r.breakdown_s[1].value == Approx(2.2229080473600002));
  CHECK(r.breakdown_s[5].label == "pipeline bubble");
  // The breakdown adds up to the step time (sim/result.hpp): the sum of the ten terms in the
  // file is 18.9143 + 2.2229 + 0.4152 + 0.2752 + 0 + 1.5413 + 0 + 0 + 0 + 0.0384 = 23.4072 s.
  double sum = 0;
  for (const auto& t : r.breakdown_s) sum += t.value;
  CHECK(sum == Approx(r.step_time_s).epsilon(1e-9));
  // Device memory: the five kinds add up to the peak, 50339453056 bytes.
  REQUIRE(r.device_bytes.size() == 5);
  double mem = 0;
  for (const auto& t : r.device_bytes) mem += t.value;
  CHECK(mem == Approx(50339453056.0));
  CHECK(r.device_capacity_bytes == Approx(85899345920.0));  // 80 GiB = 80 * 2^30
  CHECK(r.host_capacity_bytes == Approx(2199023255552.0));  // 2 TiB = 2 * 2^40
}

TEST_CASE("results: a wrong schema names the key and both values", "[report]") {
  json j = golden_gpt3();
  j["schema"] = "sparsim.result/0";
  const std::string e = error_of(j);
  CHECK_THAT(e, Catch::Contains("r.json"));
  CHECK_THAT(e, Catch::Contains("key 'schema'"));
  CHECK_THAT(e, Catch::Contains("sparsim.result/1"));
  CHECK_THAT(e, Catch::Contains("sparsim.result/0"));
  j.erase("schema");
  CHECK_THAT(error_of(j), Catch::Contains("key 'schema': missing"));
}

TEST_CASE("results: missing keys and wrong types are named by their key path", "[report]") {
  json j = golden_gpt3();
  j["breakdown_s"]["exposed_comm"].erase("ep");
  CHECK_THAT(error_of(j), Catch::Contains("key 'breakdown_s.exposed_comm.ep': missing"));
  j = golden_gpt3();
  j["memory"]["device_peak_bytes"] = "lots";
  CHECK_THAT(error_of(j), Catch::Contains("key 'memory.device_peak_bytes': expected a number, found string"));
  j = golden_gpt3();
  j["warnings"] = {1, 2};
  CHECK_THAT(error_of(j), Catch::Contains("key 'warnings': expected a list of strings"));
  CHECK_THAT(error_of(json::array()), Catch::Contains("expected a JSON object, found array"));
}

TEST_CASE("results: optional keys default, unknown keys are allowed", "[report]") {
  // `devices` and `feasible` are not in the original contract: absent means unknown (0) and
  // feasible; a key the reader does not know (the schema may grow) is ignored.
  json j = golden_gpt3();
  j.erase("devices");
  j.erase("feasible");
  j["a_future_key"] = 1;
  const Result r = parse_result(j, "r.json");
  CHECK(r.devices == 0);
  CHECK(r.feasible);
}

TEST_CASE("results: the verdict is read from the file, or derived in older results", "[report]") {
  // tests/report/data/gpt3-175b-1024xa100.json predates the verdict: feasible, 46.9 of 80 GiB
  // on the device, so it runs.
  json j = golden_gpt3();
  REQUIRE_FALSE(j.contains("verdict"));
  CHECK(parse_result(j, "r.json").verdict.kind == workload::VerdictKind::runs);
  // The same with 40 GiB devices: 50339453056 / 2^30 = 46.88 -> "46.9" of 40.0 GiB.
  j["memory"]["device_capacity_bytes"] = 40.0 * 1024 * 1024 * 1024;
  j["memory"]["fits"] = false;
  Result r = parse_result(j, "r.json");
  CHECK(r.verdict.kind == workload::VerdictKind::does_not_fit);
  CHECK(r.verdict.text() == "does not fit (device 46.9 of 40.0 GiB)");
  // Not feasible: the infeasibility list is the reason.
  j = golden_gpt3();
  j["feasible"] = false;
  j["infeasible"] = {"tp 3 does not divide heads 96"};
  CHECK(parse_result(j, "r.json").verdict.text() == "infeasible plan (tp 3 does not divide heads 96)");
  // A file's own verdict is what the page shows; a word outside the three is an error.
  j = golden_gpt3();
  j["verdict"] = "does-not-fit";
  j["verdict_reason"] = "host 3000.0 of 2048.0 GiB per node";
  r = parse_result(j, "r.json");
  CHECK(r.verdict.kind == workload::VerdictKind::does_not_fit);
  CHECK(r.verdict.reason == "host 3000.0 of 2048.0 GiB per node");
  j["verdict"] = "maybe";
  CHECK_THAT(error_of(j), Catch::Contains("key 'verdict': unknown verdict 'maybe'; known: runs, does-not-fit, infeasible"));
}

TEST_CASE("results: text that is not JSON reports line and column", "[report]") {
  // "{\n  \"a\": 1,\n  oops\n}": the parser fails at the 'o' of oops, line 3 column 3.
  try {
    parse_json_text("{\n  \"a\": 1,\n  oops\n}", "bad.json");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.origin().file == "bad.json");
    CHECK(e.origin().line == 3);
    CHECK(e.origin().column == 3);
    CHECK_THAT(std::string(e.what()), Catch::Contains("not valid JSON"));
  }
}

TEST_CASE("results: a number beyond a double is an input error with its line", "[report]") {
  // Found by fuzz_result: nlohmann reports 1e999 as out_of_range, not parse_error, and it left
  // parse_json_text uncaught (std::terminate). "{\n  \"a\": 1e999\n}": the number is on line 2,
  // columns 8-12; the parser reports the position of its last digit, column 12.
  try {
    parse_json_text("{\n  \"a\": 1e999\n}", "big.json");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.origin().file == "big.json");
    CHECK(e.origin().line == 2);
    CHECK(e.origin().column == 12);
    CHECK_THAT(std::string(e.what()), Catch::Contains("out of range"));
  }
}

TEST_CASE("results: labels are unique", "[report]") {
  // Two analytic results of scenario "a" collide, so both fall back to their file stems; the
  // measured one is "a (measured)"; two files with one stem get "#2" on the second.
  auto make = [](std::string scenario, std::string backend, std::string source) {
    Result r;
    r.scenario = std::move(scenario);
    r.backend = std::move(backend);
    r.source = std::move(source);
    return r;
  };
  std::vector<Result> rs{make("a", "analytic", "x/moe.json"), make("a", "analytic", "x/rre.json"),
                         make("a", "measured", "x/m.json"), make("b", "analytic", "p/r.json"),
                         make("b", "analytic", "q/r.json")};
  assign_labels(rs);
  CHECK(rs[0].label == "moe");
  CHECK(rs[1].label == "rre");
  CHECK(rs[2].label == "a (measured)");
  CHECK(rs[3].label == "r");
  CHECK(rs[4].label == "r#2");
}
