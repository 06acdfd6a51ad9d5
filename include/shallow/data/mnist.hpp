/// \file
/// MNIST and Fashion-MNIST in the IDX format, raw or gzip-compressed.
///
/// IDX: big-endian u32 magic (2051 for images, 2049 for labels), then one
/// big-endian u32 per dimension (images: count, rows, cols; labels: count),
/// then the unsigned bytes. A file must hold exactly the bytes its header
/// declares; the declared size is checked against the data actually present
/// before anything of that size is allocated.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dataset.hpp"
#include "../core/error.hpp"
#include "files.hpp"

namespace shallow {

/// The magic number of an IDX3 images file.
inline constexpr std::uint32_t idx_images_magic = 2051;
/// The magic number of an IDX1 labels file.
inline constexpr std::uint32_t idx_labels_magic = 2049;

namespace detail {

inline std::uint32_t read_be32(const unsigned char* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | std::uint32_t(p[3]);
}

// The header's dimensions and the payload of an IDX file with the given
// magic and rank.
struct IdxFile {
  std::vector<std::uint32_t> dims;
  Bytes bytes;  // header included
  std::size_t header_size;
};

// The contents of an IDX file (raw or gzip) already in memory; `path`
// names it in errors.
inline IdxFile parse_idx(Bytes packed, const std::string& path, std::uint32_t magic, std::size_t rank) {
  const std::size_t header = 4 + 4 * rank;
  const bool gz = is_gzip(packed);
  IdxFile f{{}, gz ? gunzip(packed, path, header) : std::move(packed), header};
  if (f.bytes.size() < header)
    throw FormatError(path, "too short for an IDX header: " + std::to_string(f.bytes.size()) + " bytes, need " +
                                std::to_string(header));
  const std::uint32_t got = read_be32(f.bytes.data());
  if (got != magic)
    throw FormatError(path, "wrong magic number " + std::to_string(got) + ", expected " + std::to_string(magic) +
                                (magic == idx_images_magic ? " (IDX images)" : " (IDX labels)"));
  // The declared payload, computed without overflow; a claim beyond what
  // can exist is refused here, before any allocation of that size.
  constexpr std::uint64_t max_payload = std::uint64_t(1) << 40;
  std::uint64_t payload = 1;
  std::string dims_text;
  for (std::size_t i = 0; i < rank; ++i) {
    const std::uint32_t d = read_be32(f.bytes.data() + 4 + 4 * i);
    f.dims.push_back(d);
    dims_text += (i ? " x " : "") + std::to_string(d);
    if (d != 0 && payload > max_payload / d)
      throw FormatError(path, "header declares " + dims_text + "... items, more than any file can hold");
    payload *= d;
  }
  const std::uint64_t expected = header + payload;
  if (gz) f.bytes = gunzip(packed, path, std::size_t(expected) + 1);
  if (f.bytes.size() != expected)
    throw FormatError(path, "header declares " + dims_text + " = " + std::to_string(payload) + " bytes of data, " +
                                (f.bytes.size() < expected ? "but the file is truncated: it holds "
                                                           : "but the file holds more: ") +
                                std::to_string(f.bytes.size() - header) + (gz ? " (after gunzip)" : ""));
  return f;
}

}  // namespace detail

/// Images of an IDX3 file as a dataset without labels (labels come from the
/// companion file): count x 1 x rows x cols. parse_ takes the file's bytes,
/// read_ its path.
inline Dataset parse_idx_images(Bytes bytes, const std::string& path) {
  detail::IdxFile f = detail::parse_idx(std::move(bytes), path, idx_images_magic, 3);
  if (f.dims[1] == 0 || f.dims[2] == 0) throw FormatError(path, "images of size 0");
  Dataset d;
  d.source = path;
  d.shape = {1, Index(f.dims[1]), Index(f.dims[2])};
  d.images.assign(f.bytes.begin() + std::ptrdiff_t(f.header_size), f.bytes.end());
  return d;
}

/// parse_idx_images() of the file at path.
inline Dataset read_idx_images(const std::string& path) { return parse_idx_images(read_file(path), path); }

/// Labels of an IDX1 file; each must be below `classes`.
inline std::vector<int> parse_idx_labels(Bytes bytes, const std::string& path, int classes) {
  const detail::IdxFile f = detail::parse_idx(std::move(bytes), path, idx_labels_magic, 1);
  std::vector<int> labels(f.bytes.begin() + std::ptrdiff_t(f.header_size), f.bytes.end());
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] >= classes)
      throw FormatError(path, "label " + std::to_string(labels[i]) + " of item " + std::to_string(i) +
                                  " is out of range 0.." + std::to_string(classes - 1));
  return labels;
}

/// parse_idx_labels() of the file at path.
inline std::vector<int> read_idx_labels(const std::string& path, int classes) {
  return parse_idx_labels(read_file(path), path, classes);
}

/// An images file and its labels file as one dataset.
inline Dataset read_idx_dataset(const std::string& images_path, const std::string& labels_path,
                                std::vector<std::string> class_names) {
  Dataset d = read_idx_images(images_path);
  d.classes = int(class_names.size());
  d.class_names = std::move(class_names);
  d.labels = read_idx_labels(labels_path, d.classes);
  if (Index(d.labels.size()) * d.shape.size() != Index(d.images.size()))
    throw FormatError(labels_path, "holds " + std::to_string(d.labels.size()) + " labels but " + images_path +
                                       " holds " + std::to_string(Index(d.images.size()) / d.shape.size()) +
                                       " images");
  return d;
}

/// Fashion-MNIST's ten class names, in label order.
inline const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

/// The training (60,000) or test (10,000) split of MNIST, or of
/// Fashion-MNIST with its class names, from the standard file names in dir
/// (train-images-idx3-ubyte, ...; each raw or .gz).
inline Dataset load_mnist(const std::string& dir, bool train, bool fashion = false) {
  const std::string prefix = train ? "train" : "t10k";
  const std::string images = find_data_file(dir, prefix + "-images-idx3-ubyte");
  Dataset d = read_idx_dataset(images, find_data_file(dir, prefix + "-labels-idx1-ubyte"),
                               fashion ? fashion_mnist_classes() : numbered_classes(10));
  d.source = dir + (train ? " (training set)" : " (test set)");
  return d;
}

/// load_mnist() of Fashion-MNIST, with its class names.
inline Dataset load_fashion_mnist(const std::string& dir, bool train) { return load_mnist(dir, train, true); }

}  // namespace shallow
