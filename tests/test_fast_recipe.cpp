// The pieces of the cifar10-fast recipe: label smoothing, the patch-whitening
// layer, weight averaging, the Trainer's options for short runs (per-step
// schedule, gradient scales, flip test-time augmentation, the average
// swapped in for evaluation), the fast model, and the tools' run with
// weight averaging resuming exactly from a checkpoint.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../tools/support/recipes.hpp"
#include "../tools/support/run.hpp"
#include "gradcheck.hpp"
#include "test_files.hpp"

using namespace shallow;
using gradcheck::check_layer;
using gradcheck::random_tensor;
using test_files::TempDir;

namespace {

// The tools' training flags parsed from args, with --recipe applied.
cli::Parser parser(std::vector<std::string> args) {
  cli::Parser p("prog", "test");
  tools::declare_training_flags(p);
  args.insert(args.begin(), "prog");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  REQUIRE(p.parse(int(argv.size()), argv.data()));
  tools::apply_recipe(p);
  return p;
}

// 3 x 16 x 16 images whose class is the colour channel with the brightest
// left half: learnable, and mirror images change the class.
Dataset colour_halves(Index n, std::uint64_t seed) {
  Dataset d;
  d.shape = {3, 16, 16};
  d.classes = 3;
  d.class_names = numbered_classes(3);
  Rng rng(seed);
  for (Index i = 0; i < n; ++i) {
    const int cls = int(rng.below(3));
    for (Index c = 0; c < 3; ++c)
      for (Index y = 0; y < 16; ++y)
        for (Index x = 0; x < 16; ++x)
          d.images.push_back(std::uint8_t(rng.below(120) + (c == cls && x < 8 ? 110 : 0)));
    d.labels.push_back(cls);
  }
  return d;
}

FastModelConfig tiny_fast(Layout layout) {
  FastModelConfig c;
  c.input = {3, 16, 16};
  c.classes = 3;
  c.layout = layout;
  c.layers = 2;
  c.widths = {4, 8, 8};
  c.seed = 3;
  return c;
}

std::vector<float> values_of(Network<float>& net) {
  std::vector<float> v;
  for (auto& p : net.parameters()) v.insert(v.end(), p.value.data(), p.value.data() + p.value.size());
  for (auto& b : net.buffers()) v.insert(v.end(), b.value.data(), b.value.data() + b.value.size());
  return v;
}

}  // namespace

TEST_CASE("Label smoothing: value and gradient against PyTorch's definition", "[fast][loss]") {
  auto logits = random_tensor(4, 5, 1, 1, 53, 3.0);
  const std::vector<int> labels{0, 3, 4, 1};
  for (double e : {0.0, 0.2, 0.7}) {
    INFO("label_smoothing " << e);
    SoftmaxCrossEntropy<double> loss(e);
    CHECK(loss.label_smoothing() == e);
    // The loss against the smoothed target, written out.
    double expected = 0;
    for (Index i = 0; i < 4; ++i) {
      Eigen::VectorXd z = Eigen::Map<const Eigen::VectorXd>(logits.data() + i * 5, 5);
      const double lse = std::log(z.array().exp().sum());
      for (Index k = 0; k < 5; ++k) {
        const double target = (k == labels[std::size_t(i)] ? 1 - e : 0) + e / 5;
        expected += target * (lse - z[k]);
      }
    }
    CHECK(loss.forward(logits, labels) == Approx(expected / 4).epsilon(1e-12));
    const Eigen::VectorXd analytic = as_vector(loss.backward());
    CHECK(gradcheck::relative_error(analytic, gradcheck::numeric_loss_gradient(loss, logits, labels)) < 1e-6);
  }
  // Accuracy counts arg-max hits whatever the smoothing.
  SoftmaxCrossEntropy<double> smooth(0.2), plain;
  smooth.forward(logits, labels);
  plain.forward(logits, labels);
  CHECK(smooth.correct() == plain.correct());
  for (double bad : {-0.1, 1.0, std::nan("")}) CHECK_THROWS_AS(SoftmaxCrossEntropy<double>(bad), ConfigError);
}

