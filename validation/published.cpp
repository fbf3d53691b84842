#include "validation/published.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>

#include "config/error.hpp"
#include "config/loader.hpp"
#include "config/tree.hpp"
#include "sim/analytic.hpp"
#include "workload/params.hpp"

namespace sparsim::validation {

namespace fs = std::filesystem;

namespace {

/// A CSV file without quoting: the header's column names and each row's cells.
struct Table {
  std::string file;
  std::map<std::string, std::size_t> column;
  struct Row {
    int line = 0;
    std::vector<std::string> cells;
  };
  std::vector<Row> rows;

  bool has(const std::string& name) const { return column.count(name) > 0; }
  /// Row `r`'s cell in column `name`, or throws naming the file, line and column.
  const std::string& cell(const Row& r, const std::string& name) const {
    const auto it = column.find(name);
    if (it == column.end()) throw InputError(Origin{file, 1, 0}, name, "missing column '" + name + "'");
    return r.cells[it->second];
  }
  [[noreturn]] void fail(const Row& r, const std::string& name, const std::string& message) const {
    const auto it = column.find(name);
    throw InputError(Origin{file, r.line, it == column.end() ? 0 : static_cast<int>(it->second) + 1}, name, message);
  }
  long long integer(const Row& r, const std::string& name, long long min = 1) const {
    const std::string& s = cell(r, name);
    std::size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != s.size() || v < min) fail(r, name, "expected an integer >= " + std::to_string(min) + ", found '" + s + "'");
    return v;
  }
  double number(const Row& r, const std::string& name) const {
    const std::string& s = cell(r, name);
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != s.size() || !(v > 0) || !std::isfinite(v)) fail(r, name, "expected a number > 0, found '" + s + "'");
    return v;
  }
  bool flag(const Row& r, const std::string& name) const {
    const std::string& s = cell(r, name);
    if (s == "True" || s == "true") return true;
    if (s == "False" || s == "false") return false;
    fail(r, name, "expected True or False, found '" + s + "'");
  }
};

Table read_table(const fs::path& path, const Origin& named_at, const std::string& key) {
  std::ifstream in(path);
  if (!in) throw InputError(named_at, key, "cannot open file '" + path.string() + "'");
  Table t;
  t.file = path.string();
  std::string line;
  int n = 0;
  auto split = [&](const std::string& text) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream s(text);
    while (std::getline(s, cell, ',')) cells.push_back(cell);
    if (!text.empty() && text.back() == ',') cells.emplace_back();
    for (auto& c : cells) {
      c.erase(0, c.find_first_not_of(" \t\r"));
      c.erase(c.find_last_not_of(" \t\r") + 1);
      if (c.find('"') != std::string::npos)
        throw InputError(Origin{t.file, n, 0}, key, "quoted cells are not supported, found '" + c + "'");
    }
    return cells;
  };
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
    std::vector<std::string> cells = split(line);
    if (t.column.empty()) {
      for (std::size_t i = 0; i < cells.size(); ++i) t.column[cells[i]] = i;
      continue;
    }
    if (cells.size() != t.column.size())
      throw InputError(Origin{t.file, n, 0}, key,
                       "expected " + std::to_string(t.column.size()) + " cells as in the header, found " + std::to_string(cells.size()));
    t.rows.push_back({n, std::move(cells)});
  }
  if (t.column.empty()) throw InputError(Origin{t.file, 1, 0}, key, "empty table: expected a header row");
  return t;
}

std::string precision_of(const std::string& p) {
  // llm-foundry's precisions: amp_bf16 (autocast, bf16 compute), bf16 (pure), amp_fp16, fp32
  if (p == "amp_bf16" || p == "bf16") return "bf16";
  if (p == "amp_fp16" || p == "fp16") return "fp16";
  if (p == "fp32") return "fp32";
  return "";
}

}  // namespace

