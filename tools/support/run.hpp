// One training run of the tools: the network, optimizer and schedule the
// flags describe, and the loop over epochs with a hook after each.
//
// With --ema, the run keeps a WeightAverage of the weights: every
// evaluation (validation, test) uses the average, and so does a saved
// checkpoint's network (what shallow-predict loads is the model whose
// accuracy was reported). The weights training continues from ride in the
// checkpoint's optimizer section as "training.<name>" tensors beside the
// optimizer state (capture_run, load_run), so --resume continues the
// same run exactly; the average's update count is the optimizer's step
// count, as both advance once a step.
#pragma once

#include <shallow/shallow.hpp>

#include <algorithm>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
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
  std::unique_ptr<WeightAverage<float>> average;  // with --ema
  std::vector<double> gradient_scales;            // per parameter; empty: all 1
};

// The first n images of `set`, normalised as the loaders normalise them.
inline Tensor4<float> normalized_images(const Dataset& set, const Normalize& norm, Index n) {
  n = std::min(n, set.size());
  Tensor4<float> x(n, set.shape.c, set.shape.h, set.shape.w);
  for (Index i = 0; i < n; ++i) norm.apply(set.image(i), set.shape, x.data() + i * set.shape.size());
  return x;
}

// Images the whitening of --model fast is fitted on: enough for a 12 x 12
// covariance many times over, and a fraction of a second.
inline constexpr Index whitening_images = 5000;

inline Run make_run(const cli::Parser& p, const Dataset& train, Layout layout) {
  const double lr = p.number("lr");
  const int epochs = int(p.integer("epochs"));
  Run r{build_network(p, train, layout), nullptr,
        parsed(p, "schedule", [&](const std::string& s) { return parse_schedule(s, lr, epochs); }), {}, nullptr, {}};
  if (fast_model(p)) {
    fit_whitening(r.net, normalized_images(train, Normalize::fit(train), whitening_images));
    r.gradient_scales = fast_gradient_scales(r.net, fast_model_config(p, train, layout), p.number("bn-bias-lr"));
  }
  r.optimizer = make_optimizer(p, r.net);
  if (const double decay = p.number("ema"); decay > 0) r.average = std::make_unique<WeightAverage<float>>(r.net, decay);
  return r;
}

// The Trainer's options for the flags (epochs, clipping, progress, loss,
// schedule, gradient scales, evaluation).
inline TrainOptions train_options(const cli::Parser& p, const Run& run) {
  TrainOptions o;
  o.epochs = int(p.integer("epochs"));
  o.clip_grad_norm = p.number("clip");
  o.progress = !p.flag("quiet");
  o.label_smoothing = p.number("label-smoothing");
  if (p.flag("lr-per-step")) o.schedule = run.schedule;
  o.gradient_scales = run.gradient_scales;
  o.flip_tta = p.flag("tta");
  o.translate_tta = p.flag("tta-translate");
  o.lookahead_every = int(p.integer("lookahead"));
  return o;
}

// Trains `run` from epoch `first` to --epochs, validating as --val-every
// says; after each epoch calls on_epoch(run) (checkpoints hook in there),
// and stops early when that returns false.
template <class OnEpoch>
void train_epochs(const cli::Parser& p, const Data& data, Run& run, int first, OnEpoch on_epoch,
                  const std::string& metrics_path = "") {
  DataLoader train(data.train, loader_options(p, data, true));
  DataLoader val(data.val, loader_options(p, data, false));
  TrainOptions o = train_options(p, run);
  o.metrics_path = metrics_path;
  Trainer<float> trainer(run.net, *run.optimizer, o, run.average.get());
  const int every = int(p.integer("val-every"));
  for (int e = first; e <= o.epochs; ++e) {
    run.optimizer->set_lr(run.schedule.lr_at(e - 1));
    run.history.push_back(trainer.fit_epoch(train, e, e % every == 0 || e == o.epochs ? &val : nullptr));
    if (!on_epoch(run)) return;
  }
}