TEST_CASE("PatchWhitening: fitted filters whiten the patches they were fitted on", "[fast][whitening]") {
  // Correlated channels: the second is mostly the first.
  Tensor4<double> x = random_tensor(6, 2, 9, 8, 5);
  for (Index i = 0; i < x.size() / 2; ++i) {
    const Index n = i / 72, j = i % 72;
    x.data()[(n * 2 + 1) * 72 + j] = 0.9 * x.data()[n * 2 * 72 + j] + 0.1 * x.data()[(n * 2 + 1) * 72 + j] + 0.3;
  }
  PatchWhitening<double> white(2, 2, 1e-9, false);
  CHECK_FALSE(white.fitted());
  CHECK_THROWS_WITH(white.forward(x), Catch::Contains("not fitted"));
  white.fit(x);
  REQUIRE(white.fitted());
  const Tensor4<double>& y = white.forward(x);
  REQUIRE(sample_shape(y) == Shape{16, 8, 7});
  // The first D = 8 channels over all positions: covariance ~ identity.
  const Index d = white.patch_size(), area = 8 * 7, count = 6 * area;
  Eigen::MatrixXd v(count, d);
  for (Index n = 0; n < 6; ++n)
    for (Index c = 0; c < d; ++c)
      for (Index p = 0; p < area; ++p) v(n * area + p, c) = y(n, c, p / 7, p % 7);
  const Eigen::RowVectorXd mean = v.colwise().mean();
  const Eigen::MatrixXd centred = v.rowwise() - mean;
  const Eigen::MatrixXd cov = centred.transpose() * centred / double(count);
  CHECK((cov - Eigen::MatrixXd::Identity(d, d)).cwiseAbs().maxCoeff() < 1e-6);
  // The second half is the negation of the first.
  for (Index c = 0; c < d; ++c) CHECK(y(1, d + c, 2, 3) == -y(1, c, 2, 3));
  // Strongest direction first: filter norms grow as eigenvalues shrink.
  CHECK(white.filters().row(0).norm() < white.filters().row(d - 1).norm());
}

TEST_CASE("PatchWhitening: gradients, spec, checkpoints, arguments", "[fast][whitening]") {
  const auto images = random_tensor(5, 3, 7, 6, 19);
  for (Index k : {2, 3}) {
    PatchWhitening<double> white(3, k, 1e-3, true);
    white.fit(images);
    for (auto& p : white.parameters()) p.value.setRandom();
    INFO("kernel " << k);
    check_layer(white, random_tensor(2, 3, 6, 7, 23));  // dL/dx and dL/dbias; the filters are no parameter
    REQUIRE(white.parameters().size() == 1);
    CHECK(white.parameters()[0].name == "bias");
    REQUIRE(white.buffers().size() == 1);
    CHECK(white.buffers()[0].value.size() == 2 * 3 * k * k * 3 * k * k);
  }
  PatchWhitening<float> white(3, 2, 5e-4);
  white.fit(random_tensor(4, 3, 8, 8, 29).cast<float>());
  CHECK(white.spec() == "patch_whitening channels=3 kernel=2 eps=5e-04 bias=1");
  CHECK(make_layer<float>(white.spec())->spec() == white.spec());
  CHECK(white.output_shape({3, 32, 32}) == Shape{24, 31, 31});
  CHECK(white.macs({3, 32, 32}) == 24.0 * 12 * 31 * 31);
  // reset_parameters (a seeded Network does it) keeps the fitted filters.
  const MatrixR<float> fitted = white.filters();
  Rng rng(1);
  white.reset_parameters(rng);
  CHECK(white.filters() == fitted);
  // A network built from the spec alone refuses to run until its filters load.
  Network<float> net;
  net.emplace<PatchWhitening<float>>(3, 2, 5e-4);
  copy_parameters(white, net);
  TempDir dir;
  save_checkpoint(dir.file("w.ckpt"), capture(net));
  Network<float> loaded = load_network<float>(dir.file("w.ckpt"));
  const Tensor4<float> x = random_tensor(2, 3, 8, 8, 31).cast<float>();
  const Tensor4<float> a = net.forward(x), b = loaded.forward(x);
  CHECK(as_vector(a) == as_vector(b));
  Network<float> unfitted = make_network<float>(white.spec());
  CHECK_THROWS_WITH(unfitted.forward(x), Catch::Contains("not fitted"));
  for (const char* bad : {"patch_whitening channels=0 kernel=2 eps=0.1 bias=1",
                          "patch_whitening channels=3 kernel=0 eps=0.1 bias=1",
                          "patch_whitening channels=3 kernel=2 eps=0 bias=1",
                          "patch_whitening channels=3 kernel=2 bias=1",
                          "patch_whitening channels=3 kernel=2 eps=0.1 bias=1 stride=2"}) {
    INFO(bad);
    CHECK_THROWS_AS(make_layer<float>(bad), ConfigError);
  }
  CHECK_THROWS_AS(white.fit(random_tensor(1, 3, 1, 5, 1).cast<float>()), ShapeError);  // smaller than the kernel
  CHECK_THROWS_AS(white.fit(random_tensor(1, 2, 8, 8, 1).cast<float>()), ShapeError);  // other channels
}