std::vector<std::string> PublishedRun::overrides() const {
  std::vector<std::string> o = {
      "model.layers=" + std::to_string(n_layers),      "model.hidden=" + std::to_string(d_model),
      "model.heads=" + std::to_string(n_heads),        "model.ffn_hidden=" + std::to_string(ffn_hidden),
      "model.vocab=" + std::to_string(vocab),          "model.seq_len=" + std::to_string(seq_len),
      "training.global_batch=" + std::to_string(global_batch), "training.micro_batch=" + std::to_string(micro_batch),
      "training.precision=" + precision_of(precision), "plan.dp=" + std::to_string(gpus),
      "plan.recompute=" + std::string(checkpointing ? "full" : "none"),
      // FSDP FULL_SHARD shards parameters, gradients and optimizer state (ZeRO-3); SHARD_GRAD_OP
      // gradients and optimizer state (ZeRO-2); NO_SHARD is data parallelism.
      "plan.zero=" + std::string(sharding == "FULL_SHARD" ? "3" : sharding == "SHARD_GRAD_OP" ? "2" : "0")};
  return o;
}

std::string PublishedRun::label() const {
  return fmt::format("{} s{} {}x mb{}{}", model, seq_len, gpus, micro_batch, checkpointing ? " ckpt" : "");
}

RunSet load_run_set(const std::string& path) {
  // Plain YAML, not config::Tree: the scenario template's path must stay a path, not an include.
  const YAML::Node top = config::load_yaml_file(path, Origin{path, 0, 0}, "");
  auto at = [&](const YAML::Node& n) { return Origin{path, n.Mark().line + 1, n.Mark().column + 1}; };
  const std::vector<std::string> known = {"name", "runs", "shapes", "scenario", "baseline", "note", "source"};
  for (const auto& kv : top) {
    const std::string key = kv.first.as<std::string>();
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw InputError(at(kv.first), key, "unknown key '" + key + "'; known: name, runs, shapes, scenario, baseline");
  }
  auto text = [&](const char* key) {
    const YAML::Node n = top[key];
    if (!n) throw InputError(Origin{path, 0, 0}, key, "missing key '" + std::string(key) + "'");
    if (!n.IsScalar() || n.Scalar().empty()) throw InputError(at(n), key, "expected a text value");
    return n.Scalar();
  };
  RunSet set;
  set.file = path;
  set.name = text("name");
  const fs::path dir = fs::path(path).parent_path();
  set.runs_file = (dir / text("runs")).lexically_normal();
  const fs::path shapes_file = (dir / text("shapes")).lexically_normal();
  set.scenario_file = (dir / text("scenario")).lexically_normal();
  if (const YAML::Node b = top["baseline"]) {
    auto number = [&](const char* key, double max) {
      const YAML::Node n = b[key];
      const std::string where = std::string("baseline.") + key;
      if (!n || !n.IsScalar()) throw InputError(n ? at(n) : at(b), where, "expected a number");
      try {
        const double v = n.as<double>();
        if (v >= 0 && v <= max) return v;
      } catch (const YAML::Exception&) {
      }
      throw InputError(at(n), where, "expected a number in [0, " + fmt::format("{}", max) + "], found '" + n.Scalar() + "'");
    };
    set.baseline_mape = number("mape", 100) / 100;
    set.baseline_wrong_verdicts = static_cast<int>(number("wrong_verdicts", 1e9));
  }
  const Table shapes = read_table(shapes_file, at(top["shapes"]), "shapes");
  const Table runs = read_table(set.runs_file, at(top["runs"]), "runs");
  std::map<std::string, const Table::Row*> shape_of;
  for (const auto& row : shapes.rows) shape_of[shapes.cell(row, "model")] = &row;
  for (const auto& row : runs.rows) {
    PublishedRun p;
    p.line = row.line;
    p.model = runs.cell(row, "model");
    const auto s = shape_of.find(p.model);
    if (s == shape_of.end()) runs.fail(row, "model", "no row for model '" + p.model + "' in " + shapes.file);
    const Table::Row& sr = *s->second;
    p.d_model = static_cast<int>(shapes.integer(sr, "d_model"));
    p.n_heads = static_cast<int>(shapes.integer(sr, "n_heads"));
    p.n_layers = static_cast<int>(shapes.integer(sr, "n_layers"));
    p.ffn_hidden = static_cast<int>(shapes.integer(sr, "ffn_hidden"));
    p.vocab = static_cast<int>(shapes.integer(sr, "vocab"));
    if (shapes.has("head_dim") && shapes.integer(sr, "head_dim") * p.n_heads != p.d_model)
      shapes.fail(sr, "head_dim", "expected d_model / n_heads = " + std::to_string(p.d_model / p.n_heads));
    p.seq_len = static_cast<int>(runs.integer(row, "seq_len"));
    p.gpus = static_cast<int>(runs.integer(row, "gpus"));
    p.micro_batch = static_cast<int>(runs.integer(row, "micro_batch"));
    p.grad_accum = static_cast<int>(runs.integer(row, "grad_accum"));
    p.global_batch = static_cast<int>(runs.integer(row, "global_batch"));
    if (static_cast<long long>(p.micro_batch) * p.grad_accum * p.gpus != p.global_batch)
      runs.fail(row, "global_batch", "expected micro_batch x grad_accum x gpus = " +
                                         std::to_string(static_cast<long long>(p.micro_batch) * p.grad_accum * p.gpus));
    p.tokens_per_s_per_gpu = runs.number(row, "tokens_per_s_per_gpu");
    p.precision = runs.cell(row, "precision");
    if (precision_of(p.precision).empty()) runs.fail(row, "precision", "expected amp_bf16, bf16, amp_fp16, fp16 or fp32, found '" + p.precision + "'");
    p.mp_mode = runs.has("mp_mode") ? runs.cell(row, "mp_mode") : "DEFAULT";
    if (p.mp_mode != "DEFAULT" && p.mp_mode != "PURE" && p.mp_mode != "FULL")
      runs.fail(row, "mp_mode", "expected DEFAULT, PURE or FULL, found '" + p.mp_mode + "'");
    p.sharding = runs.cell(row, "sharding");
    if (p.sharding != "FULL_SHARD" && p.sharding != "SHARD_GRAD_OP" && p.sharding != "NO_SHARD")
      runs.fail(row, "sharding", "expected FULL_SHARD, SHARD_GRAD_OP or NO_SHARD, found '" + p.sharding + "'");
    p.checkpointing = runs.flag(row, "activation_checkpointing");
    p.cpu_offload = runs.has("activation_cpu_offload") && runs.flag(row, "activation_cpu_offload");
    if (p.cpu_offload) runs.fail(row, "activation_cpu_offload", "activation CPU offload is not modelled: expected False");
    if (runs.has("num_params")) p.num_params = runs.number(row, "num_params");
    set.runs.push_back(std::move(p));
  }
  if (set.runs.empty()) throw InputError(Origin{set.runs_file.string(), 1, 0}, "runs", "no runs in the table");
  return set;
}

