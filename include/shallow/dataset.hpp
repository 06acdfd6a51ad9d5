// A labelled image dataset held in memory as the 8-bit pixels it was
// stored with: N images, contiguous NCHW, and one label per image. Loaders
// (mnist.hpp, cifar10.hpp, image_folder.hpp) fill it; DataLoader turns it
// into normalised float batches.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "error.hpp"
#include "tensor.hpp"

namespace shallow {

// Per-channel mean and standard deviation of pixels scaled to [0, 1].
struct ChannelStats {
  std::vector<double> mean, stddev;
};

struct Dataset {
  std::string source;                    // where it was read from, for messages
  Shape shape;                           // of one image
  int classes = 0;                       // labels are in [0, classes)
  std::vector<std::string> class_names;  // classes entries
  std::vector<std::uint8_t> images;      // size() * shape.size() bytes
  std::vector<int> labels;

  Index size() const { return Index(labels.size()); }
  const std::uint8_t* image(Index i) const { return images.data() + i * shape.size(); }

  // Images [begin, end) as a dataset of their own.
  Dataset slice(Index begin, Index end) const {
    require(0 <= begin && begin <= end && end <= size(),
            source + ": cannot take images [" + std::to_string(begin) + ", " + std::to_string(end) + ") of " +
                std::to_string(size()));
    Dataset d;
    d.source = source;
    d.shape = shape;
    d.classes = classes;
    d.class_names = class_names;
    d.images.assign(image(begin), image(end));
    d.labels.assign(labels.begin() + begin, labels.begin() + end);
    return d;
  }
  Dataset take(Index n) const { return slice(0, std::min(n, size())); }

  // The usual normalisation constants, both from one histogram of each
  // channel (a constant channel gets standard deviation 1, an empty dataset
  // 0 and 1).
  ChannelStats channel_stats() const {
    std::vector<double> mean(std::size_t(shape.c), 0.0), sd(std::size_t(shape.c), 1.0);
    const Index plane = shape.h * shape.w;
    if (size() == 0 || plane == 0) return {mean, sd};
    for (Index c = 0; c < shape.c; ++c) {
      // Integer sums are exact; a histogram keeps this one pass over bytes.
      std::uint64_t hist[256] = {};
      for (Index i = 0; i < size(); ++i) {
        const std::uint8_t* p = image(i) + c * plane;
        for (Index j = 0; j < plane; ++j) ++hist[p[j]];
      }
      double n = 0, s = 0, s2 = 0;
      for (int v = 0; v < 256; ++v) {
        const double x = v / 255.0, k = double(hist[v]);
        n += k;
        s += k * x;
        s2 += k * x * x;
      }
      const double m = s / n;
      mean[std::size_t(c)] = m;
      const double var = s2 / n - m * m;
      sd[std::size_t(c)] = var > 1e-12 ? std::sqrt(var) : 1.0;
    }
    return {mean, sd};
  }
};

// Labels 0..n-1 as their decimal names, for datasets that carry none.
inline std::vector<std::string> numbered_classes(int n) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back(std::to_string(i));
  return names;
}

}  // namespace shallow
