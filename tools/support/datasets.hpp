// The datasets the tools' flags name: where their files are, and the
// training, validation and test sets with the normalisation of the first.
#pragma once

#include <shallow/data.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "cli.hpp"

namespace shallow::tools {

inline std::string data_dir(const cli::Parser& p) {
  if (!p.text("data").empty()) return p.text("data");
  const std::string dataset = p.text("dataset");
  const char* env = std::getenv("SHALLOW_DATA");
  if (dataset == "fashion-mnist") {
    if (env) {
      const std::string dir = std::string(env) + "/fashion-mnist";
      if (std::filesystem::exists(dir)) return dir;
    }
    return "/usr/share/datasets/fashion-mnist";
  }
  if (!env) throw cli::UsageError("--dataset " + dataset + " needs --data DIR or $SHALLOW_DATA");
  return std::string(env) + "/" + (dataset == "cifar10" ? "cifar10" : dataset);
}

// val is the set evaluated after every epoch: the test split, or with
// --holdout the end of the training split, in which case test is the test
// split, evaluated once at the end.
struct Data {
  Dataset train, val, test;
  Normalize norm;  // of train: every loader normalises with it
};

// Before any training: every set holds images, and the validation and test
// images are of the training images' shape and classes (a mismatch would
// otherwise surface only at the first validation pass, an epoch later).
inline void check_sets(const Data& d) {
  for (const Dataset* set : {&d.train, &d.val, &d.test}) {
    if (set == &d.test && set->source.empty()) continue;  // no --holdout: no test set
    if (set->size() == 0) throw FormatError(set->source, "holds no images");
    if (set == &d.train) continue;
    if (set->shape != d.train.shape)
      throw FormatError(set->source, "holds images of " + to_string(set->shape) + ", the training images (" +
                                         d.train.source + ") are " + to_string(d.train.shape));
    if (set->classes != d.train.classes)
      throw FormatError(set->source, "has " + std::to_string(set->classes) + " classes, the training set " +
                                         std::to_string(d.train.classes));
  }
}

inline Data load_data(const cli::Parser& p) {
  const std::string dataset = p.text("dataset"), dir = data_dir(p);
  Data d;
  if (dataset == "mnist" || dataset == "fashion-mnist") {
    d.train = load_mnist(dir, true, dataset == "fashion-mnist");
    d.val = load_mnist(dir, false, dataset == "fashion-mnist");
  } else if (dataset == "cifar10") {
    d.train = load_cifar10(dir, true);
    d.val = load_cifar10(dir, false);
  } else if (dataset == "folder") {
    if (p.text("val-data").empty()) throw cli::UsageError("--dataset folder needs --val-data DIR too");
    const Index size = p.integer("image-size"), channels = p.integer("channels");
    d.train = load_image_folder(dir, channels, size, size);
    d.val = load_image_folder(p.text("val-data"), channels, size, size, d.train.class_names);
  } else {
    throw cli::UsageError("unknown dataset '" + dataset + "' (mnist, fashion-mnist, cifar10, folder)");
  }
  if (const Index h = p.integer("holdout"); h > 0) {
    if (h >= d.train.size())
      throw cli::UsageError("--holdout " + std::to_string(h) + " leaves no training images of " +
                            std::to_string(d.train.size()));
    d.test = std::move(d.val);
    d.val = d.train.slice(d.train.size() - h, d.train.size());
    d.train = d.train.take(d.train.size() - h);
  }
  if (const Index n = p.integer("train-limit"); n > 0 && n < d.train.size()) d.train = d.train.take(n);
  if (const Index n = p.integer("val-limit"); n > 0 && n < d.val.size()) d.val = d.val.take(n);
  check_sets(d);
  d.norm = Normalize::fit(d.train);
  return d;
}

}  // namespace shallow::tools
