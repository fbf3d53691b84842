#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "config/error.hpp"
#include "config/loader.hpp"

using namespace sparsim;

namespace {
std::string data(const std::string& f) { return std::string(SPARSIM_TEST_DATA) + "/" + f; }

// Loads `file` and returns the InputError it must raise.
InputError error_of(const std::string& file, const std::vector<std::string>& sets = {}) {
  try {
    config::load_scenario(data(file), sets);
  } catch (const InputError& e) {
    return e;
  }
  FAIL("expected an InputError from " << file);
  throw;  // unreachable
}
}  // namespace

TEST_CASE("loader: a valid scenario with an include loads into SI values", "[loader]") {
  const auto l = config::load_scenario(data("tiny.yaml"));
  const Scenario& s = l.scenario;
  REQUIRE(s.name == "tiny");
  REQUIRE(s.cluster.devices() == 8);                                // 2 nodes x 4
  REQUIRE(s.cluster.node.device.memory == 16.0 * (1ull << 30));     // "16 GiB"
  REQUIRE(s.cluster.node.nic.bandwidth == Approx(10e9));            // "80 Gbps" / 8
  REQUIRE(s.cluster.network.latency == Approx(1e-6));
  REQUIRE(s.plan.schedule == Schedule::one_f_one_b);                 // default
  REQUIRE(s.training.optimizer == Optimizer::adam);                  // default
}

TEST_CASE("loader: every error names file, line, column and key", "[loader]") {
  // tiny.yaml: 'hidden' is line 9, indented by 2 -> column 3
  auto e = error_of("err_unknown_key.yaml");
  CHECK(e.origin().file == data("err_unknown_key.yaml"));
  CHECK(e.origin().line == 9);
  CHECK(e.origin().column == 3);
  CHECK(e.key_path() == "model.hiden");
  CHECK_THAT(e.message(), Catch::Contains("unknown key"));

  e = error_of("err_wrong_type.yaml");
  CHECK(e.key_path() == "model.layers");
  CHECK(e.origin().line == 8);
  CHECK(e.origin().column == 11);
  CHECK_THAT(e.message(), Catch::Contains("expected an integer") && Catch::Contains("four"));

  e = error_of("err_missing_key.yaml");
  CHECK(e.key_path() == "model.vocab");
  CHECK_THAT(e.message(), Catch::Contains("missing required key"));

  e = error_of("err_zero.yaml");
  CHECK(e.key_path() == "model.layers");
  CHECK_THAT(e.message(), Catch::Contains("expected an integer in [1, 2147483647], found 0"));

  e = error_of("err_bad_unit.yaml");
  CHECK(e.key_path() == "cluster.network.latency");
  CHECK(e.origin().line == 5);
  CHECK_THAT(e.message(), Catch::Contains("unknown unit 'parsec'"));

  e = error_of("err_bad_choice.yaml");
  CHECK(e.key_path() == "plan.schedule");
  CHECK_THAT(e.message(), Catch::Contains("known: gpipe, 1f1b, interleaved"));

  // Routers, placements and RRE domain layouts are the policies the trainer shares
  // (config/enums.hpp): the error names the kind and lists every name of its table.
  e = error_of("tiny-moe.yaml", {"model.moe.router=rrr"});
  CHECK(e.key_path() == "model.moe.router");
  CHECK_THAT(e.message(), Catch::Equals("unknown router 'rrr'; known: rre, topk, hash, switch"));
  e = error_of("tiny.yaml", {"plan.placement=host"});
  CHECK_THAT(e.message(), Catch::Equals("unknown placement 'host'; known: device, offload, ecss"));

  // plan.overlap_ep pairs a forward with a later backward, which GPipe never runs
  e = error_of("tiny-moe.yaml", {"plan.schedule=gpipe", "plan.overlap_ep=true"});
  CHECK(e.key_path() == "plan.overlap_ep");
  CHECK_THAT(e.message(), Catch::Contains("expected schedule 1f1b or interleaved"));
  e = error_of("tiny-moe.yaml", {"plan.overlap_ep=sometimes"});
  CHECK(e.key_path() == "plan.overlap_ep");

  e = error_of("err_syntax.yaml");
  CHECK(e.origin().line >= 1);
  CHECK_THAT(e.message(), Catch::Contains("YAML syntax error"));
}

