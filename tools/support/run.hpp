// One training run of the tools: the network, optimizer and schedule the
// flags describe, and the loop over epochs with a hook after each.
#pragma once

#include <shallow/shallow.hpp>

#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "datasets.hpp"
#include "training_flags.hpp"

namespace shallow::tools {

struct Run {
  Network<float> net;
  std::unique_ptr<Optimizer<float>> optimizer;
  LrSchedule schedule;
  std::vector<EpochMetrics> history;
};

inline Run make_run(const cli::Parser& p, const Dataset& train, Layout layout) {
  Run r{build_model<float>(model_config(p, train, layout)), nullptr, LrSchedule::constant(p.number("lr")), {}};
  r.optimizer = make_optimizer(p, r.net);
  const double lr = p.number("lr");
  const int epochs = int(p.integer("epochs"));
  r.schedule = parsed(p, "schedule", [&](const std::string& s) { return parse_schedule(s, lr, epochs); });
  return r;
}

// Trains `run` from epoch `first` to --epochs; after each epoch calls
// on_epoch(run) (checkpoints hook in there), and stops early when that
// returns false.
template <class OnEpoch>
void train_epochs(const cli::Parser& p, const Data& data, Run& run, int first, OnEpoch on_epoch,
                  const std::string& metrics_path = "") {
  DataLoader train(data.train, loader_options(p, data, true));
  DataLoader val(data.val, loader_options(p, data, false));
  TrainOptions o;
  o.epochs = int(p.integer("epochs"));
  o.clip_grad_norm = p.number("clip");
  o.progress = !p.flag("quiet");
  o.metrics_path = metrics_path;
  Trainer<float> trainer(run.net, *run.optimizer, o);
  for (int e = first; e <= o.epochs; ++e) {
    run.optimizer->set_lr(run.schedule.lr_at(e - 1));
    run.history.push_back(trainer.fit_epoch(train, e, &val));
    if (!on_epoch(run)) return;
  }
}

// Writes run's weights, optimizer state and history, with m (whose epoch
// and history are filled here) and the data's description, atomically to
// `path`: with the same flags, all that determines the rest of the run.
inline void save_run(const std::string& path, Run& run, const cli::Parser& p, const Data& data, RunMetadata m) {
  Checkpoint ck = capture(run.net, run.optimizer.get());
  ck.optimizer = p.text("optimizer");
  m.epoch = run.history.back().epoch;
  m.input = data.train.shape;
  m.class_names = data.train.class_names;
  m.normalize = data.norm;
  m.history = run.history;
  m.write(ck);
  save_checkpoint(path, ck);
}

// Restores what save_run wrote into `run` (built from the same flags);
// returns the next epoch.
inline int restore_run(const std::string& path, const Checkpoint& ck, const RunMetadata& m, Run& run) {
  try {
    restore(ck, run.net, run.optimizer.get());
  } catch (const Error& e) {
    throw Error(path + ": cannot resume these flags from it: " + e.what());
  }
  run.history = m.history;
  return m.epoch + 1;
}

// Loss and accuracy of run's network on `set`, normalised as in training.
inline EvalResult evaluate(const cli::Parser& p, const Data& data, Run& run, const Dataset& set) {
  DataLoader loader(set, loader_options(p, data, false));
  return Trainer<float>(run.net, *run.optimizer).evaluate(loader);
}

}  // namespace shallow::tools
