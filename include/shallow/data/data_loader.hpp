/// \file
/// Batches from a Dataset: a seeded shuffle per epoch, pixels scaled to
/// [0, 1] and normalised per channel, optional augmentation (random crop
/// after zero- or reflection-padding, horizontal flip at random or in
/// alternate epochs, in torchvision's order), and optional preparation of the
/// next batch on a background thread.
///
/// Everything random is a function of (seed, epoch, batch index) alone, so a
/// resumed run sees the same batches as an uninterrupted one, and prefetching
/// changes nothing but timing.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <numeric>
#include <thread>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"
#include "dataset.hpp"
#include "normalize.hpp"

namespace shallow {

/// How a DataLoader batches, normalises and augments.
struct LoaderOptions {
  /// Images per batch; positive.
  Index batch_size = 64;
  /// Shuffle the images each epoch (seeded by seed and the epoch).
  bool shuffle = false;
  /// Seeds the shuffle and the augmentation.
  std::uint64_t seed = 1;
  /// Per-channel normalisation after scaling to [0, 1].
  Normalize normalize;            // default: pixels scaled to [0, 1] only
  /// Padding for the random crop; >= 0, 0 turns the crop off.
  Index crop_padding = 0;         // random crop of the image padded by this (0: off)
  /// Pad the crop by reflecting the image at its border (numpy's 'reflect',
  /// as airbench94) instead of with zero pixels; needs crop_padding smaller
  /// than the image's height and width.
  bool reflect_padding = false;
  /// Flip a random half of the images horizontally.
  bool horizontal_flip = false;   // flip half of the images
  /// With horizontal_flip: flip each image in every other epoch instead of
  /// at random each epoch (airbench94's alternating flip): which parity of
  /// epochs is random per image, so any two consecutive epochs show every
  /// image both ways.
  bool alternate_flips = false;
  /// Skip a final batch smaller than batch_size.
  bool drop_last = false;         // skip a final partial batch
  /// Prepare the next batch on a background thread (same batches, other timing).
  bool prefetch = false;          // prepare the next batch on a background thread
};

/// Images N x C x H x W and their labels; size == N.
template <class T = float>
struct Batch {
  /// The images, normalised.
  Tensor4<T> x;
  /// One label per image.
  std::vector<int> y;
  /// The number of images.
  Index size = 0;
};

/// Batches of a Dataset as the contract in this file's comment describes.
template <class T = float>
class DataLoader {
 public:
  /// Batches of data, which must outlive the loader; ConfigError for a non-positive batch size, a negative crop padding (or a reflection padding as large as the image) or a normalisation with the wrong channel count.
  DataLoader(const Dataset& data, LoaderOptions options) : data_(data), o_(std::move(options)) {
    SHALLOW_CHECK(o_.batch_size > 0, ConfigError,
                  "DataLoader: batch size must be positive, got " + std::to_string(o_.batch_size));
    SHALLOW_CHECK(o_.crop_padding >= 0, ConfigError, "DataLoader: crop padding must be >= 0");
    SHALLOW_CHECK(!o_.reflect_padding || (o_.crop_padding < data_.shape.h && o_.crop_padding < data_.shape.w),
                  ConfigError,
                  "DataLoader: reflection padding " + std::to_string(o_.crop_padding) + " needs images larger than it, got " +
                      to_string(data_.shape));
    o_.normalize.check_channels(data_.shape.c);
    order_.resize(std::size_t(data_.size()));
    std::iota(order_.begin(), order_.end(), Index(0));
  }
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;
  ~DataLoader() {
    if (!worker_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  /// Batches per epoch: a final partial batch counts unless drop_last.
  Index batches() const {
    const Index n = data_.size(), b = o_.batch_size;
    return o_.drop_last ? n / b : (n + b - 1) / b;
  }
  /// The dataset batched.
  const Dataset& dataset() const { return data_; }
  /// The options given, as checked.
  const LoaderOptions& options() const { return o_; }

  /// Rewinds to the first batch of `epoch`, whose order (when shuffling) and
  /// augmentation depend only on the seed and the epoch.
  void start_epoch(int epoch) {
    wait_idle();
    epoch_ = epoch;
    next_ = 0;
    std::iota(order_.begin(), order_.end(), Index(0));
    if (o_.shuffle) {
      Rng rng(mix_seed(o_.seed, std::uint64_t(epoch)));
      for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng.below(i)]);
    }
    if (o_.prefetch && batches() > 0) request(0);
  }

