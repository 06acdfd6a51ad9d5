// The flags shallow-train, shallow-compare and shallow-sweep share, and the
// model, optimizer and loaders they describe.
#pragma once

#include <shallow/shallow.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "cli.hpp"
#include "datasets.hpp"

namespace shallow::tools {

inline void declare_training_flags(cli::Parser& p) {
  p.option("recipe", "", "named settings: mnist, fashion-mnist, cifar10, cifar10-fast, demo (flags given override "
                         "them)")
      .option("dataset", "mnist", "mnist | fashion-mnist | cifar10 | folder")
      .option("data", "", "dataset directory (default: $SHALLOW_DATA/<dataset>, or the Debian package for "
                          "fashion-mnist)")
      .option("val-data", "", "for --dataset folder: directory of validation images")
      .integer_option("image-size", "32", "for --dataset folder: images are resized to this square size", 1, 4096)
      .integer_option("channels", "3", "for --dataset folder: 1 (grey) or 3 (RGB)", 1, 3)
      .option("model", "classifier", "classifier (the study's network, --stages S for its staged form) | fast "
                                     "(patch whitening, then per group of --filters F, 4F, 4F channels a conv, "
                                     "max-pool, batch norm and N residual layers; models/cifar10_fast.hpp)")
      .integer_option("layers", "8", "residual layers N (per stage, or per group of --model fast)", 1, 4096)
      .integer_option("filters", "16", "filters F per layer", 1, 4096)
      .integer_option("kernel", "3", "kernel size k", 1, 63)
      .option("activation", "relu", "relu | leaky_relu | tanh | sigmoid | identity; for --model fast: relu | gelu "
                                    "(after the whitening and each group's batch norm; the branches keep relu)")
      .integer_option("stages", "1", "stages: each after the first halves the image and doubles the width (strided conv, "
                             "batch norm) before its own N residual layers", 1, 16)
      .integer_option("pool", "4", "max-pool window before the classifier (0: global average pool)", 0, 4096)
      .option("branch-norm", "none", "for --model fast: none | batchnorm (each residual branch is "
                                     "relu(BN(conv(x))), without a conv bias)")
      .option("conv-algorithm", "auto", "the residual branches' convolution algorithm: auto (chosen per geometry) | "
                                        "im2col | planes | winograd | blocked (the last two 3x3 and 5x5 only)")
      .integer_option("epochs", "1", "epochs", 1, 1 << 20)
      .integer_option("batch", "64", "batch size", 1, 1 << 20)
      .option("optimizer", "adam", "sgd | adam | adamw")
      .number_option("lr", "0.001", "learning rate")
      .number_option("momentum", "0.9", "SGD momentum")
      .toggle("nesterov", "SGD with Nesterov momentum")
      .number_option("weight-decay", "0", "weight decay")
      .option("schedule", "constant", "constant | step:S:G | cosine | linear | warmup:W+<schedule> (per epoch; "
                                      "see --lr-per-step)")
      .toggle("lr-per-step", "evaluate --schedule at every step (fractional epochs) instead of once an epoch")
      .number_option("clip", "0", "clip the global gradient norm to this (0: off)")
      .number_option("label-smoothing", "0", "label smoothing of the training loss, in [0, 1)")
      .number_option("bn-bias-lr", "1", "for --model fast: multiply the batch norm biases' gradients by this (with "
                                        "SGD: their learning rate, their weight decay per step unchanged)")
      .number_option("bn-momentum", "0.1", "for --model fast: the batch norms' running-statistics momentum, in [0, 1] "
                                           "(PyTorch's convention: airbench94's 0.6 is 0.4 here)")
      .number_option("bn-eps", "1e-5", "for --model fast: added to the variance of the groups' batch norms")
      .integer_option("bn-scale", "1", "for --model fast: 1: the batch norms train a scale; 0: they do not "
                                       "(airbench94's)", 0, 1)
      .number_option("ema", "0", "evaluate, test and save an exponential moving average of the weights with this "
                                 "decay per step, in [0, 1) (0: off)")
      .integer_option("lookahead", "0", "every N steps of an epoch and after its last, pull the weights back towards a "
                                        "slow average (airbench94's Lookahead, N=5; 0: off)", 0, 1 << 20)
      .toggle("tta", "evaluate on each image and its mirror image, averaging the logits")
      .toggle("tta-translate", "evaluate also on each image shifted by a pixel up-left and down-right (reflected at "
                               "the border; with --tta, and their mirrors), for half the score: 3x the evaluation time")
      .integer_option("val-every", "1", "validate after every N-th epoch and after the last (the metrics of the "
                                        "others have no validation values)", 1, 1 << 20)
      .toggle("augment", "random crop (padding 2, or 4 for images of 32 rows or more) and horizontal flip "
                         "(no flip for mnist)")
      .integer_option("crop-padding", "-1", "with --augment: the random crop's padding (-1: as --augment says; 0: "
                                            "flips only)", -1, 64)
      .option("crop-fill", "zero", "with --augment: what fills the crop's padding: zero | reflect (the image mirrored "
                                   "at its border)")
      .option("flips", "random", "with --augment: random (each image at random each epoch) | alternate (each image "
                                 "in every other epoch, airbench94's)")
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

inline bool fast_model(const cli::Parser& p) {
  const std::string model = p.text("model");
  if (model != "classifier" && model != "fast")
    throw cli::UsageError("--model must be classifier or fast, got '" + model + "'");
  return model == "fast";
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
  c.algorithm = parsed(p, "conv-algorithm", [](const std::string& s) { return parse_conv_algorithm(s); });
  if (const Index widest = c.filters << (c.stages - 1); widest > 4096)
    throw cli::UsageError("--filters " + std::to_string(c.filters) + " doubled over --stages " +
                          std::to_string(c.stages) + " gives " + std::to_string(widest) + " channels; at most 4096");
  c.seed = static_cast<std::uint64_t>(p.integer("seed"));
  return c;
}

// --model fast: --filters F gives the widths F, 4F, 4F.
inline FastModelConfig fast_model_config(const cli::Parser& p, const Dataset& train, Layout layout) {
  FastModelConfig c;
  c.input = train.shape;
  c.classes = train.classes;
  c.layout = layout;
  c.layers = p.integer("layers");
  const Index f = p.integer("filters");
  if (4 * f > 4096) throw cli::UsageError("--filters " + std::to_string(f) + " gives " + std::to_string(4 * f) +
                                          " channels with --model fast; at most 4096");
  c.widths = {f, 4 * f, 4 * f};
  const std::string norm = p.text("branch-norm");
  if (norm != "none" && norm != "batchnorm")
    throw cli::UsageError("--branch-norm must be none or batchnorm, got '" + norm + "'");
  c.branch_batchnorm = norm == "batchnorm";
  c.algorithm = parsed(p, "conv-algorithm", [](const std::string& s) { return parse_conv_algorithm(s); });
  const std::string activation = p.text("activation");
  if (activation != "relu" && activation != "gelu")
    throw cli::UsageError("--activation must be relu or gelu with --model fast, got '" + activation + "'");
  c.gelu = activation == "gelu";
  c.batchnorm_momentum = p.number("bn-momentum");
  c.batchnorm_eps = p.number("bn-eps");
  c.batchnorm_scale = p.integer("bn-scale") == 1;
  c.seed = static_cast<std::uint64_t>(p.integer("seed"));
  return c;
}

// The network the flags describe, its whitening (if any) not yet fitted.
inline Network<float> build_network(const cli::Parser& p, const Dataset& train, Layout layout) {
  try {
    if (fast_model(p)) return build_fast_model<float>(fast_model_config(p, train, layout));
    return build_model<float>(model_config(p, train, layout));
  } catch (const ConfigError& e) {
    throw cli::UsageError(e.what());
  }
}

inline std::string describe_network(const cli::Parser& p, const Dataset& train, Layout layout) {
  if (fast_model(p)) return describe(fast_model_config(p, train, layout));
  return describe(model_config(p, train, layout));
}

// The shape of the images the flags' dataset gives, known before loading.
inline Shape expected_input(const cli::Parser& p) {
  const std::string dataset = p.text("dataset");
  if (dataset == "mnist" || dataset == "fashion-mnist") return {1, 28, 28};
  if (dataset == "cifar10") return {3, 32, 32};
  if (dataset == "folder") return {Index(p.integer("channels")), Index(p.integer("image-size")), Index(p.integer("image-size"))};
  throw cli::UsageError("unknown dataset '" + dataset + "' (mnist, fashion-mnist, cifar10, folder)");
}

// Reads every training flag once, before the data (which takes seconds to
// load), so a bad value is reported at once; and refuses settings whose
// training step would not fit in memory, before anything of that size is
// allocated.
inline void check_flags(const cli::Parser& p) {
  p.check();
  if (fast_model(p)) {
    for (const char* other : {"stages", "pool", "kernel"})
      if (p.chosen(other)) throw cli::UsageError(std::string("--") + other + " applies to --model classifier only");
  } else {
    for (const char* fast_only : {"bn-bias-lr", "branch-norm", "bn-momentum", "bn-eps", "bn-scale"})
      if (p.chosen(fast_only)) throw cli::UsageError(std::string("--") + fast_only + " applies to --model fast only");
  }
  if (p.number("label-smoothing") >= 1)
    throw cli::UsageError("--label-smoothing must be below 1, got " + p.text("label-smoothing"));
  if (p.number("ema") >= 1) throw cli::UsageError("--ema must be below 1, got " + p.text("ema"));
  if (p.text("crop-fill") != "zero" && p.text("crop-fill") != "reflect")
    throw cli::UsageError("--crop-fill must be zero or reflect, got '" + p.text("crop-fill") + "'");
  if (p.text("flips") != "random" && p.text("flips") != "alternate")
    throw cli::UsageError("--flips must be random or alternate, got '" + p.text("flips") + "'");
  if (p.flag("nesterov") && (p.text("optimizer") != "sgd" || p.number("momentum") == 0))
    throw cli::UsageError("--nesterov needs --optimizer sgd and --momentum above 0");
  Dataset like;
  like.shape = expected_input(p);
  like.classes = 10;
  if (p.flag("tta-translate") && (like.shape.h < 2 || like.shape.w < 2))
    throw cli::UsageError("--tta-translate shifts images by a pixel, which " + to_string(like.shape) + " images cannot take");
  Network<float> net = build_network(p, like, Layout::parallel);
  const Index batch = p.integer("batch");
  const double needed = training_bytes(net, like.shape, batch), available = available_memory_bytes();
  if (needed > available)
    throw cli::UsageError("a training step on batches of " + std::to_string(batch) + " images of " +
                          to_string(like.shape) + " needs about " + format_bytes(needed) + ", more than the " +
                          format_bytes(available) + " this process can use (lower --batch, --filters, --layers or "
                          "--image-size)");
  // A forced algorithm meets the convolutions' geometry only in a forward
  // pass: one image through this throw-away network says whether it fits
  // (in inference mode, where batch norm takes a single value per channel).
  if (p.text("conv-algorithm") != "auto") {
    Tensor4<float> x(1, like.shape.c, like.shape.h, like.shape.w);
    x.setZero();
    try {
      if (fast_model(p)) fit_whitening(net, x);  // its forward pass needs fitted filters
      net.eval();
      net.forward(x);
    } catch (const ConfigError& e) {
      throw cli::UsageError("--conv-algorithm " + p.text("conv-algorithm") + ": " + e.what());
    }
  }
  parsed(p, "schedule", [&](const std::string& s) { return parse_schedule(s, p.number("lr"), int(p.integer("epochs"))); });
}

inline std::unique_ptr<Optimizer<float>> make_optimizer(const cli::Parser& p, Network<float>& net) {
  const std::string name = p.text("optimizer");
  const double lr = p.number("lr"), wd = p.number("weight-decay");
  if (name == "sgd") {
    SgdOptions o;
    o.lr = lr;
    o.momentum = p.number("momentum");
    o.nesterov = p.flag("nesterov");
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

inline LoaderOptions loader_options(const cli::Parser& p, const Data& data, bool training) {
  LoaderOptions o;
  o.batch_size = p.integer("batch");
  o.shuffle = training;
  o.seed = static_cast<std::uint64_t>(p.integer("seed"));
  o.normalize = data.norm;
  if (training && p.flag("augment")) {
    const Index padding = p.integer("crop-padding");
    o.crop_padding = padding >= 0 ? padding : data.train.shape.h >= 32 ? 4 : 2;
    o.reflect_padding = p.text("crop-fill") == "reflect";
    o.horizontal_flip = p.text("dataset") != "mnist";  // a mirrored digit is another glyph
    o.alternate_flips = p.text("flips") == "alternate";
  }
  return o;
}

}  // namespace shallow::tools
