// Named settings for the tools, each the one measured in docs/results.md;
// flags given beside a recipe override it.
#pragma once

#include <sstream>
#include <string>

#include "cli.hpp"

namespace shallow::tools {

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
    {"cifar10-fast", "dataset=cifar10 model=fast filters=64 layers=1 branch-norm=batchnorm activation=gelu "
                     "bn-momentum=0.4 bn-eps=1e-12 bn-scale=0 epochs=14 batch=512 optimizer=sgd lr=0.75 "
                     "momentum=0.85 nesterov=1 weight-decay=0.00133 schedule=warmup:3+linear::0.0525 lr-per-step=1 "
                     "label-smoothing=0.2 bn-bias-lr=64 ema=0.98 lookahead=5 tta=1 tta-translate=1 augment=1 "
                     "crop-padding=2 crop-fill=reflect flips=alternate val-every=7 holdout=5000"},
    {"demo", "layers=8 filters=16 kernel=3 pool=4 epochs=2 batch=64 optimizer=adam lr=0.002 schedule=cosine"},
};

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
  throw cli::UsageError("unknown recipe '" + name + "' (mnist, fashion-mnist, cifar10, cifar10-fast, demo)");
}

}  // namespace shallow::tools
