/// \file
/// Training and evaluation loops for classifiers: one epoch of
/// forward / loss / backward / step over a data loader, evaluation in
/// inference mode, progress on stderr (progress.hpp), metrics as JSON lines
/// (metrics.hpp), and a stop with a clear message the moment the loss stops
/// being finite.
///
/// Options for short, fast runs (TrainOptions): label smoothing of the
/// training loss; a learning-rate schedule evaluated at every step; a
/// gradient multiplier per parameter; evaluation that averages the logits of
/// each image and of its mirror image (flip test-time augmentation) and of
/// the image shifted by a pixel (translate test-time augmentation); a
/// WeightAverage of the weights, updated after every step and swapped in
/// whenever the Trainer evaluates; and Lookahead, which pulls the weights
/// back towards a slow average every few steps.
///
/// A loader is anything with start_epoch(e), batches() and next(Batch<T>&)
/// -> bool; DataLoader is one.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
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
#include "../optim/schedule.hpp"
#include "../optim/weight_average.hpp"
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
  /// Of the training loss (SoftmaxCrossEntropy); evaluation reports the
  /// plain cross-entropy.
  double label_smoothing = 0;
  /// Set: the optimizer's rate before every step is schedule->lr_at(step,
  /// batches an epoch), step counting from the first batch of epoch 1.
  /// Unset: the rate is the caller's (the tools set it once an epoch).
  std::optional<LrSchedule> schedule;
  /// One factor per parameter of the network (empty: all 1), multiplied
  /// into its gradient before clipping and the optimizer step. With SGD it
  /// scales that parameter's learning rate and leaves its weight decay per
  /// step as it is (the speed-runs' 64x rate for BatchNorm biases).
  std::vector<double> gradient_scales;
  /// Evaluation scores the mean of the logits of each image and of its
  /// horizontal mirror.
  bool flip_tta = false;
  /// Evaluation scores half the logits of each image (with flip_tta, of it
  /// and its mirror) plus half their mean over the image shifted by one
  /// pixel up-left and by one down-right (shift_reflect): airbench94's
  /// test-time augmentation, at 3 times the cost.
  bool translate_tta = false;
  /// Lookahead as airbench94 runs it (0: off): every lookahead_every steps
  /// of an epoch, and after its last step, slow = d slow + (1 - d) fast with
  /// d = lookahead_decay (t / T)^3 after step t of T, and the network's
  /// parameters and buffers (fast) are set to slow. Slow starts as the
  /// network at each epoch, which ends in sync, so a checkpoint taken
  /// between epochs needs nothing more.
  int lookahead_every = 0;
  /// d at the end of training (airbench94: 0.95^5).
  double lookahead_decay = 0.7737809375;
};

/// Mirrors every image of x left to right, in place.
template <class T>
void flip_horizontal(Tensor4<T>& x) {
  const Index w = x.dimension(3), rows = w ? x.size() / w : 0;
  for (Index r = 0; r < rows; ++r) std::reverse(x.data() + r * w, x.data() + (r + 1) * w);
}

/// out = in shifted by s pixels down and right (s < 0: up and left), the
/// uncovered border filled by reflection (PyTorch's 'reflect' padding);
/// |s| must be below the image's height and width.
template <class T>
void shift_reflect(const Tensor4<T>& in, Tensor4<T>& out, Index s) {
  const Index h = in.dimension(2), w = in.dimension(3), planes = in.dimension(0) * in.dimension(1);
  SHALLOW_CHECK(std::abs(s) < h && std::abs(s) < w, ShapeError,
                "shift_reflect: a shift of " + std::to_string(s) + " on " + std::to_string(h) + "x" + std::to_string(w) +
                    " images");
  ensure_shape_like(out, in);
  const auto reflect = [](Index i, Index n) { return i < 0 ? -i : i >= n ? 2 * n - 2 - i : i; };
  for (Index p = 0; p < planes; ++p)
    for (Index y = 0; y < h; ++y)
      for (Index x = 0; x < w; ++x)
        out.data()[(p * h + y) * w + x] = in.data()[(p * h + reflect(y - s, h)) * w + reflect(x - s, w)];
}

/// Training and evaluation of a classifier Network with an Optimizer (the contract in this file's comment).
template <class T = float>
class Trainer {
 public:
  /// The optimizer must update net's parameters; both hold views of them, so
  /// build the Trainer once the network is complete. `average`, when given,
  /// must average net's parameters and buffers: it is updated after every
  /// step and swapped in while the Trainer evaluates.
  Trainer(Network<T>& net, Optimizer<T>& opt, TrainOptions options = {}, WeightAverage<T>* average = nullptr)
      : net_(net), opt_(opt), options_(std::move(options)), params_(net.parameters()), average_(average),
        loss_(options_.label_smoothing) {
    SHALLOW_CHECK(!params_.empty(), ConfigError, "Trainer: the network has no parameters (add its layers first)");
    SHALLOW_CHECK(options_.gradient_scales.empty() || options_.gradient_scales.size() == params_.size(), ConfigError,
                  "Trainer: " + std::to_string(options_.gradient_scales.size()) + " gradient scales for " +
                      std::to_string(params_.size()) + " parameters");
    for (double g : options_.gradient_scales)
      SHALLOW_CHECK(std::isfinite(g), ConfigError, "Trainer: gradient scale " + format_number(g) + " is not finite");
    SHALLOW_CHECK(options_.lookahead_every >= 0, ConfigError,
                  "Trainer: lookahead_every must be >= 0, got " + std::to_string(options_.lookahead_every));
    SHALLOW_CHECK(options_.lookahead_decay >= 0 && options_.lookahead_decay <= 1, ConfigError,
                  "Trainer: lookahead_decay must be in [0, 1], got " + format_number(options_.lookahead_decay));
    if (options_.lookahead_every > 0) slow_ = std::make_unique<WeightAverage<T>>(net_, 0.0);
  }