TEST_CASE("WeightAverage: the EMA with its warm-up, swapping, state", "[fast][average]") {
  VectorX<double> w(2), g(2), running(1);
  w << 1, 2;
  g.setZero();
  running << 5;
  std::vector<Parameter<double>> params{{"w", VectorMap<double>(w.data(), 2), VectorMap<double>(g.data(), 2), {2}}};
  std::vector<Buffer<double>> buffers{{"running", VectorMap<double>(running.data(), 1)}};
  WeightAverage<double> avg(params, buffers, 0.5);
  // Python: a = 1; d_t = min(0.5, (1 + t) / (10 + t)); values 3, 5, 7, 9.
  double expected = 1;
  for (int t = 0; t < 4; ++t) {
    const double d = std::min(0.5, (1.0 + t) / (10.0 + t));
    CHECK(avg.next_decay() == Approx(d));
    w[0] = 3 + 2 * t;
    avg.update();
    expected = d * expected + (1 - d) * w[0];
  }
  CHECK(avg.updates() == 4);
  const OptimizerState<double> s = avg.state();
  REQUIRE(s.tensors.size() == 2);
  CHECK(s.tensors[0].first == "w");
  CHECK(s.tensors[0].second[0] == Approx(expected).epsilon(1e-15));
  CHECK(s.tensors[0].second[1] == 2);  // a constant averages to itself
  CHECK(s.tensors[1].first == "running");
  CHECK(s.steps == 4);
  {
    const AverageSwap<double> in(&avg);
    CHECK(avg.swapped());
    CHECK(w[0] == Approx(expected));
    CHECK_THROWS_AS(avg.update(), ConfigError);
  }
  CHECK_FALSE(avg.swapped());
  CHECK(w[0] == 9);
  try {
    const AverageSwap<double> in(&avg);
    throw std::runtime_error("evaluation failed");
  } catch (const std::runtime_error&) {
  }
  CHECK(w[0] == 9);  // swapped back on the way out

  WeightAverage<double> other(params, buffers, 0.9);
  other.load_state(s);
  CHECK(other.updates() == 4);
  CHECK(other.state().tensors[0].second == s.tensors[0].second);
  OptimizerState<double> wrong = s;
  wrong.tensors[1].first = "mean";
  CHECK_THROWS_AS(other.load_state(wrong), ShapeError);
  wrong = s;
  wrong.tensors.pop_back();
  CHECK_THROWS_AS(other.load_state(wrong), ShapeError);
  wrong = s;
  wrong.tensors[0].second.resize(3);
  CHECK_THROWS_AS(other.load_state(wrong), ShapeError);
  CHECK(other.state().tensors[0].second == s.tensors[0].second);  // unchanged by the failures
  for (double bad : {-0.1, 1.0, std::nan("")}) CHECK_THROWS_AS(WeightAverage<double>(params, buffers, bad), ConfigError);
  CHECK_THROWS_AS(WeightAverage<double>({}, {}, 0.5), ConfigError);

  // A decay of the caller's, the pull-back into the model, the restart.
  w << 1, 2;
  running << 5;
  WeightAverage<double> slow(params, buffers, 0.0);
  w[0] = 3;
  running[0] = 7;
  slow.update(0.75);  // 0.75 * 1 + 0.25 * 3, 0.75 * 5 + 0.25 * 7
  CHECK(slow.updates() == 1);
  slow.copy_to_model();
  CHECK(w[0] == 1.5);
  CHECK(w[1] == 2);
  CHECK(running[0] == 5.5);
  w[0] = 4;
  slow.update(1.0);  // keeps the average
  slow.copy_to_model();
  CHECK(w[0] == 1.5);
  w[0] = 4;
  slow.reset();
  CHECK(slow.updates() == 0);
  slow.update(0.5);
  slow.copy_to_model();
  CHECK(w[0] == 4);  // the average restarted at the model's value
  for (double bad : {-0.5, 1.5, std::nan("")}) CHECK_THROWS_AS(slow.update(bad), ConfigError);
  slow.swap();
  CHECK_THROWS_AS(slow.copy_to_model(), ConfigError);
  CHECK_THROWS_AS(slow.reset(), ConfigError);
  slow.swap();
}

TEST_CASE("shift_reflect shifts by a pixel, reflecting at the border as PyTorch's 'reflect' padding", "[fast][trainer]") {
  Tensor4<float> x(1, 1, 3, 4), y;
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = float(i);  // row r, column c holds 4 r + c
  // Reflect-padded by one pixel, the rows are x's 1 0 1 2 1 and the columns 1 0 1 2 3 2.
  shift_reflect(x, y, 1);  // the padded image's top-left 3x4 window
  CHECK(y(0, 0, 0, 0) == 5);   // padded (0, 0) = x(1, 1)
  CHECK(y(0, 0, 0, 3) == 6);   // padded (0, 3) = x(1, 2)
  CHECK(y(0, 0, 2, 1) == 4);   // padded (2, 1) = x(1, 0)
  shift_reflect(x, y, -1);  // the bottom-right window
  CHECK(y(0, 0, 0, 0) == 5);   // x(1, 1)
  CHECK(y(0, 0, 2, 3) == 6);   // padded (4, 5) = x(1, 2)
  CHECK(y(0, 0, 1, 2) == 11);  // x(2, 3)
  shift_reflect(x, y, 0);
  CHECK(as_vector(y) == as_vector(x));
  CHECK_THROWS_AS(shift_reflect(x, y, 3), ShapeError);
}

