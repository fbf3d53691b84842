#include <catch2/catch.hpp>
#include <filesystem>

#include "config/loader.hpp"
#include "workload/params.hpp"

using namespace sparsim;

TEST_CASE("params: hand count of a small dense model", "[params]") {
  // L=4, h=256, f=1024, V=1000, s=128, learned positions, tied embeddings:
  //   attention 4h^2+4h = 263,168; layernorms 4h = 1,024; MLP 2hf+f+h = 525,568 -> 789,760/layer
  //   4 layers = 3,159,040; embedding Vh + sh + final LN 2h = 256,000 + 32,768 + 512 = 289,280
  //   total 3,448,320
  Model m;
  m.layers = 4; m.hidden = 256; m.heads = 8; m.ffn_hidden = 1024; m.vocab = 1000; m.seq_len = 128;
  const auto c = workload::count_params(m);
  REQUIRE(c.dense_layer() == 789760);
  REQUIRE(c.total == 3448320);
  REQUIRE(c.active == c.total);
}

TEST_CASE("params: sparse layers replace the FFN by E experts; k of them are active", "[params]") {
  // Same model, layers {1, 3} sparse with E=8 experts of f=1024 and a top-2 learned gate (hE):
  //   total = 3,448,320 - 2*525,568 + 2*(8*525,568 + 256*8) = 3,448,320 + 2*(7*525,568 + 2,048)
  //   active = 3,448,320 - 2*525,568 + 2*(2*525,568 + 2,048) = 3,448,320 + 2*(525,568 + 2,048)
  Model m;
  m.layers = 4; m.hidden = 256; m.heads = 8; m.ffn_hidden = 1024; m.vocab = 1000; m.seq_len = 128;
  m.moe = Moe{};
  m.moe->router = Router::topk;
  m.moe->layers = {1, 3};
  m.moe->experts = 8;
  m.moe->top_k = 2;
  m.moe->expert_ffn_hidden = 1024;
  const auto c = workload::count_params(m);
  REQUIRE(c.total == 3448320.0 + 2 * (7 * 525568.0 + 2048));
  REQUIRE(c.active == 3448320.0 + 2 * (525568.0 + 2048));
  REQUIRE(c.experts_total == 2 * 8 * 525568.0);
}

TEST_CASE("params: every model in the library matches its published total", "[params][library]") {
  // Expected values: the `published` figures in each model file, with the tolerance that file
  // justifies in a note.
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(SPARSIM_SOURCE_DIR) + "/scenarios/models")) {
    if (entry.path().extension() != ".yaml") continue;
    const Model m = config::load_model(entry.path().string());
    INFO(entry.path().filename().string());
    REQUIRE(m.published_params > 0);
    const auto c = workload::count_params(m);
    CHECK(std::abs(c.total - m.published_params) <= m.published_tolerance * m.published_params);
    if (m.published_active_params > 0) {
      CHECK(std::abs(c.active - m.published_active_params) <= m.published_tolerance * m.published_active_params);
    }
    ++checked;
  }
  REQUIRE(checked >= 7);
}