std::vector<Scenario> scenarios(const RunSet& set, const std::vector<std::string>& extra) {
  const Scenario tmpl = config::load_scenario(set.scenario_file.string(), extra).scenario;
  std::vector<Scenario> out;
  for (const PublishedRun& p : set.runs) {
    std::vector<std::string> o = p.overrides();
    const int per_node = tmpl.cluster.node.devices;
    if (p.gpus % per_node != 0)
      throw InputError(Origin{set.runs_file.string(), p.line, 0}, "gpus",
                       "expected a multiple of the node's " + std::to_string(per_node) + " devices, found " + std::to_string(p.gpus));
    o.push_back("cluster.nodes=" + std::to_string(p.gpus / per_node));
    o.insert(o.end(), extra.begin(), extra.end());
    Scenario sc = config::load_scenario(set.scenario_file.string(), o).scenario;
    sc.name = p.label();
    out.push_back(std::move(sc));
  }
  return out;
}

PublishedReport evaluate(const RunSet& set, const std::vector<Scenario>& scs) {
  SPARSIM_ASSERT(scs.size() == set.runs.size(), "one scenario per run");
  PublishedReport rep;
  std::vector<double> ape;
  for (std::size_t i = 0; i < scs.size(); ++i) {
    const PublishedRun& p = set.runs[i];
    RowResult row;
    row.result = sim::analytic_step(scs[i]);
    row.predicted = row.result.tokens_per_s / double(std::max<std::int64_t>(1, row.result.devices));
    row.error = row.predicted / p.tokens_per_s_per_gpu - 1;
    if (!row.result.feasible || !row.result.memory.fits()) ++rep.wrong_verdicts;
    if (p.num_params > 0) {
      const double ours = workload::count_params(scs[i].model).total;
      if (std::abs(ours / p.num_params - 1) > 0.005)
        row.note = fmt::format("parameters: {:.4g} here, {:.4g} published", ours, p.num_params);
    }
    ape.push_back(std::abs(row.error));
    if (i == 0 || std::abs(row.error) > std::abs(rep.worst)) rep.worst = row.error, rep.worst_row = i;
    rep.rows.push_back(std::move(row));
  }
  double sum = 0;
  for (double a : ape) sum += a;
  rep.mape = sum / static_cast<double>(ape.size());
  std::sort(ape.begin(), ape.end());
  const std::size_t n = ape.size();
  rep.median_ape = n % 2 ? ape[n / 2] : 0.5 * (ape[n / 2 - 1] + ape[n / 2]);
  return rep;
}

