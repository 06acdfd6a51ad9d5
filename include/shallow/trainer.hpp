// Training and evaluation loops for classifiers: one epoch of
// forward / loss / backward / step over a data loader, evaluation in
// inference mode, progress on a terminal, metrics as JSON lines, and a stop
// with a clear message the moment the loss stops being finite.
//
// A loader is anything with start_epoch(e), batches() and next(Batch<T>&)
// -> bool; DataLoader is one.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

#include "clip_grad.hpp"
#include "data_loader.hpp"
#include "loss.hpp"
#include "network.hpp"
#include "optimizer.hpp"
#include "spec.hpp"

namespace shallow {

struct EvalResult {
  double loss = 0, accuracy = 0;
  Index samples = 0;
};

struct EpochMetrics {
  int epoch = 0;
  double lr = 0;
  double train_loss = 0, train_acc = 0;
  double val_loss = std::nan(""), val_acc = std::nan("");
  double seconds = 0, images_per_s = 0;
};

// One JSON object per line; NaN (no validation set) is written as null.
inline std::string to_json(const EpochMetrics& m) {
  auto num = [](double v) { return std::isfinite(v) ? format_number(v) : std::string("null"); };
  return "{\"epoch\": " + std::to_string(m.epoch) + ", \"lr\": " + num(m.lr) + ", \"train_loss\": " +
         num(m.train_loss) + ", \"train_acc\": " + num(m.train_acc) + ", \"val_loss\": " + num(m.val_loss) +
         ", \"val_acc\": " + num(m.val_acc) + ", \"seconds\": " + num(m.seconds) +
         ", \"images_per_s\": " + num(m.images_per_s) + "}";
}

// Reads back a line written by to_json; fields it lacks stay at their
// defaults. FormatError (naming `source`) when the line is not such an object.
inline EpochMetrics metrics_from_json(const std::string& line, const std::string& source) {
  const auto field = [&](const char* name, double fallback) {
    const std::string key = std::string("\"") + name + "\":";
    const auto at = line.find(key);
    if (at == std::string::npos) return fallback;
    const char* begin = line.c_str() + at + key.size();
    while (*begin == ' ') ++begin;
    if (std::string(begin, 4) == "null") return std::nan("");
    char* end = nullptr;
    const double v = std::strtod(begin, &end);
    if (end == begin) throw FormatError(source, std::string("metrics field '") + name + "' is not a number");
    return v;
  };
  if (line.empty() || line.front() != '{' || line.back() != '}')
    throw FormatError(source, "not a metrics line: " + line.substr(0, 80));
  EpochMetrics m;
  m.epoch = int(field("epoch", 0));
  m.lr = field("lr", 0);
  m.train_loss = field("train_loss", 0);
  m.train_acc = field("train_acc", 0);
  m.val_loss = field("val_loss", std::nan(""));
  m.val_acc = field("val_acc", std::nan(""));
  m.seconds = field("seconds", 0);
  m.images_per_s = field("images_per_s", 0);
  return m;
}

inline void append_line(const std::string& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  out << line << '\n';
  out.flush();
  if (!out) throw IoError(path, "cannot append metrics");
}

// "epoch 3/10", or "epoch 3" when the total is unknown (or exceeded).
inline std::string epoch_label(int epoch, int epochs) {
  return "epoch " + std::to_string(epoch) + (epochs >= epoch ? "/" + std::to_string(epochs) : "");
}

// Progress within an epoch: on a terminal a bar redrawn in place; otherwise
// a plain line at every tenth of the epoch, so logs stay readable.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled), live_(enabled && isatty(fileno(stderr))) {}

  void update(const std::string& epoch, Index batch, Index batches, Index images, double loss, double acc,
              double seconds) {
    if (!enabled_ || batch <= 0 || batches <= 0) return;
    const double rate = seconds > 0 ? double(batch) / seconds : 0;
    const double eta = rate > 0 ? double(batches - batch) / rate : 0;
    const double images_per_s = seconds > 0 ? double(images) / seconds : 0;
    if (live_) {
      constexpr int width = 24;
      const int done = int(width * batch / batches);
      std::fprintf(stderr, "\r%s [%s%s] %ld/%ld  loss %.4f  acc %.4f  %.0f img/s  ETA %.0fs ", epoch.c_str(),
                   std::string(std::size_t(done), '=').c_str(), std::string(std::size_t(width - done), ' ').c_str(),
                   long(batch), long(batches), loss, acc, images_per_s, eta);
    } else if (batch * 10 / batches != (batch - 1) * 10 / batches && batch < batches) {
      std::fprintf(stderr, "%s  batch %ld/%ld  loss %.4f  acc %.4f  %.0f img/s  ETA %.0fs\n", epoch.c_str(),
                   long(batch), long(batches), loss, acc, images_per_s, eta);
    }
  }
  void finish(const std::string& summary, bool print) {
    if (live_) std::fprintf(stderr, "\r%-110s\r", "");
    if (print) std::fprintf(stderr, "%s\n", summary.c_str());
  }

 private:
  bool enabled_, live_;
};

struct TrainOptions {
  int epochs = 1;
  double clip_grad_norm = 0;  // 0: no clipping
  bool progress = true;       // progress within epochs, on stderr
  bool summary = true;        // a line per epoch on stderr
  std::string metrics_path;   // "" : no metrics file
};

template <class T = float>
class Trainer {
 public:
  Trainer(Network<T>& net, Optimizer<T>& opt, TrainOptions options = {})
      : net_(net), opt_(opt), options_(std::move(options)), params_(net.parameters()) {}

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

  // Trains epoch `epoch` (1-based), evaluates on `val` if given, appends the
  // metrics line. Throws NumericError when the loss turns NaN or infinite.
  template <class Loader, class ValLoader = Loader>
  EpochMetrics fit_epoch(Loader& train, int epoch, ValLoader* val = nullptr) {
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
                           "; lower the learning rate or clip gradients (--clip)");
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
      const EvalResult v = evaluate(*val);
      m.val_loss = v.loss;
      m.val_acc = v.accuracy;
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
  Network<T>& net_;
  Optimizer<T>& opt_;
  TrainOptions options_;
  std::vector<Parameter<T>> params_;
  SoftmaxCrossEntropy<T> loss_;
  Batch<T> batch_;
};

}  // namespace shallow