TEST_CASE("Trainer: per-step schedule, gradient scales, flip TTA, the average in evaluation", "[fast][trainer]") {
  const Dataset train = colour_halves(96, 1), val = colour_halves(40, 2);
  LoaderOptions lo;
  lo.batch_size = 16;
  lo.shuffle = true;
  lo.normalize = Normalize::fit(train);
  DataLoader<float> loader(train, lo);
  lo.shuffle = false;
  DataLoader<float> eval(val, lo);
  TrainOptions quiet;
  quiet.epochs = 2;
  quiet.progress = quiet.summary = false;

  SECTION("a per-step schedule sets the rate before every step") {
    Network<float> net = build_fast_model<float>(tiny_fast(Layout::parallel));
    fit_whitening(net, tools::normalized_images(train, lo.normalize, 96));
    Sgd<float> sgd(net.parameters(), SgdOptions{});
    TrainOptions o = quiet;
    o.schedule = parse_schedule("warmup:1+linear", 0.1, 2);
    Trainer<float> trainer(net, sgd, o);
    trainer.fit_epoch(loader, 1);
    CHECK(sgd.lr() == Approx(o.schedule->lr_at(5, 6)));  // the last of 6 steps
    trainer.fit_epoch(loader, 2);
    CHECK(sgd.lr() == Approx(o.schedule->lr_at(11, 6)));
    CHECK(sgd.lr() == Approx(0.1 / 6));
  }
  SECTION("gradient scales: 0 freezes a parameter, 2 doubles plain SGD's step") {
    const auto run = [&](std::vector<double> scales, double lr) {
      Network<float> net = build_fast_model<float>(tiny_fast(Layout::sequential));
      fit_whitening(net, tools::normalized_images(train, lo.normalize, 96));
      SgdOptions so;
      so.lr = lr;
      Sgd<float> sgd(net.parameters(), so);
      TrainOptions o = quiet;
      o.gradient_scales = std::move(scales);
      Trainer<float> trainer(net, sgd, o);
      const std::vector<float> before = values_of(net);
      trainer.fit_epoch(loader, 1);
      return std::make_pair(before, values_of(net));
    };
    Network<float> probe = build_fast_model<float>(tiny_fast(Layout::sequential));
    const std::size_t n = probe.parameters().size();
    std::vector<double> frozen(n, 1.0);
    frozen[0] = 0;  // the whitening bias
    const auto [before, after] = run(frozen, 0.05);
    CHECK(after[0] == before[0]);
    CHECK(after != before);
    // One step of plain SGD is linear in the gradient.
    const auto twice = run(std::vector<double>(n, 2.0), 0.05), doubled = run({}, 0.1);
    CHECK(twice.second.size() == doubled.second.size());
    double worst = 0;
    for (std::size_t i = 0; i < twice.second.size(); ++i)
      worst = std::max(worst, double(std::abs(twice.second[i] - doubled.second[i])));
    CHECK(worst < 1e-4);
    TrainOptions wrong = quiet;
    wrong.gradient_scales = {1, 2};
    Sgd<float> sgd(probe.parameters(), SgdOptions{});
    CHECK_THROWS_WITH(Trainer<float>(probe, sgd, wrong), Catch::Contains("gradient scales for"));
  }
  // A tiny fast model after an epoch of Adam, to evaluate.
  const auto trained = [&] {
    Network<float> net = build_fast_model<float>(tiny_fast(Layout::parallel));
    fit_whitening(net, tools::normalized_images(train, lo.normalize, 96));
    Adam<float> adam(net.parameters(), AdamOptions{});
    Trainer<float>(net, adam, quiet).fit_epoch(loader, 1);
    return net;
  };
  // Loss and accuracy over `eval` of the logits logits_of(x) gives, by hand,
  // through a loss without smoothing.
  const auto by_hand = [&](Network<float>& net, const std::function<Tensor4<float>(const Tensor4<float>&)>& logits_of) {
    net.eval();
    Batch<float> b;
    eval.start_epoch(0);
    SoftmaxCrossEntropy<float> loss;
    EvalResult r;
    Index hits = 0;
    while (eval.next(b)) {
      r.loss += double(loss.forward(logits_of(b.x), b.y)) * double(b.size);
      hits += loss.correct();
      r.samples += b.size;
    }
    r.loss /= double(r.samples);
    r.accuracy = double(hits) / double(r.samples);
    return r;
  };
  SECTION("flip TTA scores the mean logits of each image and its mirror") {
    Network<float> net = trained();
    Adam<float> adam(net.parameters(), AdamOptions{});
    Trainer<float> plain(net, adam, quiet);
    TrainOptions o = quiet;
    o.flip_tta = true;
    const EvalResult tta = Trainer<float>(net, adam, o).evaluate(eval);
    const EvalResult hand = by_hand(net, [&](const Tensor4<float>& x) {
      Tensor4<float> logits = net.forward(x), mirror = x;
      flip_horizontal(mirror);
      CHECK(mirror(0, 1, 2, 0) == x(0, 1, 2, 15));
      as_vector(logits) = 0.5f * (as_vector(logits) + as_vector(net.forward(mirror)));
      flip_horizontal(mirror);  // twice: the identity
      CHECK(as_vector(mirror) == as_vector(x));
      return logits;
    });
    CHECK(hand.samples == 40);
    CHECK(tta.loss == Approx(hand.loss));
    CHECK(tta.accuracy == hand.accuracy);
    CHECK(tta.loss != plain.evaluate(eval).loss);  // mirrors move the bright half: it matters here
  }
  SECTION("translate TTA adds the mean over one-pixel shifts both ways, with and without mirrors") {
    Network<float> net = trained();
    Adam<float> adam(net.parameters(), AdamOptions{});
    for (bool flips : {false, true}) {
      INFO("flip_tta " << flips);
      TrainOptions o = quiet;
      o.flip_tta = flips;
      o.translate_tta = true;
      const EvalResult tta = Trainer<float>(net, adam, o).evaluate(eval);
      // Each view's logits, averaged with its mirror's under flip_tta.
      const auto view = [&](Tensor4<float> x) {
        Tensor4<float> logits = net.forward(x);
        if (!flips) return logits;
        flip_horizontal(x);
        as_vector(logits) = 0.5f * (as_vector(logits) + as_vector(net.forward(x)));
        return logits;
      };
      const EvalResult hand = by_hand(net, [&](const Tensor4<float>& x) {
        Tensor4<float> logits = view(x), up_left, down_right;
        shift_reflect(x, up_left, -1);
        shift_reflect(x, down_right, 1);
        as_vector(logits) = 0.5f * as_vector(logits) + 0.25f * (as_vector(view(up_left)) + as_vector(view(down_right)));
        return logits;
      });
      CHECK(tta.loss == Approx(hand.loss).epsilon(1e-5));
      CHECK(tta.accuracy == hand.accuracy);
      o.translate_tta = false;
      CHECK(tta.loss != Trainer<float>(net, adam, o).evaluate(eval).loss);
    }
  }
  SECTION("lookahead pulls the weights to d slow + (1 - d) fast every k steps and after an epoch's last") {
    const auto start = [&] {
      Network<float> net = build_fast_model<float>(tiny_fast(Layout::parallel));
      fit_whitening(net, tools::normalized_images(train, lo.normalize, 96));
      return net;
    };
    SgdOptions so;
    so.lr = 0.05;
    so.momentum = 0.9;
    TrainOptions o = quiet;
    o.lookahead_every = 4;  // 6 batches an epoch: pulls after steps 4, 6, 10, 12
    o.lookahead_decay = 0.8;
    const auto two_epochs = [&](const TrainOptions& options) {
      Network<float> net = start();
      Sgd<float> sgd(net.parameters(), so);
      Trainer<float> trainer(net, sgd, options);
      trainer.fit_epoch(loader, 1);
      trainer.fit_epoch(loader, 2);
      return values_of(net);
    };
    const std::vector<float> pulled = two_epochs(o);

    // The same two epochs by hand.
    Network<float> hand = start();
    Sgd<float> hand_sgd(hand.parameters(), so);
    SoftmaxCrossEntropy<float> loss;
    WeightAverage<float> slow(hand, 0.0);
    std::vector<int> pulls;
    Batch<float> batch;
    for (int epoch = 1; epoch <= 2; ++epoch) {
      hand.train();
      loader.start_epoch(epoch);
      for (int b = 0; loader.next(batch); ++b) {
        hand_sgd.zero_grad();
        loss.forward(hand.forward(batch.x), batch.y);
        hand.backward(loss.backward());
        hand_sgd.step();
        const int t = 6 * (epoch - 1) + b + 1;
        if ((b + 1) % 4 == 0 || b == 5) {
          const double u = t / 12.0;
          slow.update(0.8 * (u * u * u));
          slow.copy_to_model();
          pulls.push_back(t);
        }
      }
    }
    CHECK(pulls == std::vector<int>{4, 6, 10, 12});
    CHECK(pulled == values_of(hand));
    o.lookahead_every = 0;
    CHECK(two_epochs(o) != pulled);
    o.lookahead_every = -1;
    CHECK_THROWS_WITH(Trainer<float>(hand, hand_sgd, o), Catch::Contains("lookahead_every must be >= 0"));
    o.lookahead_every = 5;
    o.lookahead_decay = 1.5;
    CHECK_THROWS_WITH(Trainer<float>(hand, hand_sgd, o), Catch::Contains("lookahead_decay must be in [0, 1]"));
  }
  SECTION("the average is updated every step and evaluated in place of the weights") {
    Network<float> net = build_fast_model<float>(tiny_fast(Layout::parallel));
    fit_whitening(net, tools::normalized_images(train, lo.normalize, 96));
    Adam<float> adam(net.parameters(), AdamOptions{});
    WeightAverage<float> average(net, 0.9);
    Trainer<float> trainer(net, adam, quiet, &average);
    trainer.fit_epoch(loader, 1);
    CHECK(average.updates() == 6);
    const std::vector<float> weights = values_of(net);
    const EvalResult with_average = trainer.evaluate(eval);
    CHECK(values_of(net) == weights);  // swapped back
    average.swap();
    const EvalResult by_hand = Trainer<float>(net, adam, quiet).evaluate(eval);
    average.swap();
    CHECK(with_average.loss == by_hand.loss);
    CHECK(with_average.loss != Trainer<float>(net, adam, quiet).evaluate(eval).loss);
  }
}

