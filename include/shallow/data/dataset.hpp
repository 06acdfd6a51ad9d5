/// \file
/// A labelled image dataset held in memory as the 8-bit pixels it was
/// stored with: N images, contiguous NCHW, and one label per image. Loaders
/// (mnist.hpp, cifar10.hpp, image_folder.hpp) fill it; DataLoader turns it
/// into float batches normalised by a Normalize (normalize.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace shallow {

/// A labelled image dataset in memory (the contract in this file's comment).
struct Dataset {
  /// Where it was read from, for messages.
  std::string source;                    // where it was read from, for messages
  /// The shape of one image.
  Shape shape;                           // of one image
  /// The number of classes; labels are in [0, classes).
  int classes = 0;                       // labels are in [0, classes)
  /// One name per class.
  std::vector<std::string> class_names;  // classes entries
  /// The pixels, NCHW: size() * shape.size() bytes.
  std::vector<std::uint8_t> images;      // size() * shape.size() bytes
  /// One label per image.
  std::vector<int> labels;

  /// The number of images.
  Index size() const { return Index(labels.size()); }
  /// The first pixel of image i (shape.size() bytes); i in [0, size()].
  const std::uint8_t* image(Index i) const { return images.data() + i * shape.size(); }

  /// Images [begin, end) as a dataset of their own.
  Dataset slice(Index begin, Index end) const {
    SHALLOW_CHECK(0 <= begin && begin <= end && end <= size(), ConfigError,
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
  /// The first min(n, size()) images.
  Dataset take(Index n) const { return slice(0, std::min(n, size())); }
};

/// Labels 0..n-1 as their decimal names, for datasets that carry none.
inline std::vector<std::string> numbered_classes(int n) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back(std::to_string(i));
  return names;
}

}  // namespace shallow
