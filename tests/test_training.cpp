// The trainer end to end: real learning on a 2,000-image MNIST subset, exact
// resumption from a checkpoint, NaN detection, and metrics lines.
#include <catch2/catch.hpp>

#include <shallow/optim/adam.hpp>
#include <shallow/train/checkpoint.hpp>
#include <shallow/data/data_loader.hpp>
#include <shallow/data/mnist.hpp>
#include <shallow/models/classifier.hpp>
#include <shallow/optim/schedule.hpp>
#include <shallow/optim/sgd.hpp>
#include <shallow/train/trainer.hpp>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "test_files.hpp"

using namespace shallow;

namespace {

// A learnable synthetic problem: 1 x 8 x 8 noise images whose class is the
// quadrant with the brightest mean.
Dataset quadrants(Index n, std::uint64_t seed) {
  Dataset d;
  d.shape = {1, 8, 8};
  d.classes = 4;
  d.class_names = numbered_classes(4);
  Rng rng(seed);
  for (Index i = 0; i < n; ++i) {
    const int cls = int(rng.below(4));
    for (Index y = 0; y < 8; ++y)
      for (Index x = 0; x < 8; ++x) {
        const int quadrant = int(y / 4) * 2 + int(x / 4);
        d.images.push_back(std::uint8_t(rng.below(128) + (quadrant == cls ? 100 : 0)));
      }
    d.labels.push_back(cls);
  }
  return d;
}

ModelConfig small_model(const Dataset& d, Layout layout) {
  ModelConfig c;
  c.input = d.shape;
  c.classes = d.classes;
  c.layout = layout;
  c.layers = 2;
  c.filters = 4;
  c.kernel = 3;
  c.pool = 4;
  c.seed = 11;
  return c;
}

LoaderOptions shuffled(const Dataset& d, Index batch, bool augment = false) {
  LoaderOptions o;
  o.batch_size = batch;
  o.shuffle = true;
  o.seed = 5;
  o.normalize = Normalize::fit(d);
  o.crop_padding = augment ? 1 : 0;  // no flips: they would change the quadrant
  return o;
}

TrainOptions quiet(int epochs) {
  TrainOptions o;
  o.epochs = epochs;
  o.progress = false;
  o.summary = false;
  return o;
}

std::vector<float> weights_of(Network<float>& net) {
  std::vector<float> w;
  for (auto& p : net.parameters()) w.insert(w.end(), p.value.data(), p.value.data() + p.value.size());
  return w;
}

}  // namespace

TEST_CASE("Training: both layouts reach 90% on a 2,000-image MNIST subset", "[training][real]") {
  const char* root = std::getenv("SHALLOW_DATA");
  if (!root || !std::filesystem::is_directory(std::string(root) + "/mnist")) {
    WARN("SHALLOW_DATA/mnist is absent: the MNIST training check is skipped");
    return;
  }
  const Dataset train = load_mnist(std::string(root) + "/mnist", true).take(2000);
  const Dataset test = load_mnist(std::string(root) + "/mnist", false).take(2000);
  for (Layout layout : {Layout::sequential, Layout::parallel}) {
    ModelConfig c;
    c.input = train.shape;
    c.classes = 10;
    c.layout = layout;
    c.layers = 2;
    c.filters = 16;
    c.kernel = 3;
    c.seed = 1;
    Network<float> net = build_model<float>(c);
    AdamOptions ao;
    ao.lr = 0.002;
    Adam<float> adam(net.parameters(), ao);
    const LrSchedule schedule = parse_schedule("cosine", 0.002, 6);
    DataLoader<float> loader(train, shuffled(train, 32));
    LoaderOptions eval_options = shuffled(train, 256);
    eval_options.shuffle = false;
    DataLoader<float> eval(test, eval_options);
    Trainer<float> trainer(net, adam, quiet(6));
    EpochMetrics m;
    for (int e = 1; e <= 6; ++e) {
      adam.set_lr(schedule.lr_at(e - 1));
      m = trainer.fit_epoch(loader, e, &eval);
    }
    INFO(to_string(layout) << ": train loss " << m.train_loss << ", test accuracy " << m.val_acc);
    CHECK(m.val_acc >= 0.90);
    CHECK(m.train_loss < 0.3);
  }
}

