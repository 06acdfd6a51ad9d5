/// \file
/// CIFAR-10, binary version: files of 3,073-byte records, each one label byte
/// (0-9) and 3,072 pixel bytes (the red 32x32 plane, then green, then blue,
/// row-major) — already NCHW. A file may hold any whole number of records.
#pragma once

#include <string>
#include <vector>

#include "dataset.hpp"
#include "../core/error.hpp"
#include "files.hpp"

namespace shallow {

/// Pixel bytes of one image: 3 planes of 32x32.
inline constexpr Index cifar10_image_bytes = 3 * 32 * 32;
/// Bytes of one record: the label byte, then the image.
inline constexpr Index cifar10_record_bytes = 1 + cifar10_image_bytes;
/// A batch file of the official set holds 10,000 records; more is refused,
/// so a small gzip bomb cannot expand into gigabytes.
inline constexpr Index cifar10_max_batch_records = 10000;
/// Bytes of cifar10_max_batch_records records: the most a batch file may hold or expand to.
inline constexpr std::size_t cifar10_max_batch_bytes = std::size_t(cifar10_max_batch_records * cifar10_record_bytes);

/// The ten class names, in label order.
inline const std::vector<std::string>& cifar10_classes() {
  static const std::vector<std::string> names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                 "dog",      "frog",       "horse", "ship", "truck"};
  return names;
}

/// Appends the records of one batch file's contents (raw or gzip) to d;
/// `path` names the file in errors.
inline void append_cifar10_records(Bytes bytes, const std::string& path, Dataset& d) {
  const bool gz = is_gzip(bytes);
  if (gz) bytes = gunzip(bytes, path, cifar10_max_batch_bytes + 1);
  if (bytes.size() > cifar10_max_batch_bytes)
    throw FormatError(path, std::string(gz ? "expands to" : "holds") + " more than the 10000 records (" +
                                std::to_string(cifar10_max_batch_bytes) + " bytes) of a CIFAR-10 batch file");
  const Index size = Index(bytes.size());
  if (size == 0) throw FormatError(path, "is empty; a CIFAR-10 batch holds 3073-byte records");
  if (size % cifar10_record_bytes != 0)
    throw FormatError(path, "size " + std::to_string(size) + " is not a whole number of 3073-byte records (" +
                                std::to_string(size / cifar10_record_bytes) + " records and " +
                                std::to_string(size % cifar10_record_bytes) + " bytes over): truncated?");
  const Index n = size / cifar10_record_bytes;
  d.images.reserve(d.images.size() + std::size_t(n * cifar10_image_bytes));
  d.labels.reserve(d.labels.size() + std::size_t(n));
  for (Index i = 0; i < n; ++i) {
    const unsigned char* record = bytes.data() + i * cifar10_record_bytes;
    if (record[0] >= 10)
      throw FormatError(path, "label " + std::to_string(record[0]) + " of record " + std::to_string(i) +
                                  " is out of range 0..9");
    d.labels.push_back(record[0]);
    d.images.insert(d.images.end(), record + 1, record + cifar10_record_bytes);
  }
}

/// Appends the records of batch file path (raw or gzip) to d; IoError or FormatError when it cannot be read or is malformed.
inline void append_cifar10_batch(const std::string& path, Dataset& d) {
  append_cifar10_records(read_file(path, cifar10_max_batch_bytes + 1), path, d);
}

/// CIFAR-10 from batch files read in the order given.
inline Dataset read_cifar10(const std::vector<std::string>& paths) {
  Dataset d;
  d.shape = {3, 32, 32};
  d.classes = 10;
  d.class_names = cifar10_classes();
  for (const std::string& p : paths) {
    append_cifar10_batch(p, d);
    d.source += (d.source.empty() ? "" : ", ") + p;
  }
  return d;
}

/// The training split (data_batch_1..5.bin, 50,000 images) or the test split
/// (test_batch.bin) from dir; each file may also be .gz.
inline Dataset load_cifar10(const std::string& dir, bool train) {
  std::vector<std::string> paths;
  if (train) {
    for (int i = 1; i <= 5; ++i) paths.push_back(find_data_file(dir, "data_batch_" + std::to_string(i) + ".bin"));
  } else {
    paths.push_back(find_data_file(dir, "test_batch.bin"));
  }
  Dataset d = read_cifar10(paths);
  d.source = dir + (train ? " (training set)" : " (test set)");
  return d;
}

}  // namespace shallow