TEST_CASE("Fast model: both layouts, shape, gradients end to end, gradient scales", "[fast][model]") {
  Network<float> deep = build_fast_model<float>(tiny_fast(Layout::sequential));
  Network<float> wide = build_fast_model<float>(tiny_fast(Layout::parallel));
  CHECK(parameter_count(deep) == parameter_count(wide));
  CHECK(deep.output_shape({3, 16, 16}) == Shape{3, 1, 1});
  const FastModelConfig standard;
  Network<float> full = build_fast_model<float>(standard);
  CHECK(full.output_shape({3, 32, 32}) == Shape{10, 1, 1});
  CHECK(full.spec().rfind("patch_whitening channels=3 kernel=2", 0) == 0);
  CHECK(full.macs({3, 32, 32}) == Approx(118.1e6).epsilon(0.01));
  for (Layout layout : {Layout::sequential, Layout::parallel}) {
    INFO(to_string(layout));
    FastModelConfig c = tiny_fast(layout);
    c.widths = {2, 3};
    c.input = {2, 8, 8};
    Network<double> net = build_fast_model<double>(c);
    // Random weights instead of the Dirac start: an identity filter copies
    // the ReLU's exact zeros into max-pool windows, ties that finite
    // differences cannot difference.
    Rng rng(5);
    net.reset_parameters(rng);
    fit_whitening(net, random_tensor(4, 2, 8, 8, 7));
    check_layer(net, random_tensor(3, 2, 8, 8, 11));
  }
  // The dense layer starts at classifier_scale times its usual draw and
  // trains with that scale squared; BatchNorm biases take their own factor.
  const std::vector<double> scales = fast_gradient_scales(wide, tiny_fast(Layout::parallel), 64);
  const auto params = wide.parameters();
  REQUIRE(scales.size() == params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    INFO(params[i].name);
    const bool bn_bias = params[i].name == "4.bias" || params[i].name == "9.bias" || params[i].name == "14.bias";
    const bool dense = i + 1 == params.size();
    CHECK(scales[i] == (bn_bias ? 64 : dense ? 1.0 / 81 : 1));
  }
  FastModelConfig bad;
  bad.widths = {8, 8, 8, 8, 8, 8};
  CHECK_THROWS_AS(build_fast_model<float>(bad), ConfigError);  // pools below 1x1
  bad = FastModelConfig{};
  bad.classifier_scale = 0;
  CHECK_THROWS_AS(build_fast_model<float>(bad), ConfigError);
  Network<float> classifier = build_model<float>(ModelConfig{});
  const Tensor4<float> digits = random_tensor(1, 1, 28, 28, 1).cast<float>();
  CHECK_THROWS_WITH(fit_whitening(classifier, digits),
                    Catch::Contains("patch_whitening"));
}

