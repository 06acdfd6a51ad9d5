// What shallow-train and shallow-compare share: their flags, the dataset and
// loaders those flags name, the model and optimizer they describe, and the
// loop over epochs.
#pragma once

#include <shallow/shallow.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>

#include "cli.hpp"

namespace tools {

using namespace shallow;

// Named settings, each the one measured in docs/results.md; explicit flags
// override them.
struct Recipe {
  const char* name;
  const char* settings;  // flag=value pairs
};
inline const Recipe recipes[] = {
    {"mnist", "dataset=mnist stages=3 layers=2 filters=16 kernel=3 pool=0 epochs=6 batch=64 optimizer=adam "
              "lr=0.002 schedule=cosine augment=1"},
    {"fashion-mnist", "dataset=fashion-mnist stages=3 layers=2 filters=16 kernel=3 pool=0 epochs=10 batch=64 "
                      "optimizer=adam lr=0.002 schedule=cosine augment=1"},
    {"cifar10", "dataset=cifar10 stages=3 layers=3 filters=24 kernel=3 pool=0 epochs=25 batch=64 optimizer=adamw "
                "lr=0.002 weight-decay=0.05 schedule=warmup:1+cosine augment=1 holdout=5000"},
    {"demo", "layers=8 filters=16 kernel=3 pool=4 epochs=2 batch=64 optimizer=adam lr=0.002 schedule=cosine"},
};

inline void declare_training_flags(cli::Parser& p) {
  p.option("recipe", "", "named settings: mnist, fashion-mnist, cifar10, demo (flags given override them)")
      .option("dataset", "mnist", "mnist | fashion-mnist | cifar10 | folder")
      .option("data", "", "dataset directory (default: $SHALLOW_DATA/<dataset>, or the Debian package for "
                          "fashion-mnist)")
      .option("val-data", "", "for --dataset folder: directory of validation images")
      .integer_option("image-size", "32", "for --dataset folder: images are resized to this square size", 1, 4096)
      .integer_option("channels", "3", "for --dataset folder: 1 (grey) or 3 (RGB)", 1, 3)
      .integer_option("layers", "8", "residual layers N (per stage)", 1, 4096)
      .integer_option("filters", "16", "filters F per layer", 1, 4096)
      .integer_option("kernel", "3", "kernel size k", 1, 63)
      .option("activation", "relu", "relu | leaky_relu | tanh | sigmoid | identity")
      .integer_option("stages", "1", "stages: each after the first halves the image and doubles the width (strided conv, "
                             "batch norm) before its own N residual layers", 1, 16)
      .integer_option("pool", "4", "max-pool window before the classifier (0: global average pool)", 0, 4096)
      .integer_option("epochs", "1", "epochs", 1, 1 << 20)
      .integer_option("batch", "64", "batch size", 1, 1 << 20)
      .option("optimizer", "adam", "sgd | adam | adamw")
      .number_option("lr", "0.001", "learning rate")
      .number_option("momentum", "0.9", "SGD momentum")
      .number_option("weight-decay", "0", "weight decay")
      .option("schedule", "constant", "constant | step:S:G | cosine | warmup:W+<schedule> (per epoch)")
      .number_option("clip", "0", "clip the global gradient norm to this (0: off)")
      .toggle("augment", "random crop (padding 2, or 4 for images of 32 rows or more) and horizontal flip "
                         "(no flip for mnist)")
      .integer_option("holdout", "0", "validate on the last N training images (kept out of training); the test set is "
                              "then evaluated once, at the end")
      .integer_option("train-limit", "0", "use only the first N training images (0: all)")
      .integer_option("val-limit", "0", "use only the first N validation images (0: all)")
      .integer_option("seed", "1", "seed for initialisation, shuffling and augmentation")
      .integer_option("threads", "0", "threads (0: all cores)", 0, 1024)
      .toggle("quiet", "no progress bar");
}

// parse(value of --name), with the library's complaint about the value
// turned into a usage error that names the flag.
template <class Parse>
auto parsed(const cli::Parser& p, const std::string& name, Parse parse) {
  try {
    return parse(p.text(name));
  } catch (const Error& e) {
    throw cli::UsageError("--" + name + ": " + e.what());
  }
}

inline Layout layout_flag(const cli::Parser& p) {
  return parsed(p, "layout", [](const std::string& s) { return parse_layout(s); });
}

// Makes --recipe's settings the defaults; flags given explicitly still win.
inline void apply_recipe(cli::Parser& p) {
  const std::string name = p.text("recipe");
  if (name.empty()) return;
  for (const Recipe& r : recipes) {
    if (name != r.name) continue;
    std::istringstream in(r.settings);
    std::string kv;
    while (in >> kv) {
      const auto eq = kv.find('=');
      p.set_fallback(kv.substr(0, eq), kv.substr(eq + 1));
    }
    return;
  }
  throw cli::UsageError("unknown recipe '" + name + "' (mnist, fashion-mnist, cifar10, demo)");
}

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
  d.norm = Normalize::fit(d.train);
  return d;
}