  /// Loss and accuracy on `loader`'s batches in inference mode, with the
  /// averaged weights when the Trainer has a WeightAverage.
  template <class Loader>
  EvalResult evaluate(Loader& loader) {
    net_.eval();
    const AverageSwap<T> averaged(average_);
    EvalResult r;
    double loss_sum = 0;
    Index correct = 0;
    loader.start_epoch(0);
    while (loader.next(batch_)) {
      const Tensor4<T>* logits = &logits_;
      if (options_.flip_tta || options_.translate_tta) {
        // The image weighs 1/2 against its two shifts' 1/4 each (1 without
        // translate_tta); with flip_tta each view's mirror shares its weight.
        add_views(batch_.x, options_.translate_tta ? T(0.5) : T(1), true);
        if (options_.translate_tta)
          for (Index s : {-1, 1}) {
            shift_reflect(batch_.x, shifted_, s);
            add_views(shifted_, T(0.25), false);
          }
      } else {
        logits = &net_.forward(batch_.x);
      }
      const T loss = eval_loss_.forward(*logits, batch_.y);
      loss_sum += double(loss) * double(batch_.size);
      correct += eval_loss_.correct();
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
    const std::int64_t first_step = std::int64_t(epoch - 1) * std::int64_t(batches);
    if (slow_) slow_->reset();
    while (train.next(batch_)) {
      if (options_.schedule) opt_.set_lr(options_.schedule->lr_at(first_step + b, batches));
      for (auto& p : params_) p.grad.setZero();
      const T loss = loss_.forward(net_.forward(batch_.x), batch_.y);
      if (!std::isfinite(double(loss)))
        throw NumericError("epoch " + std::to_string(epoch) + ", batch " + std::to_string(b + 1) +
                           ": the training loss is " + format_number(double(loss)) +
                           "; lower the learning rate or clip gradients (TrainOptions::clip_grad_norm)");
      net_.backward(loss_.backward());
      for (std::size_t i = 0; i < options_.gradient_scales.size(); ++i)
        if (options_.gradient_scales[i] != 1) params_[i].grad *= T(options_.gradient_scales[i]);
      if (options_.clip_grad_norm > 0) clip_grad_norm(params_, T(options_.clip_grad_norm));
      opt_.step();
      if (slow_ && ((b + 1) % options_.lookahead_every == 0 || b + 1 == batches)) {
        const double t = double(first_step + b + 1) / (double(options_.epochs) * double(batches));
        slow_->update(options_.lookahead_decay * std::min(t * t * t, 1.0));
        slow_->copy_to_model();
      }
      if (average_) average_->update();
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
    char validated[64] = "";
    if (val) std::snprintf(validated, sizeof validated, "  val loss %.4f acc %.4f", m.val_loss, m.val_acc);
    char line[256];
    std::snprintf(line, sizeof line, "%s  train loss %.4f acc %.4f%s  %.1fs  %.0f img/s", label.c_str(), m.train_loss,
                  m.train_acc, validated, m.seconds, m.images_per_s);
    progress.finish(line, options_.summary);
    if (!options_.metrics_path.empty()) append_line(options_.metrics_path, to_json(m));
    return m;
  }

 private:
  // logits_ (= when `first`, else +=) weight * net(x), shared with
  // net(mirror of x) under flip_tta; x is left as it was.
  void add_views(Tensor4<T>& x, T weight, bool first) {
    const T w = options_.flip_tta ? weight / 2 : weight;
    const auto add = [&](const Tensor4<T>& y) {
      if (first) {
        logits_ = y;  // the next forward reuses the network's output buffer
        as_vector(logits_) *= w;
        first = false;
      } else {
        as_vector(logits_) += w * as_vector(y);
      }
    };
    add(net_.forward(x));
    if (!options_.flip_tta) return;
    flip_horizontal(x);
    add(net_.forward(x));
    flip_horizontal(x);
  }

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
  WeightAverage<T>* average_;
  std::unique_ptr<WeightAverage<T>> slow_;  // with lookahead
  SoftmaxCrossEntropy<T> loss_, eval_loss_;
  Batch<T> batch_;
  Tensor4<T> logits_, shifted_;
};

}  // namespace shallow
