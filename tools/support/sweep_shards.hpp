// Shards of a sweep dealt by estimated cost, so that every shard of an
// array job takes about as long: the configurations, most expensive first,
// each go to the shard with the least estimated work so far (ties to the
// lowest shard). The deal depends only on the grid and the flags, so every
// task of an array computes the same partition.
//
// A run's cost is its network's forward multiply-adds per image (the
// layers' own cost model, Layer::macs) times 3 (forward, backward-data,
// backward-weights) per training image and 1 per validation image, times
// the epochs.
#pragma once

#include <shallow/shallow.hpp>

#include <algorithm>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "sweep_grid.hpp"

namespace shallow::tools::sweep {

// What the cost model needs of a dataset before it is loaded.
struct DatasetFacts {
  const char* name;
  Shape shape;
  int classes;
  long train, test;
};
inline const DatasetFacts dataset_facts[] = {
    {"mnist", {1, 28, 28}, 10, 60000, 10000},
    {"fashion-mnist", {1, 28, 28}, 10, 60000, 10000},
    {"cifar10", {3, 32, 32}, 10, 50000, 10000},
};

inline const DatasetFacts& facts(const std::string& dataset) {
  for (const auto& f : dataset_facts)
    if (dataset == f.name) return f;
  throw ConfigError("no facts about dataset '" + dataset + "'");
}

// The classifier a configuration trains (the sweep's fixed settings: max-pool
// 4, ReLU, one stage), for the cost model.
inline ModelConfig model_of(const Config& c) {
  const DatasetFacts& f = facts(c[dataset]);
  ModelConfig m;
  m.input = f.shape;
  m.classes = f.classes;
  m.layout = parse_layout(c[layout]);
  m.layers = c.whole(layers);
  m.filters = c.whole(filters);
  m.kernel = c.whole(kernel);
  return m;
}

// Estimated multiply-adds of a whole run; holdout images come out of the
// training set and are the validation set.
inline double run_cost(const Config& c, long holdout) {
  const DatasetFacts& f = facts(c[dataset]);
  const Network<float> net = build_model<float>(model_of(c));
  const double per_image = net.macs(f.shape);
  long train = f.train - holdout, val = holdout > 0 ? holdout : f.test;
  if (c.train_limit > 0) train = std::min(train, c.train_limit);
  if (c.val_limit > 0) val = std::min(val, c.val_limit);
  return per_image * (3.0 * double(train) + double(val)) * double(c.whole(epochs));
}

// "i/n" with 0 <= i < n.
inline std::pair<long, long> parse_shard(const std::string& s) {
  const auto parts = split(s, '/');
  long i = -1, n = 0;
  if (parts.size() != 2 || !parse_number(parts[0], i) || !parse_number(parts[1], n) || n < 1 || i < 0 || i >= n)
    throw ConfigError("--shard must be i/n with 0 <= i < n, got '" + s + "'");
  return {i, n};
}

// shard_of[k] for configuration k of `costs`, dealt over n shards; load[s]
// receives each shard's total.
inline std::vector<long> deal(const std::vector<double>& costs, long n, std::vector<double>* load = nullptr) {
  std::vector<std::size_t> order(costs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return costs[a] > costs[b]; });
  std::vector<double> total(std::size_t(n), 0.0);
  std::vector<long> shard_of(costs.size(), 0);
  for (const std::size_t k : order) {
    const auto lightest = std::min_element(total.begin(), total.end()) - total.begin();
    shard_of[k] = long(lightest);
    total[std::size_t(lightest)] += costs[k];
  }
  if (load) *load = total;
  return shard_of;
}

}  // namespace shallow::tools::sweep
