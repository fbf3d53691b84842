// A result's one verdict (workload/verdict.hpp) in the JSON, the table, the CSV and the compare
// table: runs, does not fit (device or host), infeasible plan.
#include <catch2/catch.hpp>

#include <sstream>

#include "config/loader.hpp"
#include "sim/analytic.hpp"
#include "sim/compare_table.hpp"
#include "sim/result.hpp"

using namespace sparsim;
using workload::Verdict;
using workload::VerdictKind;

namespace {
sim::StepResult tiny(const std::vector<std::string>& sets = {}) {
  return sim::analytic_step(config::load_scenario(std::string(SPARSIM_TEST_DATA) + "/tiny.yaml", sets).scenario);
}

std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line.substr(0, line.find('\n')));
  for (std::string f; std::getline(ss, f, ',');) out.push_back(f);
  return out;
}

/// The verdict as the JSON, the table and the CSV of `r` carry it: each must say `v`.
void check_outputs(const sim::StepResult& r, const Verdict& v) {
  const auto j = sim::to_json(r);
  CHECK(j.at("verdict") == v.word());
  CHECK(j.at("verdict_reason") == v.reason);
  // the older fields stay, and agree with it
  CHECK(j.at("feasible") == (v.kind != VerdictKind::infeasible));
  if (v.kind != VerdictKind::infeasible) CHECK(j.at("memory").at("fits") == (v.kind == VerdictKind::runs));
  // the table: one verdict line under the scenario line
  CHECK_THAT(sim::to_table(r), Catch::Contains("devices)\nverdict    " + v.text() + "\n"));
  // the CSV: a verdict column, the third (after scenario and backend)
  const auto header = fields(sim::csv_header()), row = fields(sim::to_csv_row(r));
  REQUIRE(header.size() == row.size());
  CHECK(header[2] == "verdict");
  CHECK(row[2] == v.word());
}
}  // namespace

TEST_CASE("verdict: words, table text and the reason's units", "[verdict]") {
  const std::vector<std::string> none;
  // 43879769200 of 34359738368 bytes (PanGu-Sigma MoE's device peak on an Ascend 910's 32 GiB):
  // 43879769200 / 2^30 = 40.87 -> "40.9", 2^35 / 2^30 = 32.
  Verdict v = workload::verdict_of(true, none, {43879769200.0, 34359738368.0, 0, 1});
  CHECK(v.kind == VerdictKind::does_not_fit);
  CHECK(std::string(v.word()) == "does-not-fit");
  CHECK(v.reason == "device 40.9 of 32.0 GiB");
  CHECK(v.text() == "does not fit (device 40.9 of 32.0 GiB)");
  // Both short: device first, then host per node; 5 MiB of 1 MiB on the device (the larger is
  // >= 1 MiB, < 1 GiB: MiB), 1000 of 512 bytes on the host (below 1 KiB: bytes).
  v = workload::verdict_of(true, none, {5.0 * 1024 * 1024, 1024.0 * 1024, 1000, 512});
  CHECK(v.reason == "device 5.0 of 1.0 MiB; host 1000.0 of 512.0 bytes per node");
  // Equal is enough (<=, as memory.fits): 32 GiB of 32 GiB runs.
  v = workload::verdict_of(true, none, {34359738368.0, 34359738368.0, 2e12, 2e12});
  CHECK(v.kind == VerdictKind::runs);
  CHECK(std::string(v.word()) == "runs");
  CHECK(v.reason.empty());
  CHECK(v.text() == "runs");
  // Infeasible wins over memory (an infeasible plan has no memory to fit); reasons joined by "; ".
  v = workload::verdict_of(false, {"tp 3 does not divide heads 40", "ep 7 does not divide experts 64"}, {2, 1, 2, 1});
  CHECK(std::string(v.word()) == "infeasible");
  CHECK(v.text() == "infeasible plan (tp 3 does not divide heads 40; ep 7 does not divide experts 64)");
  // The JSON words are a name table: parsing one back, and the error for one that is not.
  CHECK(names<VerdictKind>().find("does-not-fit") == VerdictKind::does_not_fit);
  CHECK(names<VerdictKind>().unknown("maybe") == "unknown verdict 'maybe'; known: runs, does-not-fit, infeasible");
}

TEST_CASE("verdict: runs, does not fit on the device, on the host, infeasible plan", "[verdict]") {
  // tests/data/tiny.yaml fits its 16 GiB devices and 256 GiB hosts (nothing on the host).
  auto r = tiny();
  REQUIRE(r.memory.fits());
  check_outputs(r, {VerdictKind::runs, ""});

  // 1 MiB devices: the device peak (params alone are > 1 MiB: 4 layers x 12 h^2 / (t p) =
  // 4 x 12 x 256^2 / 4 x 2 bytes = 1.5 MiB) passes it; the reason is in MiB (peak < 1 GiB).
  r = tiny({"cluster.node.device.memory=\"1 MiB\""});
  REQUIRE(r.feasible);
  REQUIRE_FALSE(r.memory.fit().device_fits());
  REQUIRE(r.memory.fit().host_fits());
  auto v = sim::verdict(r);
  CHECK(v.kind == VerdictKind::does_not_fit);
  CHECK_THAT(v.reason, Catch::StartsWith("device ") && Catch::EndsWith(" of 1.0 MiB"));
  check_outputs(r, v);

  // Offload keeps the optimizer state on the host: 1 MiB hosts are too small, devices fit.
  r = tiny({"plan.placement=offload", "cluster.node.host.memory=\"1 MiB\""});
  REQUIRE(r.memory.host > 1024.0 * 1024);
  REQUIRE(r.memory.fit().device_fits());
  v = sim::verdict(r);
  CHECK(v.kind == VerdictKind::does_not_fit);
  CHECK_THAT(v.reason, Catch::StartsWith("host ") && Catch::EndsWith(" of 1.0 MiB per node"));
  check_outputs(r, v);

  // 15 sequences per step: micro_batch 2 x dp 2 = 4 does not divide 15 (layout.cpp's reason).
  r = tiny({"training.global_batch=15"});
  REQUIRE_FALSE(r.feasible);
  v = sim::verdict(r);
  CHECK(v.text() == "infeasible plan (micro_batch*dp = 4 does not divide global_batch 15)");
  check_outputs(r, v);
}

TEST_CASE("verdict: the compare table has one verdict row and says why below", "[verdict]") {
  // The four cases above side by side: the verdict row has each one's short word; a variant
  // that does not run gets "name: <verdict text>" under the table, the one that runs nothing.
  const std::vector<std::string> names{"ok", "device", "host", "bad"};
  const std::vector<sim::StepResult> rs{tiny(), tiny({"cluster.node.device.memory=\"1 MiB\""}),
                                        tiny({"plan.placement=offload", "cluster.node.host.memory=\"1 MiB\""}),
                                        tiny({"training.global_batch=15"})};
  std::vector<nlohmann::json> js;
  for (const auto& r : rs) js.push_back(sim::to_json(r));
  const std::string t = sim::compare_table(names, js, 0);
  // 22 columns of label, then 16 per variant, right-aligned
  CHECK_THAT(t, Catch::Contains("\nverdict                           runs    does not fit    does not fit      infeasible\n"));
  CHECK_THAT(t, !Catch::Contains("\nfeasible") && !Catch::Contains("\n  fits"));  // the rows it replaces
  CHECK_THAT(t, !Catch::Contains("ok: "));
  for (std::size_t i = 1; i < rs.size(); ++i) CHECK_THAT(t, Catch::Contains("\n" + names[i] + ": " + sim::verdict(rs[i]).text() + "\n"));
}
