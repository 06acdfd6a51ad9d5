/// \file
/// Training and evaluation loops for classifiers: one epoch of
/// forward / loss / backward / step over a data loader, evaluation in
/// inference mode, progress on stderr (progress.hpp), metrics as JSON lines
/// (metrics.hpp), and a stop with a clear message the moment the loss stops
/// being finite.
///
/// A loader is anything with start_epoch(e), batches() and next(Batch<T>&)
/// -> bool; DataLoader is one.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/format.hpp"
#include "../data/data_loader.hpp"
#include "../nn/loss.hpp"
#include "../nn/network.hpp"
#include "../optim/clip_grad.hpp"
#include "../optim/optimizer.hpp"
#include "metrics.hpp"
#include "progress.hpp"

namespace shallow {

/// Mean loss and accuracy over a data set.
struct EvalResult {
  ///@{
  /// Mean loss and the fraction classified correctly.
  double loss = 0, accuracy = 0;
  ///@}
  /// The number of samples evaluated.
  Index samples = 0;
};

/// How a Trainer runs.
struct TrainOptions {
  /// Epochs to train.
  int epochs = 1;
  /// Clip the gradients' global norm to this; 0: no clipping.
  double clip_grad_norm = 0;  // 0: no clipping
  /// Progress within epochs, on stderr.
  bool progress = true;       // progress within epochs, on stderr
  /// A line per epoch on stderr.
  bool summary = true;        // a line per epoch on stderr
  /// Append each epoch's metrics as a JSON line to this file; "": none.
  std::string metrics_path;   // "" : no metrics file
};

/// Training and evaluation of a classifier Network with an Optimizer (the contract in this file's comment).
template <class T = float>
class Trainer {
 public:
  /// The optimizer must update net's parameters; both hold views of them, so
  /// build the Trainer once the network is complete.
  Trainer(Network<T>& net, Optimizer<T>& opt, TrainOptions options = {})
      : net_(net), opt_(opt), options_(std::move(options)), params_(net.parameters()) {
    SHALLOW_CHECK(!params_.empty(), ConfigError, "Trainer: the network has no parameters (add its layers first)");
  }

  /// The mean loss and accuracy over one pass of loader, in inference mode.
  template <class Loader>
  EvalResult evaluate(Loader& loader) {
    net_.eval();
    EvalResult r;
    double loss_sum = 0;
    Index correct = 0;
    loader.start_epoch(0);
    while (loader.next(batch_)) {
      const T loss = loss_.forward(net_.forward(batch_.x), batch_.y);
      loss_sum += double(loss) * double(batch_.size);
      correct += loss_.correct();
      r.samples += batch_.size;
    }
    if (r.samples > 0) {
      r.loss = loss_sum / double(r.samples);
      r.accuracy = double(correct) / double(r.samples);
    }
    return r;
  }

  /// Trains epoch `epoch` (1-based), evaluates on `val` if given, appends the
  /// metrics line. Throws NumericError when the loss turns NaN or infinite.
  template <class Loader, class ValLoader = Loader>
  EpochMetrics fit_epoch(Loader& train, int epoch, ValLoader* val = nullptr) {
    check_parameters();
    SHALLOW_CHECK(train.batches() > 0, ConfigError, "Trainer: the training loader has no batches (an empty dataset?)");
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    Progress progress(options_.progress);
    const std::string label = epoch_label(epoch, options_.epochs);
    net_.train();
    train.start_epoch(epoch);
    const Index batches = train.batches();
    double loss_sum = 0;
    Index correct = 0, seen = 0, b = 0;
    while (train.next(batch_)) {
      for (auto& p : params_) p.grad.setZero();
      const T loss = loss_.forward(net_.forward(batch_.x), batch_.y);
      if (!std::isfinite(double(loss)))
        throw NumericError("epoch " + std::to_string(epoch) + ", batch " + std::to_string(b + 1) +
                           ": the training loss is " + format_number(double(loss)) +
                           "; lower the learning rate or clip gradients (TrainOptions::clip_grad_norm)");
      net_.backward(loss_.backward());
      if (options_.clip_grad_norm > 0) clip_grad_norm(params_, T(options_.clip_grad_norm));
      opt_.step();
      loss_sum += double(loss) * double(batch_.size);
      correct += loss_.correct();
      seen += batch_.size;
      ++b;
      progress.update(label, b, batches, seen, loss_sum / double(seen), double(correct) / double(seen),
                      std::chrono::duration<double>(clock::now() - start).count());
    }
    EpochMetrics m;
    m.epoch = epoch;
    m.lr = opt_.lr();
    m.seconds = std::chrono::duration<double>(clock::now() - start).count();
    m.images_per_s = double(seen) / m.seconds;
    m.train_loss = seen ? loss_sum / double(seen) : 0;
    m.train_acc = seen ? double(correct) / double(seen) : 0;
    if (val) {
      const auto val_start = clock::now();
      const EvalResult v = evaluate(*val);
      m.val_loss = v.loss;
      m.val_acc = v.accuracy;
      m.val_seconds = std::chrono::duration<double>(clock::now() - val_start).count();
    }
    char line[256];
    std::snprintf(line, sizeof line,
                  "%s  train loss %.4f acc %.4f  val loss %.4f acc %.4f  %.1fs  %.0f img/s", label.c_str(),
                  m.train_loss, m.train_acc, m.val_loss, m.val_acc, m.seconds, m.images_per_s);
    progress.finish(line, options_.summary);
    if (!options_.metrics_path.empty()) append_line(options_.metrics_path, to_json(m));
    return m;
  }

 private:
  // The layers' parameter list must still be the one the Trainer (and, by
  // the same rule, the optimizer) was built with.
  void check_parameters() {
    const auto now = net_.parameters();
    bool same = now.size() == params_.size();
    for (std::size_t i = 0; same && i < now.size(); ++i)
      same = now[i].value.data() == params_[i].value.data() && now[i].value.size() == params_[i].value.size();
    SHALLOW_CHECK(same, ConfigError,
                  "Trainer: the network's parameters changed since the Trainer was built (" +
                      std::to_string(params_.size()) + " then, " + std::to_string(now.size()) +
                      " now); build the optimizer and the Trainer after the network is complete");
  }

  Network<T>& net_;
  Optimizer<T>& opt_;
  TrainOptions options_;
  std::vector<Parameter<T>> params_;
  SoftmaxCrossEntropy<T> loss_;
  Batch<T> batch_;
};

}  // namespace shallow
