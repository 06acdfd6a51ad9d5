/// \file
/// Progress within an epoch, on stderr: on a terminal a bar redrawn in place;
/// otherwise a plain line at every tenth of the epoch, so logs stay readable.
#pragma once

#include <cstdio>
#include <string>

#include <unistd.h>

#include "../core/tensor.hpp"

namespace shallow {

/// "epoch 3/10", or "epoch 3" when the total is unknown (or exceeded).
inline std::string epoch_label(int epoch, int epochs) {
  return "epoch " + std::to_string(epoch) + (epochs >= epoch ? "/" + std::to_string(epochs) : "");
}

/// Draws the progress of one epoch.
class Progress {
 public:
  /// Draws nothing unless enabled; redraws a bar in place only on a terminal.
  explicit Progress(bool enabled) : enabled_(enabled), live_(enabled && isatty(fileno(stderr))) {}

  /// Reports batch of batches done in epoch (a label), images seen and the running loss and accuracy after seconds.
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
  /// Clears the bar; prints summary on its own line when print.
  void finish(const std::string& summary, bool print) {
    if (live_) std::fprintf(stderr, "\r%-110s\r", "");
    if (print) std::fprintf(stderr, "%s\n", summary.c_str());
  }

 private:
  bool enabled_, live_;
};

}  // namespace shallow
