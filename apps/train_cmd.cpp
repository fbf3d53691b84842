#include "train_cmd.hpp"

#include <boost/program_options.hpp>
#include <iostream>

#include "cli.hpp"
#include "config/error.hpp"
#include "output.hpp"
#include "sim/result.hpp"
#include "train.hpp"
#include "train_file.hpp"

namespace po = boost::program_options;

namespace sparsim::app {

int train_main(const std::vector<std::string>& args) {
  po::options_description opts("sparsim train FILE [options]");
  std::string file, json, trace, resolved, format;
  std::vector<std::string> sets;
  opts.add_options()("help,h", "show this help")
      ("set", po::value(&sets)->composing(), "override a key: --set training.steps=5 (repeatable)")
      ("json", po::value(&json), "write the measured result JSON (sparsim.result/1, backend measured)")
      ("trace", po::value(&trace), "write a Chrome trace of the timed steps")
      ("resolved", po::value(&resolved), "write the resolved trainer configuration")
      ("format", po::value(&format)->default_value("table"), "stdout format: table | json")
      ("force", "replace existing output files");
  const po::variables_map vm = parse_verb(args, opts, file);
  if (vm.count("help")) {
    std::cout << opts << "\nTrains the reference transformer (schema: calibration/trainer/README.md) and measures a step.\n";
    return 0;
  }
  const Origin cli{"command line", 0, 0};
  if (file.empty()) throw InputError(cli, "FILE", "missing the trainer config file");
  check_choice("--format", format, {"table", "json"});
  const bool force = vm.count("force") > 0;
  for (const auto& out : {json, trace, resolved})
    if (!out.empty()) check_output_path(out, force, {file});
  const trainer::TrainFile tf = trainer::load_train_file(file, sets);
  if (!resolved.empty()) write_file(resolved, tf.resolved);
  const auto& m = tf.config.model;
  const trainer::Dataset data = trainer::pack(
      tf.corpus == "synthetic" ? trainer::synthetic_corpus(std::max(2, m.domains), 2000, 11) : trainer::read_corpus(tf.corpus),
      m.seq);
  if (data.size() < static_cast<std::size_t>(tf.config.global_batch))
    throw InputError(Origin{file, 0, 0}, "data.corpus", "fewer sequences than one global batch");
  if (m.router == Router::rre && static_cast<int>(data.domain_names.size()) > m.domains)
    throw InputError(Origin{file, 0, 0}, "model.moe.domains",
                     "the corpus has " + std::to_string(data.domain_names.size()) + " domains, more than moe.domains");
  std::cerr << "sparsim train: " << tf.name << ": " << data.size() << " sequences of " << m.seq << " tokens, "
            << data.domain_names.size() << " domains, router " << trainer::router_name(m.router) << ", placement "
            << sparsim::to_string(tf.config.placement) << "\n";
  trainer::SelfComm comm;
  trainer::RunOptions opt;
  opt.steps = tf.config.steps;
  opt.warmup = tf.warmup_steps;
  opt.checkpoint = tf.checkpoint;
  opt.checkpoint_every = tf.checkpoint_every;
  opt.resume = tf.resume;
  opt.name = tf.name;
  trainer::RunResult out;
  try {
    out = trainer::run(tf.config, data, comm, opt);
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {  // a checkpoint that cannot be written, ...
    std::cerr << "sparsim train: failed: " << e.what() << "\n";
    return 1;
  }
  nlohmann::json j = sim::to_json(out.result);
  j["phases_s"] = out.phases_s;  // per-phase seconds per timed step (trace span names)
  j["peer_wait_s"] = out.peer_wait_s;  // per timed step, waits in collectives for the last peer (0: one rank)
  j["losses"] = out.losses;
  if (!json.empty()) write_file(json, j.dump(2) + "\n");
  if (!trace.empty()) out.trace.write(trace, tf.name);
  if (format == "json")
    std::cout << j.dump(2) << "\n";
  else
    std::cout << sim::to_table(out.result);
  return 0;
}

}  // namespace sparsim::app
