// The page (reports/src/report.hpp, html.hpp) and the gnuplot subprocess (gnuplot.hpp).
#include <catch2/catch.hpp>
#include <fstream>

#include "config/error.hpp"
#include "html.hpp"
#include "report.hpp"

using namespace sparsim::report;
using nlohmann::json;

namespace {
json golden(const std::string& name) {
  std::ifstream in(std::string(SPARSIM_SOURCE_DIR) + "/tests/report/data/" + name + ".json");
  REQUIRE(in);
  return json::parse(in);
}

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

/// Stands in for gnuplot: remembers the plot ids and returns a minimal SVG.
struct FakeRenderer {
  std::vector<std::string>* ids;
  std::string operator()(const Plot& p) const {
    ids->push_back(p.id);
    return "<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
  }
};
}  // namespace

TEST_CASE("page: html escaping", "[report]") {
  CHECK(html_escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;");
}

TEST_CASE("page: base64 matches the RFC 4648 test vectors", "[report]") {
  // RFC 4648 section 10.
  CHECK(base64("") == "");
  CHECK(base64("f") == "Zg==");
  CHECK(base64("fo") == "Zm8=");
  CHECK(base64("foo") == "Zm9v");
  CHECK(base64("foob") == "Zm9vYg==");
  CHECK(base64("fooba") == "Zm9vYmE=");
  CHECK(base64("foobar") == "Zm9vYmFy");
  // high bytes are unsigned: 0xff 0xfe -> 111111 111111 111000 -> "//4="
  CHECK(base64("\xff\xfe") == "//4=");
}

TEST_CASE("page: sidecar files are named like the result", "[report]") {
  CHECK(sidecar_path("out/r.json", ".trace.json") == "out/r.trace.json");
  CHECK(sidecar_path("out/r.json", ".resolved.yaml") == "out/r.resolved.yaml");
  CHECK(sidecar_path("out/result", ".trace.json") == "out/result.trace.json");
}

TEST_CASE("page: one result draws breakdown and memory, and says why the rest are skipped", "[report]") {
  // One analytic result: breakdown, device and host memory are drawn (3 images); variants (one
  // result), scaling (one size) and measured (none) are each replaced by a sentence.
  std::vector<std::string> ids;
  const Page page = build_page({Input{"g.json", golden("gpt3-175b-1024xa100"), "a: <b> & c\n", ""}}, FakeRenderer{&ids});
  CHECK(ids == std::vector<std::string>{"breakdown", "memory-device", "memory-host"});
  CHECK(count(page.html, "<img ") == 3);
  CHECK(count(page.html, "src=\"data:image/svg+xml;base64,") == 3);
  CHECK_THAT(page.html, Catch::Contains("One result: nothing to set side by side"));
  CHECK_THAT(page.html, Catch::Contains("one cluster size"));
  CHECK_THAT(page.html, Catch::Contains("No result has backend"));
  CHECK_THAT(page.html, Catch::Contains("gpt3-175b-1024xa100"));
  // the summary's verdict (derived: this older result has none): 46.9 of 80 GiB, it runs
  CHECK_THAT(page.html, Catch::Contains("<td>runs</td></tr>"));
  // the resolved configuration is embedded escaped
  CHECK_THAT(page.html, Catch::Contains("<pre>a: &lt;b&gt; &amp; c\n</pre>"));
  CHECK_THAT(page.html, Catch::Contains("no Chrome trace"));
  CHECK(page.copies.empty());
  // self-contained: nothing is fetched from elsewhere
  CHECK_THAT(page.html, !Catch::Contains("http://") && !Catch::Contains("https://"));
}

TEST_CASE("page: three cluster sizes, a measured result and a trace", "[report]") {
  // The three dense goldens have 1024, 2240 and 3072 devices: variants and scaling are drawn.
  // A copy of the GPT-3 result relabelled "measured" pairs with it by scenario name: the
  // measured plot is drawn too, 6 images in all; its trace is copied under its own name.
  json measured = golden("gpt3-175b-1024xa100");
  measured["backend"] = "measured";
  std::vector<std::string> ids;
  const Page page = build_page({Input{"a.json", golden("gpt3-175b-1024xa100"), "", ""},
                                Input{"b.json", golden("mt-nlg-530b-2240xa100"), "", ""},
                                Input{"c.json", golden("dense-1t-3072xa100"), "", ""},
                                Input{"m.json", measured, "", "runs/m.trace.json"}},
                               FakeRenderer{&ids});
  CHECK(ids == std::vector<std::string>{"breakdown", "memory-device", "memory-host", "variants", "scaling", "measured"});
  CHECK(count(page.html, "<img ") == 6);
  REQUIRE(page.copies.size() == 1);
  CHECK(page.copies[0] == std::pair<std::string, std::string>{"runs/m.trace.json", "m.trace.json"});
  CHECK_THAT(page.html, Catch::Contains("<a href=\"m.trace.json\">"));
  // identical measured and predicted numbers: every error is +0.0 %
  CHECK_THAT(page.html, Catch::Contains("+0.0%"));
}

TEST_CASE("page: a bad result is an InputError before any plot is drawn", "[report]") {
  json j = golden("gpt3-175b-1024xa100");
  j["schema"] = "other/1";
  std::vector<std::string> ids;
  CHECK_THROWS_AS(build_page({Input{"x.json", j, "", ""}}, FakeRenderer{&ids}), sparsim::InputError);
  CHECK(ids.empty());
}

TEST_CASE("gnuplot: a missing program is a clear ToolError", "[report]") {
  try {
    run_gnuplot("plot x\n", "sparsim-no-such-gnuplot");
    FAIL("no error");
  } catch (const ToolError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("not found on PATH") && Catch::Contains("gnuplot-nox"));
  }
}

TEST_CASE("gnuplot: renders the real breakdown script to SVG, and a broken script fails", "[report]") {
  // gnuplot-nox is a build dependency (scripts/install-deps.sh).
  const Page page = build_page({Input{"g.json", golden("gpt3-175b-1024xa100"), "", ""}});
  CHECK(count(page.html, "<img ") == 3);
  std::vector<Result> rs{parse_result(golden("gpt3-175b-1024xa100"), "g.json")};
  assign_labels(rs);
  const auto p = breakdown_plot(rs);
  const std::string svg = run_gnuplot(p.plot->script);
  CHECK_THAT(svg, Catch::Contains("<svg"));
  CHECK_THAT(svg, Catch::Contains("gpt3-175b-1024xa100"));  // the x tic label
  CHECK_THROWS_AS(run_gnuplot("set terminal svg\nplot $nosuchblock using 1:2\n"), ToolError);
}