TEST_CASE("loader: includes are resolved relative to the including file, errors point into them", "[loader]") {
  auto e = error_of("err_missing_file.yaml");
  CHECK(e.key_path() == "cluster.node");
  CHECK(e.origin().file == data("err_missing_file.yaml"));
  CHECK(e.origin().line == 3);
  CHECK_THAT(e.message(), Catch::Contains("cannot open") && Catch::Contains("nowhere.yaml"));

  e = error_of("err_cycle.yaml");
  CHECK_THAT(e.message(), Catch::Contains("include cycle"));

  // node_negative.yaml line 7: '  memory: -16 GiB'
  e = error_of("err_negative_in_include.yaml");
  CHECK(e.origin().file == data("node_negative.yaml"));
  CHECK(e.origin().line == 7);
  CHECK(e.key_path() == "cluster.node.device.memory");
  CHECK_THAT(e.message(), Catch::Contains("positive"));
}

TEST_CASE("loader: --set overrides any key, inside includes too, and is named in errors", "[loader]") {
  const auto l = config::load_scenario(data("tiny.yaml"), {"plan.tp=4", "cluster.node.device.memory=\"32 GiB\"", "plan.dp=1"});
  CHECK(l.scenario.plan.tp == 4);
  CHECK(l.scenario.cluster.node.device.memory == 32.0 * (1ull << 30));

  auto e = error_of("tiny.yaml", {"plan.tq=4"});
  CHECK(e.key_path() == "plan.tq");
  CHECK(e.origin().file == "--set plan.tq=4");

  e = error_of("tiny.yaml", {"plan.tp=-1"});
  CHECK(e.key_path() == "plan.tp");

  e = error_of("tiny.yaml", {"no_equals_sign"});
  CHECK_THAT(e.message(), Catch::Contains("key.path=value"));

  e = error_of("tiny.yaml", {"name.inner=3"});  // 'name' is a scalar
  CHECK_THAT(e.message(), Catch::Contains("non-mapping"));
}

TEST_CASE("loader: the resolved configuration loads again to the same scenario", "[loader]") {
  const auto l = config::load_scenario(data("tiny.yaml"), {"plan.pp=1", "plan.dp=4"});
  const std::string text = l.tree.emit();
  CHECK_THAT(text, Catch::Contains("test accelerator"));  // include inlined
  CHECK_THAT(text, Catch::Contains("schedule: 1f1b"));     // default written out
  const std::string path = (std::filesystem::temp_directory_path() / "sparsim-resolved-roundtrip.yaml").string();
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }
  const auto again = config::load_scenario(path);
  CHECK(again.scenario.plan.dp == 4);
  CHECK(again.scenario.cluster.node.device.memory == l.scenario.cluster.node.device.memory);
  CHECK(again.scenario.cluster.network.latency == Approx(l.scenario.cluster.network.latency).epsilon(1e-12));
  std::remove(path.c_str());
}

