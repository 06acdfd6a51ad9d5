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

// Loss and accuracy of run's network on `set`, normalised as in training.
inline EvalResult evaluate(const cli::Parser& p, const Data& data, Run& run, const Dataset& set) {
  DataLoader loader(set, loader_options(p, data, false));
  return Trainer<float>(run.net, *run.optimizer).evaluate(loader);
}

}  // namespace shallow::tools