  /// The next batch of the epoch into b (its buffers are reused); false
  /// when the epoch is over.
  bool next(Batch<T>& b) {
    if (next_ >= batches()) return false;
    if (o_.prefetch) {
      wait_idle();
      if (spare_index_ != next_) fill(next_, spare_);  // nothing requested yet
      std::swap(b, spare_);
      spare_index_ = -1;
      if (next_ + 1 < batches()) request(next_ + 1);
    } else {
      fill(next_, b);
    }
    ++next_;
    return true;
  }

  /// The order of the current epoch: order()[k] is the dataset index of its
  /// k-th image.
  const std::vector<Index>& order() const { return order_; }

 private:
  // Assembles batch `index` of the current epoch.
  void fill(Index index, Batch<T>& b) const {
    const Index first = index * o_.batch_size, n = std::min(o_.batch_size, data_.size() - first);
    const Shape s = data_.shape;
    const Index plane = s.h * s.w, pad = o_.crop_padding;
    ensure_shape(b.x, n, s.c, s.h, s.w);
    b.y.resize(std::size_t(n));
    b.size = n;
    Rng rng(mix_seed(mix_seed(o_.seed, std::uint64_t(epoch_)), std::uint64_t(index) + 1));
    for (Index k = 0; k < n; ++k) {
      const Index i = order_[std::size_t(first + k)];
      b.y[std::size_t(k)] = data_.labels[std::size_t(i)];
      // The crop window's offset in the padded image, minus the padding.
      const Index oy = pad ? Index(rng.below(std::uint64_t(2 * pad + 1))) - pad : 0;
      const Index ox = pad ? Index(rng.below(std::uint64_t(2 * pad + 1))) - pad : 0;
      const bool flip = o_.horizontal_flip && (o_.alternate_flips ? flipped_in_even_epochs(i) == (epoch_ % 2 == 0)
                                                                   : (rng.next() >> 63) != 0);
      const std::uint8_t* src = data_.image(i);
      T* dst = b.x.data() + k * s.size();
      for (Index c = 0; c < s.c; ++c) {
        const double scale = o_.normalize.scale(c);
        const T shift = T(o_.normalize.shift(c));
        for (Index y = 0; y < s.h; ++y) {
          const Index sy = padded(y + oy, s.h);
          T* row = dst + c * plane + y * s.w;
          for (Index x = 0; x < s.w; ++x) {
            const Index sx = padded((flip ? s.w - 1 - x : x) + ox, s.w);
            // Zero padding is pixel value 0, normalised like any pixel.
            const int v = (sy >= 0 && sy < s.h && sx >= 0 && sx < s.w) ? src[c * plane + sy * s.w + sx] : 0;
            row[x] = T(v * scale) + shift;
          }
        }
      }
    }
  }

  // Coordinate v of an image n pixels long, reflected at the border with
  // reflect_padding; else v itself, outside [0, n) in the zero padding.
  Index padded(Index v, Index n) const {
    if (!o_.reflect_padding) return v;
    return v < 0 ? -v : v >= n ? 2 * (n - 1) - v : v;
  }

  // With alternate_flips: whether dataset image i is flipped in even epochs
  // (and so not in odd ones), a fixed coin per image and seed.
  bool flipped_in_even_epochs(Index i) const {
    return (mix_seed(mix_seed(o_.seed, 0x666c6970 /* "flip" */), std::uint64_t(i)) >> 63) != 0;
  }

  void request(Index index) {
    if (!worker_.joinable()) worker_ = std::thread([this] { work(); });
    {
      std::lock_guard<std::mutex> lock(m_);
      spare_index_ = index;
      busy_ = true;
    }
    cv_.notify_all();
  }

  void wait_idle() {
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [this] { return !busy_; });
  }

  void work() {
    std::unique_lock<std::mutex> lock(m_);
    while (true) {
      cv_.wait(lock, [this] { return busy_ || stop_; });
      if (stop_) return;
      lock.unlock();
      fill(spare_index_, spare_);
      lock.lock();
      busy_ = false;
      cv_.notify_all();
    }
  }

  const Dataset& data_;
  LoaderOptions o_;
  std::vector<Index> order_;
  int epoch_ = 0;
  Index next_ = 0;

  // Prefetching: the worker fills spare_ with batch spare_index_ while busy_;
  // -1 once the caller has taken it.
  Batch<T> spare_;
  std::thread worker_;
  std::mutex m_;
  std::condition_variable cv_;
  Index spare_index_ = -1;
  bool busy_ = false, stop_ = false;
};

}  // namespace shallow