// Loss and accuracy of run's network (its average, with --ema) on `set`,
// normalised as in training.
inline EvalResult evaluate(const cli::Parser& p, const Data& data, Run& run, const Dataset& set) {
  DataLoader loader(set, loader_options(p, data, false));
  return Trainer<float>(run.net, *run.optimizer, train_options(p, run), run.average.get()).evaluate(loader);
}

inline const std::string training_prefix = "training.";

// A checkpoint of the run: its network (the average, with --ema) and the
// optimizer state, with the training weights among the latter.
inline Checkpoint capture_run(Run& run) {
  if (!run.average) return capture(run.net, run.optimizer.get());
  Checkpoint ck;
  {
    const AverageSwap<float> averaged(run.average.get());
    ck = capture(run.net, run.optimizer.get());
  }
  auto& tensors = ck.optimizer_state->tensors;
  for (const auto& p : run.net.parameters()) tensors.emplace_back(training_prefix + p.name, p.value.cast<double>());
  for (const auto& b : run.net.buffers()) tensors.emplace_back(training_prefix + b.name, b.value.cast<double>());
  return ck;
}

// Loads a checkpoint of capture_run into a run made from the same flags;
// Error naming what does not fit, with nothing changed. (With other
// flags, --resume-with-changes: a checkpoint without training weights gives
// an --ema run its network as both the average and the training weights; a
// run without --ema continues from a checkpoint's average.)
inline void load_run(Checkpoint ck, Run& run) {
  std::vector<std::pair<std::string, VectorX<double>>> training;
  if (ck.optimizer_state) {
    auto& tensors = ck.optimizer_state->tensors;
    const auto first = std::stable_partition(tensors.begin(), tensors.end(), [](const auto& t) {
      return !starts_with(t.first, training_prefix);
    });
    std::move(first, tensors.end(), std::back_inserter(training));
    tensors.erase(first, tensors.end());
  }
  auto params = run.net.parameters();
  auto buffers = run.net.buffers();
  // The training weights must fit before anything changes.
  if (run.average && !training.empty()) {
    const auto fits = [&](std::size_t i, const std::string& name, Index size) {
      if (training[i].first != training_prefix + name || training[i].second.size() != size)
        throw ShapeError("checkpoint: training weight " + std::to_string(i) + " is '" + training[i].first +
                         "', the network's is '" + training_prefix + name + "'");
    };
    if (training.size() != params.size() + buffers.size())
      throw ShapeError("checkpoint: holds " + std::to_string(training.size()) + " training weights, the network " +
                       std::to_string(params.size() + buffers.size()));
    for (std::size_t i = 0; i < params.size(); ++i) fits(i, params[i].name, params[i].value.size());
    for (std::size_t i = 0; i < buffers.size(); ++i)
      fits(params.size() + i, buffers[i].name, buffers[i].value.size());
  }
  restore(ck, run.net, run.optimizer.get());
  if (!run.average) return;
  OptimizerState<float> average;
  average.steps = run.optimizer->steps();
  for (const auto& p : params) average.tensors.emplace_back(p.name, p.value);
  for (const auto& b : buffers) average.tensors.emplace_back(b.name, b.value);
  run.average->load_state(average);
  if (training.empty()) return;
  for (std::size_t i = 0; i < params.size(); ++i) params[i].value = training[i].second.cast<float>();
  for (std::size_t i = 0; i < buffers.size(); ++i) buffers[i].value = training[params.size() + i].second.cast<float>();
}

// Writes run's weights, optimizer state and history, with m (whose epoch
// and history are filled here) and the data's description, atomically to
// `path`: with the same flags, all that determines the rest of the run.
inline void save_run(const std::string& path, Run& run, const cli::Parser& p, const Data& data, RunMetadata m) {
  Checkpoint ck = capture_run(run);
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
    load_run(ck, run);
  } catch (const Error& e) {
    throw Error(path + ": cannot resume these flags from it: " + e.what());
  }
  run.history = m.history;
  return m.epoch + 1;
}

}  // namespace shallow::tools