namespace {
std::string gib(double b) { return fmt::format("{:.1f}", b / (1024.0 * 1024 * 1024)); }
}  // namespace

void print(std::ostream& out, const RunSet& set, const PublishedReport& rep) {
  out << set.name << " (" << set.runs.size() << " runs, " << set.runs_file.filename().string() << "; analytic backend)\n";
  out << fmt::format("{:<28} {:>12} {:>12} {:>8}  {:>16}  {}\n", "run", "published", "predicted", "error", "memory GiB", "verdict");
  for (std::size_t i = 0; i < rep.rows.size(); ++i) {
    const RowResult& r = rep.rows[i];
    const PublishedRun& p = set.runs[i];
    const auto& m = r.result.memory;
    out << fmt::format("{:<28} {:>12.0f} {:>12.0f} {:>+7.1f}%  {:>7}/{:<8}  {}{}\n", p.label(), p.tokens_per_s_per_gpu, r.predicted,
                       100 * r.error, gib(m.device_peak()), gib(m.device_capacity),
                       r.result.feasible && m.fits() ? "runs" : "WRONG: " + std::string(r.result.feasible ? "does not fit" : "infeasible"),
                       r.note.empty() ? "" : "  (" + r.note + ")");
  }
  out << fmt::format("tokens/s per device: MAPE {:.1f}%, median {:.1f}%, worst {:+.1f}% ({}); memory verdicts wrong: {} of {}\n",
                     100 * rep.mape, 100 * rep.median_ape, 100 * rep.worst, set.runs[rep.worst_row].label(), rep.wrong_verdicts,
                     rep.rows.size());
  if (set.baseline_mape >= 0)
    out << fmt::format("committed: MAPE {:.1f}%, wrong verdicts {} (the gate: MAPE at most 1 point above, no more wrong verdicts)\n",
                       100 * set.baseline_mape, set.baseline_wrong_verdicts);
}

nlohmann::json to_json(const RunSet& set, const PublishedReport& rep) {
  nlohmann::json j = {{"schema", "sparsim.published/1"}, {"name", set.name},      {"runs_file", set.runs_file.string()},
                      {"mape", rep.mape},                {"median_ape", rep.median_ape}, {"worst_error", rep.worst},
                      {"worst_run", set.runs[rep.worst_row].label()}, {"wrong_verdicts", rep.wrong_verdicts}};
  for (std::size_t i = 0; i < rep.rows.size(); ++i) {
    const PublishedRun& p = set.runs[i];
    const RowResult& r = rep.rows[i];
    j["rows"].push_back({{"line", p.line},
                         {"run", p.label()},
                         {"published_tokens_per_s_per_device", p.tokens_per_s_per_gpu},
                         {"predicted_tokens_per_s_per_device", r.predicted},
                         {"error", r.error},
                         {"note", r.note},
                         {"result", sim::to_json(r.result)}});
  }
  return j;
}

std::string to_csv(const RunSet& set, const PublishedReport& rep) {
  std::string s = "line,run,published_tokens_per_s_per_device,predicted_tokens_per_s_per_device,error,device_peak_bytes,fits\n";
  for (std::size_t i = 0; i < rep.rows.size(); ++i) {
    const RowResult& r = rep.rows[i];
    s += fmt::format("{},{},{:.9g},{:.9g},{:.6g},{:.0f},{}\n", set.runs[i].line, set.runs[i].label(), set.runs[i].tokens_per_s_per_gpu,
                     r.predicted, r.error, r.result.memory.device_peak(), r.result.feasible && r.result.memory.fits());
  }
  return s;
}

}  // namespace sparsim::validation
