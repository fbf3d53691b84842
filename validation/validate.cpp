#include "validation/validate.hpp"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "config/error.hpp"
#include "config/loader.hpp"
#include "cpu/calibrate_cpu.hpp"
#include "cpu/timing.hpp"
#include "parallel.hpp"
#include "sim/analytic.hpp"
#include "sim/result.hpp"
#include "validation/cases.hpp"
#include "validation/compare.hpp"
#include "validation/counts.hpp"
#include "validation/files.hpp"

namespace sparsim::validation {

namespace fs = std::filesystem;

namespace {

/// Trainer runs per configuration, between the two calibrations. A slow spell of a few seconds
/// slows one run (RRE, 1 rank: 52.8, 63.9 and 53.8 ms a step), a longer one the later runs and
/// the calibration after them; the run of median error is the measurement.
constexpr int kRuns = 3;

const char* const kCalibrations[] = {"", "-after", "-third"};

// ---------------------------------------------------------------------------------------------
// The record of one attempt at one case: what was measured, where its files are.

struct Record {
  Case c;
  int attempt = 0;
  bool probed = false;  ///< 1 rank: the runs sampled the machine-speed probe
  struct Cal {
    std::string node;
    double t = 0, speed = 0;
  };
  struct RunFiles {
    double t = 0;
    std::string measured, routing;
  };
  std::vector<Cal> calibrations;
  std::vector<RunFiles> runs;
  std::string routing_keys;  ///< scenario keys under model.moe (routing_yaml of the first run)

  std::string prefix() const { return c.tag() + (attempt > 0 ? ".retry" + std::to_string(attempt) : ""); }
};

// Files are named relative to --out in a record, so that the directory can be moved and replayed
// elsewhere (tests/data/validate-replay is such a directory); an absolute name is kept as it is.
std::string relative_to(const fs::path& dir, const std::string& f) {
  return fs::path(f).parent_path() == dir ? fs::path(f).filename().string() : f;
}
std::string resolved_in(const fs::path& dir, const std::string& f) {
  return fs::path(f).is_absolute() ? f : (dir / f).string();
}

nlohmann::json to_json(const Record& r, const fs::path& dir) {
  nlohmann::json j = {{"case", {{"name", r.c.name}, {"router", r.c.router}, {"placement", r.c.placement},
                                {"ranks", r.c.ranks}, {"grouped", r.c.grouped}}},
                      {"attempt", r.attempt}, {"probed", r.probed}, {"routing_keys", r.routing_keys}};
  for (const auto& c : r.calibrations)
    j["calibrations"].push_back({{"node", relative_to(dir, c.node)}, {"t", c.t}, {"speed", c.speed}});
  for (const auto& x : r.runs)
    j["runs"].push_back({{"t", x.t}, {"measured", relative_to(dir, x.measured)}, {"routing", relative_to(dir, x.routing)}});
  return j;
}

Record record_of(const nlohmann::json& j, const fs::path& dir) {
  Record r;
  const auto& c = j.at("case");
  r.c = Case{c.at("name"), c.at("router"), c.at("placement"), c.at("ranks"), c.at("grouped")};
  r.attempt = j.at("attempt");
  r.probed = j.at("probed");
  r.routing_keys = j.at("routing_keys");
  for (const auto& x : j.at("calibrations")) r.calibrations.push_back({resolved_in(dir, x.at("node")), x.at("t"), x.at("speed")});
  for (const auto& x : j.at("runs"))
    r.runs.push_back({x.at("t"), resolved_in(dir, x.at("measured")), resolved_in(dir, x.at("routing"))});
  return r;
}

// ---------------------------------------------------------------------------------------------

int sh(const std::string& cmd) {
  std::cerr << "sparsim validate: $ " << cmd << "\n";
  return std::system(cmd.c_str()) == 0 ? 0 : 1;
}

std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

/// The machine-speed probe of a calibration (its node file's speed_probe, GFLOP/s; 0 when absent).
double calibration_speed(const fs::path& node) {
  const YAML::Node top = YAML::LoadFile(node.string());
  for (const auto& entry : top["source"])
    if (entry.IsMap() && entry["measurements"] && entry["measurements"]["speed_probe"])
      return entry["measurements"]["speed_probe"]["gflops"].as<double>();
  return 0;
}

/// The median of a per-step list in the trainer's routing JSON (0 when absent or empty).
double routing_median(const nlohmann::json& routing, const char* key) {
  if (!routing.contains(key)) return 0;
  std::vector<double> v = routing.at(key).get<std::vector<double>>();
  return v.empty() ? 0 : calib::spread_of(std::move(v)).median;
}

/// The scenario of `r` on node file `node`, written to `path`, loaded and simulated (analytic).
struct Predicted {
  Scenario scenario;
  Categories categories;
};
Predicted predict(const Record& r, const fs::path& node, const fs::path& path) {
  write_text(path, scenario_yaml(r.c, node.string(), r.routing_keys));
  Predicted p{config::load_scenario(path.string()).scenario, {}};
  p.categories = categories(sim::to_json(sim::analytic_step(p.scenario)));
  return p;
}

class Validator {
 public:
  Validator(const Options& o, std::ostream& out) : o_(o), out_(out), start_(std::chrono::steady_clock::now()) {}
  int run();