TEST_CASE("loader: inputs that crashed it are input errors (fuzz regressions)", "[loader]") {
  // err_key_not_scalar.yaml line 18: "[plan, tp]: 2", a list used as a key at column 1 (fuzz_scenario:
  // yaml-cpp's BadConversion escaped and sparsim aborted).
  auto e = error_of("err_key_not_scalar.yaml");
  CHECK(e.origin().file == data("err_key_not_scalar.yaml"));
  CHECK(e.origin().line == 18);
  CHECK(e.origin().column == 1);
  CHECK_THAT(e.message(), Catch::Contains("single value"));
  // The same inside a list item, which only the typed reader sees (includes are not looked for
  // in lists): a gemm_efficiency point whose key is a mapping.
  e = error_of("tiny.yaml", {"cluster.node.device.gemm_efficiency=[{{a: 1}: 2}]"});
  CHECK(e.key_path() == "cluster.node.device.gemm_efficiency.0");
  CHECK_THAT(e.message(), Catch::Contains("single value"));

  // err_int_overflow.yaml line 12: "heads: 4294967296" = 2^32, which wrapped to 0 as an int and
  // divided by zero; an int-sized key accepts at most 2^31 - 1 = 2147483647.
  e = error_of("err_int_overflow.yaml");
  CHECK(e.key_path() == "model.heads");
  CHECK(e.origin().line == 12);
  CHECK_THAT(e.message(), Catch::Contains("in [1, 2147483647]"));
  // layers: {every: 2^63 - 1} stepped a long long past its maximum (i += every, signed overflow)
  e = error_of("tiny-moe.yaml", {"model.moe.layers={every: 9223372036854775807, offset: 1}"});
  CHECK(e.key_path() == "model.moe.layers.every");
  CHECK_THAT(e.message(), Catch::Contains("in [1, 2147483647]"));

  // Aliases are refused where they are written (err_alias.yaml line 17: "*p" at column 35 inside
  // the mapping anchored as &p: the include walk recursed until the stack overflowed). Nested
  // aliases, each level twice the one before, grew the tree to 2^n nodes: 30 levels hung.
  e = error_of("err_alias.yaml");
  CHECK(e.origin().line == 17);
  CHECK(e.origin().column == 35);
  CHECK_THAT(e.message(), Catch::Contains("aliases"));
  std::string laughs = "{l0: &l0 [1, 2]";
  for (int i = 1; i < 30; ++i) laughs += ", l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l" + std::to_string(i - 1) + ", *l" + std::to_string(i - 1) + "]";
  e = error_of("tiny.yaml", {"note=" + laughs + "}"});
  CHECK(e.origin().file.rfind("--set note=", 0) == 0);
  CHECK_THAT(e.message(), Catch::Contains("aliases"));

  // "1e300 PB" overflows to inf bytes after the prefix: it was accepted as a positive size.
  e = error_of("tiny.yaml", {"cluster.node.device.memory=1e300 PB"});
  CHECK(e.key_path() == "cluster.node.device.memory");
  CHECK_THAT(e.message(), Catch::Contains("finite"));

  // An include whose file name is longer than a file name may be (255 bytes on Linux): resolving
  // it for the include-cycle check threw std::filesystem::filesystem_error, which ended sparsim
  // with exit 1 and the fuzz target with an abort (fuzz/regressions/fuzz_scenario/
  // include-path-unresolvable.yaml). Now it is the file the loader cannot open.
  e = error_of("tiny.yaml", {"cluster={node: " + std::string(300, 'n') + "/node.yaml}"});
  CHECK(e.key_path() == "cluster.node");
  CHECK_THAT(e.message(), Catch::Contains("cannot open file"));

  // A name with a control character and a byte that is not UTF-8 ("pangu-sigma-\x01rre-e\xffcss")
  // loaded, but its `--resolved` text loaded back as another name (the emitter escaped it):
  // fuzz/regressions/fuzz_scenario/name-not-utf8.yaml. YAML is UTF-8 text; other bytes are
  // refused where they are written, with their line and column.
  e = error_of("tiny.yaml", {"name=a\x01" "b"});
  CHECK(e.key_path() == "name");
  CHECK_THAT(e.message(), Catch::Contains("control character 0x01"));
  const std::string path = (std::filesystem::temp_directory_path() / "sparsim-not-utf8.yaml").string();
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    std::fputs("# caf\xc3\xa9 is UTF-8\nname: e\xff" "css\n", f);  // line 2, column 8
    std::fclose(f);
  }
  try {
    config::load_scenario(path);
    FAIL("loaded a file that is not UTF-8");
  } catch (const InputError& x) {
    CHECK(x.origin().line == 2);
    CHECK(x.origin().column == 8);
    CHECK_THAT(x.message(), Catch::Contains("byte 0xFF, not UTF-8"));
  }
  std::remove(path.c_str());

  // A list index past what an unsigned long holds: std::stoul threw out_of_range past every
  // catch (fuzz/regressions/fuzz_scenario/index-past-size-t.yaml). It is beyond the list.
  e = error_of("tiny-moe.yaml", {"model.moe.layers." + std::string(80, '6') + "=1"});
  CHECK(e.key_path() == "model.moe.layers." + std::string(80, '6'));
  CHECK_THAT(e.message(), Catch::Contains("index out of range"));
}