TEST_CASE("The tools' run with --ema and --lookahead resumes exactly from its checkpoint", "[fast][resume]") {
  const cli::Parser p = parser({"--recipe", "cifar10-fast", "--filters", "4", "--layers", "2", "--epochs", "3",
                                "--batch", "16", "--schedule", "warmup:1+linear", "--val-every", "1", "--lookahead",
                                "3", "--quiet"});
  tools::Data data;
  data.train = colour_halves(64, 5);
  data.val = colour_halves(32, 6);
  data.norm = Normalize::fit(data.train);
  TempDir dir;
  const auto run = [&](int from, int to, const std::string& load, const std::string& save) {
    tools::Run r = tools::make_run(p, data.train, Layout::sequential);
    REQUIRE(r.average);
    if (!load.empty()) tools::load_run(load_checkpoint(load), r);
    tools::train_epochs(p, data, r, from, [&](tools::Run& run) {
      if (!save.empty()) save_checkpoint(save, tools::capture_run(run));
      return run.history.back().epoch != to;
    });
    return std::make_pair(values_of(r.net), r.history);
  };
  const auto whole = run(1, 3, "", "");
  run(1, 1, "", dir.file("fast.ckpt"));
  const auto resumed = run(2, 3, dir.file("fast.ckpt"), "");
  CHECK(resumed.first == whole.first);  // the training weights, bitwise
  REQUIRE(resumed.second.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(resumed.second[i].train_loss == whole.second[i + 1].train_loss);
    CHECK(resumed.second[i].val_loss == whole.second[i + 1].val_loss);  // measured with the average
  }
  // The checkpoint's network is the average: it scores what the metrics said.
  Network<float> saved = load_network<float>(dir.file("fast.ckpt"));
  DataLoader<float> val(data.val, tools::loader_options(p, data, false));
  TrainOptions o;
  o.flip_tta = true;
  o.translate_tta = true;  // as the recipe evaluates
  Adam<float> unused(saved.parameters(), AdamOptions{});
  CHECK(Trainer<float>(saved, unused, o).evaluate(val).loss == whole.second[0].val_loss);

  // A checkpoint of the run without --ema refuses to be mistaken for one with.
  const cli::Parser plain = parser({"--recipe", "cifar10-fast", "--filters", "4", "--layers", "2", "--epochs", "3",
                                    "--batch", "16", "--schedule", "warmup:1+linear", "--val-every", "1", "--ema", "0",
                                    "--quiet"});
  tools::Run no_average = tools::make_run(plain, data.train, Layout::sequential);
  CHECK_FALSE(no_average.average);
  tools::load_run(load_checkpoint(dir.file("fast.ckpt")), no_average);  // continues from the average
  CHECK(values_of(no_average.net) == values_of(saved));
}

