#include "validation/cases.hpp"

#include <algorithm>
#include <sstream>
#include <tuple>

#include "routing/routing.hpp"
#include "validation/files.hpp"

namespace sparsim::validation {

namespace fs = std::filesystem;

std::vector<Case> cases(bool quick) {
  std::vector<Case> c{{"dense", "dense", "device", 1}, {"topk", "topk", "device", 1}, {"rre", "rre", "device", 1},
                      {"rre-ecss", "rre", "ecss", 1}};
  for (const auto& [n, r, p] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"dense", "dense", "device"}, {"topk", "topk", "device"}, {"rre", "rre", "device"}, {"rre-ecss", "rre", "ecss"}}) {
    if (quick && n != "topk" && n != "rre-ecss") continue;
    c.push_back({n, r, p, 4});
  }
  c.push_back({"rre-ecss-grouped", "rre", "ecss", 4, true});
  return c;
}

namespace {

/// The model keys from seq_len on (the sparse layer's keys under moe:).
std::string model_keys(const Case& c) {
  std::ostringstream y;
  y << "  seq_len: " << kSeq << "\n  hidden: 256\n  heads: 4\n  ffn_hidden: 1024\n  layers: 2\n";
  if (c.router != "dense") {
    y << "  moe:\n    router: " << c.router << "\n    layers: [1]\n    experts: " << kExperts << "\n";
    if (c.router == "topk") y << "    top_k: " << kTopK << "\n    capacity_factor: " << kCapacityFactor << "\n";
    if (c.router == "rre") y << "    domains: 2\n";
  }
  return y.str();
}

/// A YAML flow list: [a, b, c].
std::string flow_list(const std::vector<double>& v) {
  std::ostringstream y;
  y.precision(17);
  y << "[";
  for (std::size_t i = 0; i < v.size(); ++i) y << (i ? ", " : "") << v[i];
  return y.str() + "]";
}

}  // namespace

std::string trainer_yaml(const Case& c, int steps, int warmup) {
  return "name: " + c.tag() + "\nmodel:\n" + model_keys(c) + (c.grouped ? "    domain_data: grouped\n" : "") +
         "training:\n  global_batch: " + std::to_string(kSequences) + "\n  steps: " + std::to_string(steps) +
         "\n  warmup_steps: " + std::to_string(warmup) + "\n  placement: " + c.placement + "\ndata:\n  corpus: synthetic\n";
}

std::string scenario_yaml(const Case& c, const std::string& node, const std::string& routing) {
  const bool sparse = c.router != "dense";
  // the trainer's model (untied embeddings, learned positions, a GELU MLP, its byte vocabulary)
  // at fp32 with AdamW; one rank per device, the batch split over the ranks
  std::string keys = model_keys(c);
  keys = keys.substr(keys.find("  layers: 2\n") + 12);  // seq_len .. layers are written below
  return "name: " + c.tag() + "\ncluster:\n  node: " + node +
         "\n  nodes: 1\n  network: {topology: fat_tree, nodes_per_leaf: 4, oversubscription: 1, latency: 1 us}\n"
         "model:\n  name: trainer " + c.name + "\n  layers: 2\n  hidden: 256\n  heads: 4\n  ffn_hidden: 1024\n"
         "  vocab: 258\n  seq_len: " + std::to_string(kSeq) + "\n  ffn: mlp\n  position_embedding: learned\n  tied_embeddings: false\n"
         // the trainer's attention: the full s x s scores GEMM, a causal softmax, the PV GEMM
         "  attention: unfused\n  causal: true\n" +
         keys + routing + "training: {global_batch: " + std::to_string(kSequences) + ", micro_batch: " +
         std::to_string(kSequences / c.ranks) + ", precision: fp32, optimizer: adamw}\nplan: {tp: 1, pp: 1, dp: " +
         std::to_string(c.ranks) + ", ep: " + std::to_string(sparse ? c.ranks : 1) + ", placement: " + c.placement + "}\n";
}

std::vector<double> typical_step(std::vector<std::vector<double>> steps, int ranks, double capacity) {
  // Two steps whose two favourite experts take every choice are equally concentrated, but on 4
  // ranks of 2 experts the busiest rank computes twice as much when the two share a rank: the
  // busiest rank's kept load first, concentration among equal ones.
  auto concentration = [](const std::vector<double>& step) {
    double sum = 0, sq = 0;
    for (double x : step) sum += x, sq += x * x;
    return sum > 0 ? sq / (sum * sum) : 0.0;
  };
  auto key = [&](const std::vector<double>& step) {
    return std::make_pair(routing::busiest_kept(step, ranks, capacity), concentration(step));
  };
  std::sort(steps.begin(), steps.end(), [&](const auto& a, const auto& b) { return key(a) < key(b); });
  return steps[steps.size() / 2];
}

std::string routing_yaml(const Case& c, const nlohmann::json& j, const fs::path& dir) {
  if (c.router == "dense") return "";
  std::ostringstream y;
  if (c.router == "rre") {
    y << "    seed: " << j.at("seed").get<unsigned long long>()
      << "\n    domain_mix: " << flow_list(j.at("domain_mix").get<std::vector<double>>())
      // the trainer's layout: a random slice of the batch per rank (every domain on every rank),
      // or grouped (each rank its experts' domain; domain_mix is then the step's slots)
      << "\n    domain_data: " << j.value("domain_data", std::string("mixed"))
      << "\n    token_histogram:\n      distribution: file\n      files:\n";
    const auto hists = j.at("token_histograms").get<std::vector<std::vector<double>>>();
    for (std::size_t d = 0; d < hists.size(); ++d) {
      const fs::path f = dir / (c.tag() + ".domain" + std::to_string(d) + ".hist");
      std::ostringstream h;
      h << "# token-ID counts of domain " << d << " of the trainer's data (one line per ID)\n";
      for (double v : hists[d]) h << v << "\n";
      write_text(f, h.str());
      // beside the scenario that names it (relative names resolve against the scenario's
      // directory), so that --out can be moved and replayed elsewhere
      y << "        - " << f.filename().string() << "\n";
    }
  } else {
    // One load for every sparse layer: the choices of all of them together in a typical timed
    // step. A learned gate's load moves from step to step (a few experts take most tokens, not
    // always the same ones), so the average over steps would spread it and hide the drops the
    // capacity makes. The trainer's capacity is per sequence (GShard): a step keeps kSequences
    // times it.
    const double capacity = kSequences * routing::capacity(routing::GateSpec{kSeq, kExperts, kTopK, kCapacityFactor});
    std::vector<double> load;
    for (const auto& [layer, steps] : j.at("routed_per_step").items()) {
      if (steps.empty()) continue;
      const std::vector<double> v = typical_step(steps.get<std::vector<std::vector<double>>>(), c.ranks, capacity);
      load.resize(v.size(), 0.0);
      for (std::size_t e = 0; e < v.size(); ++e) load[e] += v[e];
    }
    y << "    load:\n      distribution: histogram\n      histogram: " << flow_list(load) << "\n";
  }
  return y.str();
}

}  // namespace sparsim::validation