 private:
  double now() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  fs::path file(const Record& r, const std::string& kind, const std::string& ext) const {
    return o_.out / (r.prefix() + "." + kind + ext);
  }
  bool calibrate(const Record& r, const fs::path& node, const fs::path& trainer_cfg);
  /// Calibrates, trains and calibrates again; false when a stage fails.
  bool measure(Record& r);
  /// Compares a record (re-simulated, perturbed when asked) and prints its rows; true when it passes.
  bool evaluate(const Record& r);
  double limit(const Case& c) const { return c.ranks > sparsim::hardware_threads() ? o_.shared_tolerance : o_.tolerance; }

  const Options& o_;
  std::ostream& out_;
  std::chrono::steady_clock::time_point start_;
  std::ostringstream table_;
  bool several_ranks_ = false;
};

bool Validator::calibrate(const Record& r, const fs::path& node, const fs::path& trainer_cfg) {
  // Calibrated with this model's GEMM shapes and this many ranks, just before and again just
  // after the runs it predicts: a shared machine's speed drifts by +-10% within a minute.
  if (sh(quote(o_.sparsim) + " calibrate --cpu" + (o_.quick ? " --quick" : "") + " --force --ranks " +
         std::to_string(r.c.ranks) + " --model-shapes " + quote(trainer_cfg) + " --out " + quote(node) + " 2>>" +
         quote(o_.out / "calibrate.log")) == 0)
    return true;
  std::cerr << "sparsim validate: calibration failed (" << (o_.out / "calibrate.log").string() << ")\n";
  return false;
}

bool Validator::measure(Record& r) {
  // One step of 4 ranks on 2 cores varies by +-30% with the scheduler: 35 timed steps put the
  // mean within a few per cent; a step costs about 50 ms.
  const int warmup = 5, steps = warmup + (o_.quick ? 35 : 100);
  const fs::path cfg = file(r, "trainer", ".yaml");
  write_text(cfg, trainer_yaml(r.c, steps, warmup));
  // One rank (the device is the whole CPU): the machine-speed probe after each timed step. Ranks
  // time-sharing the cores follow the scheduler as much as the cores' speed, unprobed.
  r.probed = r.c.ranks == 1;
  auto calibration = [&](int k) {
    const fs::path node = file(r, "node", std::string(kCalibrations[k]) + ".yaml");
    const double t0 = now();
    if (!calibrate(r, node, cfg)) return false;
    r.calibrations.push_back({node.string(), 0.5 * (t0 + now()), r.probed ? calibration_speed(node) : 0.0});
    return true;
  };
  if (!calibration(0)) return false;
  for (int k = 0; k < kRuns; ++k) {
    const std::string run = ".run" + std::to_string(k + 1);
    const fs::path measured = file(r, "measured", run + ".json"), routing = file(r, "routing", run + ".json");
    const double t0 = now();
    // ranks beyond the hardware threads bound to them round-robin (calib::mpirun_placement)
    if (sh(o_.mpiexec + " --oversubscribe " + calib::mpirun_placement(r.c.ranks, sparsim::hardware_threads()) +
           " --allow-run-as-root -np " + std::to_string(r.c.ranks) + " " + quote(o_.trainer_mpi) + " config=" + quote(cfg) +
           " progress=0" + (r.probed ? " speed_probe=1" : "") + " json=" + quote(measured) + " routing=" + quote(routing) +
           " 2>>" + quote(o_.out / "train.log")) != 0)
      return false;
    r.runs.push_back({0.5 * (t0 + now()), measured.string(), routing.string()});
  }
  if (!calibration(1)) return false;
  // the runs route alike (same seeds, data and arithmetic): the first one's routing
  const nlohmann::json first = read_json(r.runs[0].routing);
  for (std::size_t k = 1; k < r.runs.size(); ++k)
    if (read_json(r.runs[k].routing).value("routed_per_expert", nlohmann::json()) != first.value("routed_per_expert", nlohmann::json()))
      std::cerr << "sparsim validate: " << r.prefix() << ": run " << k + 1 << " routed differently from run 1\n";
  r.routing_keys = routing_yaml(r.c, first, o_.out);
  // When the two disagree, a third calibration (compare.hpp).
  auto at = [&](int k) {
    return Calibration{r.calibrations[k].t, r.calibrations[k].speed,
                       predict(r, r.calibrations[k].node, file(r, "scenario", std::string(kCalibrations[k]) + ".yaml")).categories};
  };
  const bool scaled = r.probed && r.calibrations[0].speed > 0 && r.calibrations[1].speed > 0;
  if (needs_third(at(0), at(1), scaled) && !calibration(2)) return false;
  write_text(file(r, "record", ".json"), to_json(r, o_.out).dump(2) + "\n");
  return true;
}

bool Validator::evaluate(const Record& r) {
  char buf[320];
  // Each calibration's prediction, on its node file as calibrated or perturbed.
  std::vector<Calibration> cals;
  Scenario scenario;
  for (std::size_t k = 0; k < r.calibrations.size(); ++k) {
    fs::path node = r.calibrations[k].node;
    std::string suffix = kCalibrations[k];
    for (const Perturbation& p : o_.perturb) {
      suffix += "." + p.cost + "x" + std::to_string(p.factor).substr(0, 4);
      const fs::path perturbed = file(r, "node", suffix + ".yaml");
      perturb_node(node, perturbed, p);
      node = perturbed;
    }
    Predicted p = predict(r, node, file(r, "scenario", suffix + ".yaml"));
    if (k == 0) scenario = p.scenario;
    cals.push_back({r.calibrations[k].t, r.calibrations[k].speed, std::move(p.categories)});
  }
  std::vector<Run> runs;
  std::vector<nlohmann::json> routings, measured;
  for (const auto& x : r.runs) {
    routings.push_back(read_json(x.routing));
    measured.push_back(read_json(x.measured));
    Run run{x.t, routing_median(routings.back(), "step_times_s"), 0, routing_median(routings.back(), "speed_probe_gflops"),
            categories(measured.back())};
    run.mean_step = run.measured[0].second;
    if (run.median_step > 0) run.measured[0].second = run.median_step;  // a transient slowdown moves the mean
    runs.push_back(std::move(run));
  }
  bool scaled = r.probed;
  for (const auto& c : cals) scaled = scaled && c.speed > 0;
  for (const auto& x : runs) scaled = scaled && x.speed > 0;
  const double tolerance = limit(r.c);
  const Outcome o = compare(cals, runs, scaled, tolerance);
  const Run& run = runs[o.pick];
  const nlohmann::json& info = routings[o.pick];
  // The exact half: every timed step of every run, counted.
  std::vector<CountMismatch> bad;
  for (const auto& routing : routings)
    for (const CountMismatch& m : check_counts(scenario, routing)) bad.push_back(m);
  several_ranks_ = several_ranks_ || r.c.ranks > 1;
  const std::string label = r.c.name + (r.attempt > 0 ? " (again)" : "");
  for (std::size_t i = 0; i < o.predicted.size(); ++i) {
    const double p = o.predicted[i].second, m = run.measured[i].second;
    if (i > 0 && p == 0 && m == 0) continue;
    const double err = m > 0 ? (p - m) / m : 0;
    std::snprintf(buf, sizeof buf, "%-16s %5d  %-15s %12.6f %12.6f %+8.1f%%%s\n", label.c_str(), r.c.ranks,
                  o.predicted[i].first.c_str(), p, m, 100 * err, i == 0 && !o.pass ? "  FAIL" : "");
    table_ << buf;
    if (o.predicted[i].first == "compute" && info.contains("peer_wait_s") && r.c.ranks > 1) {
      // rank 0's: its collectives count from their last rank's arrival, as the simulator's
      std::snprintf(buf, sizeof buf, "%-16s %5s  %-15s %12s %12.6f %9s  (measured, rank 0: of compute, waiting in collectives for peers)\n",
                    "", "", "  peer wait", "", info.at("peer_wait_s").get<double>(), "");
      table_ << buf;
    }
    if (i > 0) continue;
    std::string note = "before / after the runs";
    if (o.median_calibration >= 0) {
      std::snprintf(buf, sizeof buf, "they disagree: the median of them and a third, %.6f", cals[2].predicted[0].second);
      note = buf;
    } else if (!scaled) {
      std::snprintf(buf, sizeof buf, "; the run's: %.2f of the way", o.weight);
      note += buf;
    }
    const double b0 = cals[0].predicted[0].second, a0 = cals[1].predicted[0].second;
    std::snprintf(buf, sizeof buf, "%-16s %5s  %-15s %12.6f %12.6f %+8.1f%%  (predicted: %s)\n", "", "", "  calibrations", b0,
                  a0, b0 > 0 ? 100 * (a0 / b0 - 1) : 0.0, note.c_str());
    table_ << buf;
    if (scaled) {
      std::string speeds;
      for (const auto& c : cals) speeds += (speeds.empty() ? "" : " / ") + std::to_string(static_cast<int>(std::lround(c.speed)));
      std::snprintf(buf, sizeof buf, "%-16s %5s  %-15s %12.6f %12s %+8.1f%%  (unscaled; speed probe %s GFLOP/s calibrating, %.0f in the run: x%.3f)\n",
                    "", "", "  speed probe", o.unscaled_step, "", m > 0 ? 100 * (o.unscaled_step / m - 1) : 0.0, speeds.c_str(),
                    run.speed, o.unscaled_step > 0 ? p / o.unscaled_step : 0.0);
      table_ << buf;
    }
    std::snprintf(buf, sizeof buf, "%-16s %5s  %-15s %12s %12.6f %+8.1f%%  (measured: the mean step)\n", "", "", "  mean step", "",
                  run.mean_step, run.mean_step > 0 ? 100 * (p / run.mean_step - 1) : 0.0);
    table_ << buf;
    std::string each;
    for (std::size_t k = 0; k < runs.size(); ++k) {
      std::snprintf(buf, sizeof buf, "%s%.6f %+.1f%%%s", k ? " / " : "", runs[k].median_step, 100 * o.run_errors[k], k == o.pick ? " (this)" : "");
      each += buf;
    }
    table_ << std::string(16, ' ') << "          runs: median step and error of each run: " << each << "\n";
    const double tokens = measured[o.pick].at("tokens_per_s").get<double>() * run.mean_step;
    if (p > 0 && m > 0) {
      std::snprintf(buf, sizeof buf, "%-16s %5s  %-15s %12.0f %12.0f %+8.1f%%  (tokens/s at those steps)\n", "", "", "  tokens/s",
                    tokens / p, tokens / m, 100 * (m / p - 1));
      table_ << buf;
    }
  }
  std::size_t steps = 0;
  for (const auto& routing : routings) steps += routing.value("counts_per_step", nlohmann::json::array()).size();
  if (bad.empty()) {
    std::snprintf(buf, sizeof buf, "%-16s %5s  %-15s %s\n", "", "", "  counts",
                  ("GEMM FLOPs, expert FLOPs, h2d, d2h, all-to-all and all-reduce bytes equal in all " + std::to_string(steps) +
                   " timed steps of the runs")
                      .c_str());
    table_ << buf;
  }
  for (std::size_t k = 0; k < bad.size() && k < 6; ++k) {
    std::snprintf(buf, sizeof buf, "%-16s %5d  %-15s %12.6g %12.6g  FAIL (counts, timed step %zu: simulator / trainer)\n",
                  label.c_str(), r.c.ranks, bad[k].what.c_str(), bad[k].simulator, bad[k].trainer, bad[k].step);
    table_ << buf;
  }
  if (bad.size() > 6) table_ << std::string(16, ' ') << "          ... " << bad.size() - 6 << " more count mismatches\n";
  return o.pass && bad.empty();
}

int Validator::run() {
  fs::create_directories(o_.out);
  char buf[128];
  std::snprintf(buf, sizeof buf, "%-16s %5s  %-15s %12s %12s %9s\n", "config", "ranks", "category", "predicted_s", "measured_s", "error");
  table_ << buf;
  bool failed = false, any = false;
  // a replay takes the cases the run measured: every one whose record is there, every attempt
  for (const Case& c : cases(o_.quick && !o_.replay)) {
    bool passed = false;
    for (int attempt = 0; !passed && (o_.replay || attempt <= o_.retries); ++attempt) {
      Record r;
      r.c = c;
      r.attempt = attempt;
      if (o_.replay) {
        const fs::path rec = file(r, "record", ".json");
        if (!fs::exists(rec)) {
          passed = attempt == 0;  // not measured: nothing to judge
          break;
        }
        r = record_of(read_json(rec), o_.out);
      } else {
        if (attempt == 0 && !fs::exists(o_.trainer_mpi)) {
          std::cerr << "sparsim validate: " << o_.trainer_mpi.string() << " not built (no MPI): " << c.tag() << " skipped\n";
          break;
        }
        if (!measure(r)) {
          std::cerr << "sparsim validate: " << r.prefix() << " failed (see " << o_.out.string() << "/*.log)\n";
          break;
        }
      }
      any = true;
      passed = evaluate(r);
      if (!passed && !o_.replay && attempt < o_.retries)
        table_ << std::string(16, ' ') << "          past the tolerance or a count off: measured again\n";
    }
    failed = failed || !passed;
  }
  if (!any) {
    std::cerr << "sparsim validate: nothing " << (o_.replay ? "to replay in " + o_.out.string() : "was measured") << "\n";
    failed = true;
  }
  if (several_ranks_)
    table_ << "Several ranks: the measured categories are rank 0's. Its optimizer and copies often run while its\n"
              "peers wait, faster than the fair share of the cores the simulator charges, and its collectives\n"
              "share the cores with peers that have left them; the step is the comparison that holds.\n";
  out_ << table_.str();
  write_text(o_.out / (o_.replay ? "validate.replay.txt" : "validate.txt"), table_.str());
  out_ << (failed ? "validate: FAILED" : "validate: ok") << " (step-time tolerance " << 100 * o_.tolerance << "%";
  if (o_.shared_tolerance != o_.tolerance)
    out_ << ", " << 100 * o_.shared_tolerance << "% with more ranks than the " << sparsim::hardware_threads() << " hardware threads";
  out_ << "; counts exact; files in " << o_.out.string() << ")\n";
  return failed ? 1 : 0;
}

}  // namespace

int validate(const Options& options, std::ostream& out) { return Validator(options, out).run(); }

}  // namespace sparsim::validation