TEST_CASE("The fast model with --activation gelu has GELU after the whitening and each group's batch norm, ReLU in the branches",
          "[fast][cli]") {
  Dataset like;
  like.shape = {3, 32, 32};
  like.classes = 10;
  for (const char* activation : {"relu", "gelu"}) {
    INFO(activation);
    const cli::Parser p = parser({"--recipe", "cifar10-fast", "--activation", activation});
    tools::check_flags(p);
    Network<float> net = tools::build_network(p, like, Layout::parallel);
    std::vector<std::string> after;  // the layer after each whitening and batch norm
    for (std::size_t i = 0; i + 1 < net.size(); ++i) {
      const std::string kind = SpecReader(net[i].spec()).name();
      if (kind == "patch_whitening" || kind == "batchnorm2d") after.push_back(net[i + 1].spec());
      if (auto* block = dynamic_cast<ResidualBlock<float>*>(&net[i]))
        CHECK(block->options().activation == Activation::relu);
    }
    CHECK(after == std::vector<std::string>(4, activation));
  }
}

TEST_CASE("airbench94's batch norm and augmentation flags reach the network and the loader", "[fast][cli]") {
  Dataset like;
  like.shape = {3, 32, 32};
  like.classes = 10;
  const cli::Parser p = parser({"--recipe", "cifar10-fast", "--bn-momentum", "0.4", "--bn-eps", "1e-12", "--bn-scale",
                                "0", "--crop-fill", "reflect", "--flips", "alternate"});
  tools::check_flags(p);
  Network<float> net = tools::build_network(p, like, Layout::parallel);
  int groups = 0, blocks = 0;
  for (std::size_t i = 0; i < net.size(); ++i) {
    if (auto* bn = dynamic_cast<BatchNorm2d<float>*>(&net[i])) {
      ++groups;
      CHECK_FALSE(bn->has_scale());
      CHECK(bn->eps() == 1e-12);
      CHECK(ends_with(bn->spec(), " eps=1e-12 momentum=0.4 scale=0"));
    }
    if (auto* block = dynamic_cast<ResidualBlock<float>*>(&net[i])) {
      ++blocks;
      CHECK(block->options().batchnorm_momentum == 0.4);
      CHECK_FALSE(block->options().batchnorm_scale);
      for (const auto& param : block->parameters()) CHECK_FALSE(ends_with(param.name, ".bn.weight"));
    }
  }
  CHECK(groups == 3);
  CHECK(blocks == 3);
  tools::Data data;
  data.train = colour_halves(8, 1);
  data.norm = Normalize::fit(data.train);
  const LoaderOptions o = tools::loader_options(p, data, true);
  CHECK(o.reflect_padding);
  CHECK(o.alternate_flips);
  CHECK(o.crop_padding == 2);
  const LoaderOptions plain = tools::loader_options(parser({"--recipe", "cifar10"}), data, true);
  CHECK_FALSE(plain.reflect_padding);
  CHECK_FALSE(plain.alternate_flips);
  const LoaderOptions recipe = tools::loader_options(parser({"--recipe", "cifar10-fast"}), data, true);
  CHECK(recipe.reflect_padding);
  CHECK(recipe.alternate_flips);
  CHECK_FALSE(tools::loader_options(p, data, false).alternate_flips);  // evaluation is never augmented

  const auto check = [](std::vector<std::string> args) { tools::check_flags(parser(std::move(args))); };
  CHECK_THROWS_WITH(check({"--recipe", "cifar10", "--bn-eps", "1e-3"}), Catch::Contains("--model fast only"));
  CHECK_THROWS_WITH(check({"--recipe", "cifar10-fast", "--bn-momentum", "2"}), Catch::Contains("momentum"));
  CHECK_THROWS_AS(check({"--recipe", "cifar10-fast", "--bn-scale", "2"}), cli::UsageError);
  CHECK_THROWS_WITH(check({"--recipe", "cifar10-fast", "--crop-fill", "mirror"}),
                    Catch::Contains("--crop-fill must be zero or reflect, got 'mirror'"));
  CHECK_THROWS_WITH(check({"--recipe", "cifar10-fast", "--flips", "often"}),
                    Catch::Contains("--flips must be random or alternate, got 'often'"));
}