inline ModelConfig model_config(const cli::Parser& p, const Dataset& train, Layout layout) {
  ModelConfig c;
  c.input = train.shape;
  c.classes = train.classes;
  c.layout = layout;
  c.layers = p.integer("layers");
  c.filters = p.integer("filters");
  c.kernel = p.integer("kernel");
  c.activation = parsed(p, "activation", [](const std::string& s) { return parse_activation(s); });
  c.pool = p.integer("pool");
  c.stages = p.integer("stages");
  if (const Index widest = c.filters << (c.stages - 1); widest > 4096)
    throw cli::UsageError("--filters " + std::to_string(c.filters) + " doubled over --stages " +
                          std::to_string(c.stages) + " gives " + std::to_string(widest) + " channels; at most 4096");
  c.seed = static_cast<std::uint64_t>(p.integer("seed"));
  return c;
}

// Reads every training flag once, before the data (which takes seconds to
// load), so a bad value is reported at once.
inline void check_flags(const cli::Parser& p) {
  p.check();
  model_config(p, Dataset{}, Layout::parallel);
  parsed(p, "schedule", [&](const std::string& s) { return parse_schedule(s, p.number("lr"), int(p.integer("epochs"))); });
}

inline std::unique_ptr<Optimizer<float>> make_optimizer(const cli::Parser& p, Network<float>& net) {
  const std::string name = p.text("optimizer");
  const double lr = p.number("lr"), wd = p.number("weight-decay");
  if (name == "sgd") {
    SgdOptions o;
    o.lr = lr;
    o.momentum = p.number("momentum");
    o.weight_decay = wd;
    return std::make_unique<Sgd<float>>(net.parameters(), o);
  }
  if (name == "adam") {
    AdamOptions o;
    o.lr = lr;
    o.weight_decay = wd;
    return std::make_unique<Adam<float>>(net.parameters(), o);
  }
  if (name == "adamw") {
    AdamWOptions o;
    o.lr = lr;
    if (p.chosen("weight-decay")) o.weight_decay = wd;  // else AdamW's own default
    return std::make_unique<AdamW<float>>(net.parameters(), o);
  }
  throw cli::UsageError("unknown optimizer '" + name + "' (sgd, adam, adamw)");
}

}  // namespace tools

namespace tools {

inline LoaderOptions loader_options(const cli::Parser& p, const Data& data, bool training) {
  LoaderOptions o;
  o.batch_size = p.integer("batch");
  o.shuffle = training;
  o.seed = static_cast<std::uint64_t>(p.integer("seed"));
  o.normalize = data.norm;
  if (training && p.flag("augment")) {
    o.crop_padding = data.train.shape.h >= 32 ? 4 : 2;
    o.horizontal_flip = p.text("dataset") != "mnist";  // a mirrored digit is another glyph
  }
  return o;
}

// Makes idle OpenMP threads sleep rather than spin, unless the user chose
// otherwise: with spinning, a 2-core machine where another process takes a
// core ran the sequential network 3x slower (330 vs 973 images/s). libgomp
// reads OMP_WAIT_POLICY once, when it loads, so the tool re-executes itself
// with the variable set. Call first thing in main.
inline void prefer_passive_waiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY")) return;
  ::setenv("OMP_WAIT_POLICY", "passive", 1);
  ::execv("/proc/self/exe", argv);  // returns only on failure: run on as we are
}

// Runs a tool's body: a usage error exits with status 2, any other error
// with status 1, each after one line on stderr naming the tool.
template <class Body>
int run_tool(const char* name, Body body) {
  try {
    return body();
  } catch (const cli::UsageError& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
}

inline void set_threads(const cli::Parser& p) {
  if (const int t = int(p.integer("threads")); t > 0) set_num_threads(t);
}

struct Run {
  Network<float> net;
  std::unique_ptr<Optimizer<float>> optimizer;
  LrSchedule schedule;
  std::vector<EpochMetrics> history;
};

inline Run make_run(const cli::Parser& p, const Dataset& train, Layout layout) {
  Run r{build_model<float>(model_config(p, train, layout)), nullptr, LrSchedule::constant(p.number("lr")), {}};
  r.optimizer = make_optimizer(p, r.net);
  const double lr = p.number("lr");
  const int epochs = int(p.integer("epochs"));
  r.schedule = parsed(p, "schedule", [&](const std::string& s) { return parse_schedule(s, lr, epochs); });
  return r;
}

// Trains `run` from epoch `first` to --epochs; after each epoch calls
// on_epoch(run) (checkpoints hook in there), and stops early when that
// returns false.
template <class OnEpoch>
void train_epochs(const cli::Parser& p, const Data& data, Run& run, int first, OnEpoch on_epoch,
                  const std::string& metrics_path = "") {
  DataLoader train(data.train, loader_options(p, data, true));
  DataLoader val(data.val, loader_options(p, data, false));
  TrainOptions o;
  o.epochs = int(p.integer("epochs"));
  o.clip_grad_norm = p.number("clip");
  o.progress = !p.flag("quiet");
  o.metrics_path = metrics_path;
  Trainer<float> trainer(run.net, *run.optimizer, o);
  for (int e = first; e <= o.epochs; ++e) {
    run.optimizer->set_lr(run.schedule.lr_at(e - 1));
    run.history.push_back(trainer.fit_epoch(train, e, &val));
    if (!on_epoch(run)) return;
  }
}

// Loss and accuracy of run's network on `set`, normalised as in training.
inline EvalResult evaluate(const cli::Parser& p, const Data& data, Run& run, const Dataset& set) {
  DataLoader loader(set, loader_options(p, data, false));
  return Trainer<float>(run.net, *run.optimizer).evaluate(loader);
}

}  // namespace tools