TEST_CASE("Training: resuming from a checkpoint gives exactly the uninterrupted run", "[training][resume]") {
  const Dataset train = quadrants(512, 1), val = quadrants(128, 2);
  TempDir dir;
  for (Layout layout : {Layout::sequential, Layout::parallel}) {
    const auto run = [&](int from, int to, const std::string& load, const std::string& save) {
      Network<float> net = build_model<float>(small_model(train, layout));
      AdamOptions ao;
      ao.lr = 0.01;
      Adam<float> adam(net.parameters(), ao);
      if (!load.empty()) restore(load_checkpoint(load), net, &adam);
      DataLoader<float> loader(train, shuffled(train, 16, true));
      DataLoader<float> eval(val, LoaderOptions{});
      Trainer<float> trainer(net, adam, quiet(to));
      std::vector<EpochMetrics> history;
      for (int e = from; e <= to; ++e) history.push_back(trainer.fit_epoch(loader, e, &eval));
      if (!save.empty()) save_checkpoint(save, capture(net, &adam));
      return std::make_pair(weights_of(net), history);
    };
    const auto whole = run(1, 3, "", "");
    run(1, 1, "", dir.file("ck"));
    const auto resumed = run(2, 3, dir.file("ck"), "");
    CHECK(resumed.first == whole.first);  // bitwise
    REQUIRE(resumed.second.size() == 2);
    for (int i = 0; i < 2; ++i) {
      CHECK(resumed.second[std::size_t(i)].train_loss == whole.second[std::size_t(i) + 1].train_loss);
      CHECK(resumed.second[std::size_t(i)].val_acc == whole.second[std::size_t(i) + 1].val_acc);
    }
    // And it learned something: the task is easy.
    CHECK(whole.second.back().val_acc > 0.6);
  }
}

TEST_CASE("Training: a loss that turns non-finite stops with a clear NumericError", "[training]") {
  const Dataset train = quadrants(128, 3);
  Network<float> net = build_model<float>(small_model(train, Layout::parallel));
  SgdOptions so;
  so.lr = 1e12;
  Sgd<float> sgd(net.parameters(), so);
  DataLoader<float> loader(train, shuffled(train, 16));
  Trainer<float> trainer(net, sgd, quiet(5));
  try {
    for (int e = 1; e <= 5; ++e) trainer.fit_epoch(loader, e);
    FAIL("training with lr 1e12 did not diverge");
  } catch (const NumericError& e) {
    CHECK_THAT(e.what(), Catch::Contains("training loss is") && Catch::Contains("lower the learning rate"));
  }
}

TEST_CASE("Training: metrics lines are JSON that reads back, and are appended per epoch", "[training]") {
  EpochMetrics m;
  m.epoch = 3;
  m.lr = 0.001;
  m.train_loss = 0.25;
  m.train_acc = 0.9;
  m.seconds = 1.5;
  m.images_per_s = 1000;
  const std::string line = to_json(m);
  CHECK_THAT(line, Catch::Contains("\"val_loss\": null"));
  const EpochMetrics back = metrics_from_json(line, "here");
  CHECK(back.epoch == 3);
  CHECK(back.train_loss == 0.25);
  CHECK(std::isnan(back.val_acc));
  CHECK_THROWS_AS(metrics_from_json("garbage", "here"), FormatError);

  TempDir dir;
  const Dataset train = quadrants(64, 4);
  Network<float> net = build_model<float>(small_model(train, Layout::sequential));
  Adam<float> adam(net.parameters(), AdamOptions{});
  TrainOptions o = quiet(2);
  o.metrics_path = dir.file("m.jsonl");
  Trainer<float> trainer(net, adam, o);
  DataLoader<float> loader(train, shuffled(train, 16));
  trainer.fit_epoch(loader, 1);
  trainer.fit_epoch(loader, 2);
  std::istringstream lines(read_bytes(dir.file("m.jsonl")));
  std::vector<int> epochs;
  for (std::string l; std::getline(lines, l);) epochs.push_back(metrics_from_json(l, "m.jsonl").epoch);
  CHECK(epochs == std::vector<int>{1, 2});
}