TEST_CASE("The cifar10-fast flags are checked before any data loads", "[fast][cli]") {
  const auto check = [](std::vector<std::string> args) { tools::check_flags(parser(std::move(args))); };
  CHECK_NOTHROW(check({"--recipe", "cifar10-fast"}));
  CHECK_THROWS_WITH(check({"--recipe", "cifar10-fast", "--label-smoothing", "1"}), Catch::Contains("below 1"));
  CHECK_THROWS_WITH(check({"--recipe", "cifar10-fast", "--ema", "1"}), Catch::Contains("--ema must be below 1"));
  CHECK_THROWS_WITH(check({"--recipe", "cifar10-fast", "--stages", "3"}), Catch::Contains("--model classifier only"));
  CHECK_THROWS_WITH(check({"--recipe", "cifar10-fast", "--optimizer", "adam"}), Catch::Contains("--nesterov needs"));
  CHECK_THROWS_WITH(check({"--recipe", "cifar10-fast", "--model", "resnet"}), Catch::Contains("--model must be"));
  CHECK_THROWS_WITH(check({"--recipe", "cifar10-fast", "--epochs", "2"}), Catch::Contains("warm-up"));
  CHECK_THROWS_WITH(check({"--recipe", "cifar10", "--bn-bias-lr", "2"}), Catch::Contains("--model fast only"));
  CHECK_THROWS_WITH(check({"--recipe", "cifar10-fast", "--filters", "2000"}), Catch::Contains("at most 4096"));
  CHECK_THROWS_WITH(check({"--recipe", "cifar10", "--branch-norm", "batchnorm"}), Catch::Contains("--model fast only"));
  CHECK_THROWS_WITH(check({"--recipe", "cifar10-fast", "--branch-norm", "layer"}),
                    Catch::Contains("--branch-norm must be none or batchnorm"));
  CHECK_THROWS_WITH(check({"--recipe", "cifar10-fast", "--conv-algorithm", "fft"}), Catch::Contains("--conv-algorithm"));
  CHECK_THROWS_WITH(check({"--recipe", "cifar10-fast", "--activation", "tanh"}),
                    Catch::Contains("--activation must be relu or gelu with --model fast, got 'tanh'"));
  CHECK_THROWS_WITH(check({"--recipe", "cifar10", "--activation", "gelu"}), Catch::Contains("unknown activation 'gelu'"));
  CHECK_NOTHROW(check({"--recipe", "cifar10-fast", "--tta-translate"}));
  CHECK_THROWS_WITH(check({"--dataset", "folder", "--image-size", "1", "--tta-translate"}),
                    Catch::Contains("--tta-translate shifts images by a pixel, which 3x1x1 images cannot take"));
  // 16x16 images leave the last group 1x1: the check's single image must not trip batch norm.
  CHECK_NOTHROW(check({"--model", "fast", "--dataset", "folder", "--image-size", "16", "--filters", "4",
                       "--branch-norm", "batchnorm", "--conv-algorithm", "im2col"}));
}

TEST_CASE("The fast model takes the conv-algorithm and branch-norm flags into its residual blocks", "[fast][cli]") {
  Dataset like;
  like.shape = {3, 32, 32};
  like.classes = 10;
  for (const char* algorithm : {"auto", "im2col", "winograd"})
    for (const char* norm : {"none", "batchnorm"}) {
      INFO(algorithm << " " << norm);
      const cli::Parser p = parser({"--recipe", "cifar10-fast", "--layers", "2", "--conv-algorithm", algorithm,
                                    "--branch-norm", norm});
      tools::check_flags(p);
      Network<float> net = tools::build_network(p, like, Layout::parallel);
      const FastModelConfig c = tools::fast_model_config(p, like, Layout::parallel);
      const std::vector<double> scales = fast_gradient_scales(net, c, 64);
      int blocks = 0;
      std::size_t at = 0;
      for (std::size_t i = 0; i < net.size(); ++i) {
        const auto params = net[i].parameters();
        if (auto* block = dynamic_cast<ResidualBlock<float>*>(&net[i])) {
          ++blocks;
          CHECK(block->options().algorithm == parse_conv_algorithm(algorithm));
          CHECK(block->options().batchnorm == (std::string(norm) == "batchnorm"));
          CHECK(block->options().bias == !block->options().batchnorm);
          for (std::size_t j = 0; j < params.size(); ++j) {
            const bool norm_bias = params[j].name.find(".bn.bias") != std::string::npos;
            CHECK(scales[at + j] == (norm_bias ? 64 : 1));
          }
        }
        at += params.size();
      }
      CHECK(blocks == 3);
      CHECK(at == scales.size());
    }
}
