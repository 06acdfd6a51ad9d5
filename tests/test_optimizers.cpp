// Optimizers (SGD, Adam, AdamW), learning-rate schedules and gradient
// clipping: exact values after a few steps, convergence on a convex problem,
// state save/restore, option checks.
#include <catch2/catch.hpp>

#include <shallow/optim/adam.hpp>
#include <shallow/optim/clip_grad.hpp>
#include <shallow/optim/optimizer.hpp>
#include <shallow/optim/schedule.hpp>
#include <shallow/optim/sgd.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

using namespace shallow;

namespace {

// f(x) = 1/2 sum_i a_i (x_i - c_i)^2, gradient a_i (x_i - c_i). x is held as
// two parameters, "w" (all but the last value) and "b" (the last), so every
// test also covers an optimizer with more than one parameter.
template <class T>
struct Quadratic {
  VectorX<T> a, c, x, g;

  Quadratic(VectorX<T> a_, VectorX<T> c_, VectorX<T> x0) : a(std::move(a_)), c(std::move(c_)), x(std::move(x0)) {
    g = VectorX<T>::Zero(x.size());
  }

  std::vector<Parameter<T>> parameters() {
    const Index n = x.size();
    return {{"w", VectorMap<T>(x.data(), n - 1), VectorMap<T>(g.data(), n - 1), {n - 1}},
            {"b", VectorMap<T>(x.data() + n - 1, 1), VectorMap<T>(g.data() + n - 1, 1), {1}}};
  }

  // Sets the gradient; layers add to it, but here each step starts afresh.
  void compute_grad() { g = a.cwiseProduct(x - c); }
};

template <class T>
VectorX<T> vec(std::initializer_list<double> values) {
  VectorX<T> v(static_cast<Index>(values.size()));
  Index i = 0;
  for (double x : values) v[i++] = static_cast<T>(x);
  return v;
}

// The 3-value problem of the exact-value tests: a = (1, 4, 2),
// c = (0.5, -1, 3), x0 = (1, -2, 0.5); first gradient (0.5, -4, -5).
template <class T>
Quadratic<T> small_problem() {
  return {vec<T>({1, 4, 2}), vec<T>({0.5, -1, 3}), vec<T>({1, -2, 0.5})};
}

// 10 values, curvatures 1..10, minimum away from the start at 0.
template <class T>
Quadratic<T> convex_problem() {
  VectorX<T> a(10), c(10);
  for (Index i = 0; i < 10; ++i) {
    a[i] = static_cast<T>(i + 1);
    c[i] = static_cast<T>(0.3 * static_cast<double>(i) - 1.2);
  }
  return {a, c, VectorX<T>::Zero(10)};
}

template <class T>
void run(Optimizer<T>& opt, Quadratic<T>& q, int steps) {
  for (int i = 0; i < steps; ++i) {
    q.compute_grad();
    opt.step();
  }
}

template <class T>
double tolerance() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-12;
}

template <class T>
void require_values(const VectorX<T>& x, std::initializer_list<double> expected) {
  REQUIRE(x.size() == static_cast<Index>(expected.size()));
  Index i = 0;
  for (double e : expected) {
    CHECK(static_cast<double>(x[i]) == Approx(e).epsilon(tolerance<T>()));
    ++i;
  }
}

SgdOptions sgd_options(double lr, double momentum = 0, double dampening = 0, double weight_decay = 0,
                       bool nesterov = false) {
  SgdOptions o;
  o.lr = lr;
  o.momentum = momentum;
  o.dampening = dampening;
  o.weight_decay = weight_decay;
  o.nesterov = nesterov;
  return o;
}

// Every optimizer configuration the state tests round-trip.
enum class Kind { sgd, momentum, nesterov, adam, adamw };

template <class T>
std::unique_ptr<Optimizer<T>> make(Kind kind, std::vector<Parameter<T>> params) {
  switch (kind) {
    case Kind::sgd: return std::make_unique<Sgd<T>>(std::move(params), sgd_options(0.1));
    case Kind::momentum: return std::make_unique<Sgd<T>>(std::move(params), sgd_options(0.05, 0.9, 0.1, 0.01));
    case Kind::nesterov: return std::make_unique<Sgd<T>>(std::move(params), sgd_options(0.05, 0.9, 0, 0, true));
    case Kind::adam: return std::make_unique<Adam<T>>(std::move(params), AdamOptions{0.1, {0.8, 0.99}, 1e-8, 0.1});
    case Kind::adamw: return std::make_unique<AdamW<T>>(std::move(params), AdamWOptions{0.1, {0.9, 0.999}, 1e-8, 0.1});
  }
  return nullptr;
}

}  // namespace

// Expected values below come from plain-float Python (doubles), written from
// the update equations in the headers, not from this library:
//
//   a = [1., 4., 2.]; c = [.5, -1., 3.]; x0 = [1., -2., .5]
//   def grad(x): return [ai * (xi - ci) for ai, xi, ci in zip(a, x, c)]
//   def sgd(lr, momentum=0., dampening=0., wd=0., nesterov=False, steps=3):
//       x = list(x0); buf = None
//       for t in range(steps):
//           d = [g + wd * xi for g, xi in zip(grad(x), x)]
//           if momentum:
//               buf = list(d) if buf is None else [momentum * b + (1 - dampening) * di for b, di in zip(buf, d)]
//               d = [di + momentum * b for di, b in zip(d, buf)] if nesterov else buf
//           x = [xi - lr * di for xi, di in zip(x, d)]
//       return x
//   def adam(lr, b1=.9, b2=.999, eps=1e-8, wd=0., decoupled=False, steps=3):
//       x = list(x0); m = [0.] * 3; v = [0.] * 3
//       for t in range(1, steps + 1):
//           g = grad(x)
//           if decoupled: x = [xi * (1 - lr * wd) for xi in x]
//           else: g = [gi + wd * xi for gi, xi in zip(g, x)]
//           m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
//           v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g)]
//           bc1 = 1 - b1 ** t; bc2 = 1 - b2 ** t
//           x = [xi - lr / bc1 * mi / (math.sqrt(vi) / math.sqrt(bc2) + eps) for xi, mi, vi in zip(x, m, v)]
//       return x

TEMPLATE_TEST_CASE("SGD: exact values after three steps", "[optimizer][sgd]", float, double) {
  auto q = small_problem<TestType>();

  SECTION("plain") {
    // x -= 0.1 a (x - c): (1, -2, .5) -> (.95, -1.6, 1) -> (.905, -1.36, 1.4) -> (.8645, -1.216, 1.72)
    Sgd<TestType> opt(q.parameters(), sgd_options(0.1));
    run(opt, q, 3);
    require_values(q.x, {0.8645, -1.216, 1.72});
  }
  SECTION("momentum with dampening: the first buffer is the gradient, undamped") {
    // sgd(0.1, 0.9, 0.1); step 1 is plain SGD: (.95, -1.6, 1)
    Sgd<TestType> opt(q.parameters(), sgd_options(0.1, 0.9, 0.1));
    run(opt, q, 1);
    require_values(q.x, {0.95, -1.6, 1.0});
    run(opt, q, 2);
    require_values(q.x, {0.7547449999999999, -0.49695999999999985, 2.7532});
  }
  SECTION("nesterov") {
    // sgd(0.1, 0.9, nesterov=True); step 1: d = g + 0.9 g = 1.9 g -> (.905, -1.24, 1.45)
    Sgd<TestType> opt(q.parameters(), sgd_options(0.1, 0.9, 0, 0, true));
    run(opt, q, 1);
    require_values(q.x, {0.905, -1.24, 1.45});
    run(opt, q, 2);
    require_values(q.x, {0.6636605, -0.5667039999999999, 3.27088});
  }
  SECTION("weight decay with momentum") {
    // sgd(0.1, 0.5, wd=0.1); step 1: d = g + 0.1 x0 = (.6, -4.2, -4.95) -> (.94, -1.58, .995)
    Sgd<TestType> opt(q.parameters(), sgd_options(0.1, 0.5, 0, 0.1));
    run(opt, q, 1);
    require_values(q.x, {0.94, -1.58, 0.995});
    run(opt, q, 2);
    require_values(q.x, {0.7706739999999999, -0.833198, 2.2097795000000002});
  }
}

TEMPLATE_TEST_CASE("Adam and AdamW: exact values after three steps", "[optimizer][adam]", float, double) {
  auto q = small_problem<TestType>();
  AdamOptions adam;
  adam.lr = 0.1;

  SECTION("Adam") {
    // Step 1: m^ = g, sqrt(v^) = |g|, so x -= 0.1 g / (|g| + 1e-8), a step of about lr
    // against the gradient's sign: (.900000002, -1.90000000025, .5999999998). Then adam(0.1):
    Adam<TestType> opt(q.parameters(), adam);
    run(opt, q, 1);
    require_values(q.x, {0.900000002, -1.90000000025, 0.5999999998});
    run(opt, q, 2);
    require_values(q.x, {0.7048712557394511, -1.701586272166838, 0.7995260661370407});
  }
  SECTION("Adam with L2 weight decay") {
    // adam(0.1, wd=0.1)
    adam.weight_decay = 0.1;
    Adam<TestType> opt(q.parameters(), adam);
    run(opt, q, 3);
    require_values(q.x, {0.7041738954091029, -1.701531567477432, 0.7994910448342792});
  }
  SECTION("AdamW: decoupled weight decay") {
    // Step 1: x0 (1 - 0.1 * 0.1) - 0.1 g / (|g| + 1e-8) = (.890000002, -1.88000000025, .5949999998).
    // Then adam(0.1, wd=0.1, decoupled=True):
    AdamWOptions adamw;
    adamw.lr = 0.1;
    adamw.weight_decay = 0.1;
    AdamW<TestType> opt(q.parameters(), adamw);
    run(opt, q, 1);
    require_values(q.x, {0.890000002, -1.88000000025, 0.5949999998});
    run(opt, q, 2);
    require_values(q.x, {0.6790401741693037, -1.645656310121933, 0.7817170554436534});
  }
}

TEMPLATE_TEST_CASE("Options default to PyTorch's", "[optimizer]", float, double) {
  CHECK(SgdOptions{}.momentum == 0);
  CHECK(SgdOptions{}.dampening == 0);
  CHECK(SgdOptions{}.weight_decay == 0);
  CHECK_FALSE(SgdOptions{}.nesterov);
  CHECK(AdamOptions{}.lr == 1e-3);
  CHECK(AdamOptions{}.betas[0] == 0.9);
  CHECK(AdamOptions{}.betas[1] == 0.999);
  CHECK(AdamOptions{}.eps == 1e-8);
  CHECK(AdamOptions{}.weight_decay == 0);
  CHECK(AdamWOptions{}.weight_decay == 0.01);

  // AdamW with no gradient only decays: m = v = 0, so the Adam term is 0 / eps.
  auto q = small_problem<TestType>();
  AdamW<TestType> opt(q.parameters());
  for (int i = 0; i < 3; ++i) opt.step();
  const double decay = std::pow(1 - 1e-3 * 0.01, 3);
  require_values(q.x, {1 * decay, -2 * decay, 0.5 * decay});
}

TEMPLATE_TEST_CASE("Optimizers converge on a convex quadratic", "[optimizer][convergence]", float, double) {
  using T = TestType;
  auto q = convex_problem<T>();
  VectorX<T> minimum = q.c;
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-10;
  const int steps = 2000;

  SECTION("SGD") {
    Sgd<T> opt(q.parameters(), sgd_options(0.05));
    run(opt, q, steps);
  }
  SECTION("SGD with momentum and dampening") {
    Sgd<T> opt(q.parameters(), sgd_options(0.01, 0.9, 0.5));
    run(opt, q, steps);
  }
  SECTION("SGD with nesterov momentum") {
    Sgd<T> opt(q.parameters(), sgd_options(0.01, 0.9, 0, 0, true));
    run(opt, q, steps);
  }
  SECTION("SGD with weight decay: minimum of f + wd/2 |x|^2") {
    Sgd<T> opt(q.parameters(), sgd_options(0.01, 0.9, 0, 0.5));
    run(opt, q, steps);
    minimum = (q.a.array() * q.c.array() / (q.a.array() + T(0.5))).matrix();
  }
  // Adam's step does not shrink with the gradient, so it needs a decaying
  // rate to settle: cosine to 0 over the run.
  SECTION("Adam with a cosine schedule") {
    Adam<T> opt(q.parameters(), AdamOptions{0.1});
    const auto schedule = LrSchedule::cosine(0.1, steps);
    for (int i = 0; i < steps; ++i) {
      opt.set_lr(schedule.lr_at(i));
      run(opt, q, 1);
    }
  }
  // (Decoupled decay moves the minimum; its effect is checked exactly above.)
  SECTION("AdamW with a cosine schedule and no weight decay") {
    AdamWOptions o;
    o.lr = 0.1;
    o.weight_decay = 0;
    AdamW<T> opt(q.parameters(), o);
    const auto schedule = LrSchedule::cosine(0.1, steps);
    for (int i = 0; i < steps; ++i) {
      opt.set_lr(schedule.lr_at(i));
      run(opt, q, 1);
    }
  }
  INFO("x = " << q.x.transpose() << "\nminimum = " << minimum.transpose());
  CHECK(static_cast<double>((q.x - minimum).cwiseAbs().maxCoeff()) < tol);
}

TEMPLATE_TEST_CASE("Optimizer state: save, restore, continue bit-identically", "[optimizer][state]", float, double) {
  using T = TestType;
  const auto kind = GENERATE(Kind::sgd, Kind::momentum, Kind::nesterov, Kind::adam, Kind::adamw);
  auto a = small_problem<T>();
  auto opt_a = make(kind, a.parameters());
  run(*opt_a, a, 3);
  const OptimizerState<T> saved = opt_a->state();
  CHECK(saved.steps == 3);

  std::vector<std::string> names;
  for (const auto& [name, values] : saved.tensors) names.push_back(name);
  switch (kind) {
    case Kind::sgd: CHECK(names.empty()); break;
    case Kind::momentum:
    case Kind::nesterov: CHECK(names == std::vector<std::string>{"w.momentum_buffer", "b.momentum_buffer"}); break;
    case Kind::adam:
    case Kind::adamw:
      CHECK(names == std::vector<std::string>{"w.exp_avg", "w.exp_avg_sq", "b.exp_avg", "b.exp_avg_sq"});
      break;
  }

  // A second run resumes from copies of the values and the saved state.
  auto b = small_problem<T>();
  b.x = a.x;
  auto opt_b = make(kind, b.parameters());
  opt_b->load_state(saved);
  CHECK(opt_b->steps() == 3);
  run(*opt_a, a, 2);
  run(*opt_b, b, 2);
  for (Index i = 0; i < a.x.size(); ++i) CHECK(a.x[i] == b.x[i]);

  // Without the state the run differs (except for plain SGD, which has none).
  if (kind != Kind::sgd) {
    auto c = small_problem<T>();
    c.x = b.x;
    auto opt_c = make(kind, c.parameters());
    run(*opt_a, a, 1);
    run(*opt_c, c, 1);
    CHECK(a.x != c.x);
  }
}

TEMPLATE_TEST_CASE("Optimizer state: mismatches throw and change nothing", "[optimizer][state]", float, double) {
  using T = TestType;
  auto q = small_problem<T>();
  Adam<T> adam(q.parameters(), AdamOptions{0.1});
  run(adam, q, 2);
  const auto before = adam.state();

  auto r = small_problem<T>();
  Sgd<T> sgd(r.parameters(), sgd_options(0.1, 0.9));
  run(sgd, r, 1);

  auto wrong = before;
  SECTION("another optimizer's state") { CHECK_THROWS_AS(adam.load_state(sgd.state()), ShapeError); }
  SECTION("a tensor of another size") {
    wrong.tensors[1].second = VectorX<T>::Zero(3);
    CHECK_THROWS_AS(adam.load_state(wrong), ShapeError);
  }
  SECTION("a tensor of another name") {
    wrong.tensors[2].first = "v.exp_avg";
    CHECK_THROWS_AS(adam.load_state(wrong), ShapeError);
  }
  SECTION("a negative step count") {
    wrong.steps = -1;
    CHECK_THROWS_AS(adam.load_state(wrong), ShapeError);
  }
  const auto after = adam.state();
  CHECK(after.steps == before.steps);
  for (std::size_t i = 0; i < before.tensors.size(); ++i) CHECK(after.tensors[i].second == before.tensors[i].second);
}

TEMPLATE_TEST_CASE("Optimizer basics: zero_grad, lr, steps", "[optimizer]", float, double) {
  using T = TestType;
  auto q = small_problem<T>();
  Sgd<T> opt(q.parameters(), sgd_options(0.1));
  q.compute_grad();
  opt.zero_grad();
  CHECK(q.g.isZero(0));

  opt.set_lr(0.25);
  CHECK(opt.lr() == 0.25);
  q.compute_grad();
  opt.step();
  CHECK(opt.steps() == 1);
  require_values(q.x, {1 - 0.25 * 0.5, -2 + 0.25 * 4, 0.5 + 0.25 * 5});
}

TEMPLATE_TEST_CASE("Bad options throw", "[optimizer]", float, double) {
  using T = TestType;
  auto q = small_problem<T>();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto sgd = [&](const SgdOptions& o) { Sgd<T>(q.parameters(), o); };
  const auto adam = [&](const AdamOptions& o) { Adam<T>(q.parameters(), o); };
  const auto adamw = [&](const AdamWOptions& o) { AdamW<T>(q.parameters(), o); };

  CHECK_THROWS_AS(sgd(sgd_options(-0.1)), Error);
  CHECK_THROWS_AS(sgd(sgd_options(nan)), Error);
  CHECK_THROWS_AS(sgd(sgd_options(0.1, -0.9)), Error);
  CHECK_THROWS_AS(sgd(sgd_options(0.1, 0.9, 0, -1)), Error);
  CHECK_THROWS_AS(sgd(sgd_options(0.1, 0, 0, 0, true)), Error);      // nesterov without momentum
  CHECK_THROWS_AS(sgd(sgd_options(0.1, 0.9, 0.1, 0, true)), Error);  // nesterov with dampening
  CHECK_NOTHROW(sgd(sgd_options(0.1, 0.9, 0, 0, true)));

  CHECK_THROWS_AS(adam(AdamOptions{-1e-3}), Error);
  CHECK_THROWS_AS(adam(AdamOptions{1e-3, {1.0, 0.999}}), Error);
  CHECK_THROWS_AS(adam(AdamOptions{1e-3, {0.9, -0.1}}), Error);
  CHECK_THROWS_AS(adam(AdamOptions{1e-3, {nan, 0.999}}), Error);
  CHECK_THROWS_AS(adam(AdamOptions{1e-3, {0.9, 0.999}, -1e-8}), Error);
  CHECK_THROWS_AS(adam(AdamOptions{1e-3, {0.9, 0.999}, 1e-8, -0.1}), Error);
  CHECK_THROWS_AS(adamw(AdamWOptions{1e-3, {0.9, 0.999}, 1e-8, -0.1}), Error);

  Sgd<T> opt(q.parameters(), sgd_options(0.1));
  CHECK_THROWS_AS(opt.set_lr(-1), Error);
  CHECK_THROWS_AS(opt.set_lr(nan), Error);
  CHECK(opt.lr() == 0.1);

  // A gradient view that does not match its values.
  std::vector<Parameter<T>> bad{{"w", VectorMap<T>(q.x.data(), 3), VectorMap<T>(q.g.data(), 2), {3}}};
  CHECK_THROWS_AS(Sgd<T>(bad), ShapeError);
}

TEST_CASE("LR schedules: values at chosen epochs", "[schedule]") {
  CHECK(LrSchedule::constant(0.1).lr_at(0) == 0.1);
  CHECK(LrSchedule::constant(0.1).lr_at(1000) == 0.1);

  // StepLR: 0.1 * 0.1^floor(e / 30)
  const auto step = LrSchedule::step(0.1, 30, 0.1);
  CHECK(step.lr_at(0) == 0.1);
  CHECK(step.lr_at(29) == 0.1);
  CHECK(step.lr_at(30) == Approx(0.01));
  CHECK(step.lr_at(59) == Approx(0.01));
  CHECK(step.lr_at(60) == Approx(0.001));

  // Cosine from 0.1 to 0.001 over 100 epochs:
  // e = 25: 0.001 + 0.099 (1 + cos(pi/4)) / 2 = 0.0855017856687341 (python3)
  const auto cosine = LrSchedule::cosine(0.1, 100, 0.001);
  CHECK(cosine.lr_at(0) == Approx(0.1));
  CHECK(cosine.lr_at(25) == Approx(0.0855017856687341));
  CHECK(cosine.lr_at(50) == Approx(0.0505));
  CHECK(cosine.lr_at(100) == 0.001);
  CHECK(cosine.lr_at(150) == 0.001);  // held, not rising again

  // Warm-up over 4 epochs scales by (e + 1) / 5, then leaves the schedule alone.
  const auto warm = LrSchedule::constant(0.1).with_warmup(4);
  CHECK(warm.lr_at(0) == Approx(0.02));
  CHECK(warm.lr_at(3) == Approx(0.08));
  CHECK(warm.lr_at(4) == 0.1);

  // Warm-up composes with the decay, evaluated at the same epoch:
  // e = 2: 0.1 (1 + cos(pi 2/10)) / 2 * 3/4 = 0.06783813728906053 (python3)
  // e = 3: 0.1 (1 + cos(pi 3/10)) / 2       = 0.07938926261462366
  const auto warm_cosine = LrSchedule::cosine(0.1, 10).with_warmup(3);
  CHECK(warm_cosine.lr_at(2) == Approx(0.06783813728906053));
  CHECK(warm_cosine.lr_at(3) == Approx(0.07938926261462366));
  const auto warm_step = LrSchedule::step(0.1, 2, 0.5).with_warmup(1);
  CHECK(warm_step.lr_at(0) == Approx(0.05));
  CHECK(warm_step.lr_at(4) == Approx(0.025));

  // Linear: held at lr through the warm-up, then straight down to eta_min at
  // t_max: 0.1 at e = 2, 0.1 + (0.01 - 0.1) (5 - 2) / (10 - 2) = 0.06625 at e = 5.
  const auto triangle = LrSchedule::linear(0.1, 10, 0.01).with_warmup(2);
  CHECK(triangle.lr_at(0) == Approx(0.1 / 3));
  CHECK(triangle.lr_at(2) == 0.1);
  CHECK(triangle.lr_at(5) == Approx(0.06625));
  CHECK(triangle.lr_at(10) == 0.01);
  CHECK(triangle.lr_at(12) == 0.01);
  CHECK(LrSchedule::linear(0.1, 4).lr_at(1) == Approx(0.075));  // no warm-up: down from epoch 0

  // Per step: the same curves at fractional epochs. 10 steps an epoch: step
  // 5 is epoch 0.5, where the warm-up gives 0.1 * 1.5 / 3 and the triangle,
  // at step 35 (epoch 3.5), 0.1 - 0.09 * 1.5 / 8.
  CHECK(triangle.lr_at(5, 10) == Approx(0.05));
  CHECK(triangle.lr_at(35, 10) == Approx(0.1 - 0.09 * 1.5 / 8));
  CHECK(triangle.lr_at(100, 10) == 0.01);
  CHECK(cosine.lr_at(125, 5) == cosine.lr_at(25));  // whole epochs: the per-epoch values exactly
  CHECK(warm.lr_at(30, 10) == warm.lr_at(3));
  CHECK(step.lr_at(299, 10) == 0.1);                // a step schedule still drops at whole epochs
  CHECK(step.lr_at(300, 10) == Approx(0.01));
  CHECK(cosine.lr_at(1, 2) == Approx(0.001 + 0.099 * (1 + std::cos(3.14159265358979323846 * 0.5 / 100)) / 2));

  CHECK_THROWS_AS(step.lr_at(-1), Error);
  CHECK_THROWS_AS(step.lr_at(-1, 10), Error);
  CHECK_THROWS_AS(step.lr_at(1, 0), Error);
  CHECK_THROWS_AS(LrSchedule::linear(0.1, 0), Error);
  CHECK_THROWS_AS(LrSchedule::linear(0.1, 10, -1), Error);
  CHECK_THROWS_AS(LrSchedule::linear(0.1, 10).with_warmup(10), Error);  // the decay would end before it starts
  CHECK_THROWS_AS(LrSchedule::constant(-0.1), Error);
  CHECK_THROWS_AS(LrSchedule::step(0.1, 0), Error);
  CHECK_THROWS_AS(LrSchedule::step(0.1, 10, 0), Error);
  CHECK_THROWS_AS(LrSchedule::cosine(0.1, 0), Error);
  CHECK_THROWS_AS(LrSchedule::cosine(0.1, 10, -1), Error);
  CHECK_THROWS_AS(LrSchedule::constant(0.1).with_warmup(-1), Error);
}

TEST_CASE("LR schedules: text form", "[schedule]") {
  const std::int64_t epochs = 90;
  CHECK(parse_schedule("constant", 0.1, epochs).spec() == "constant");
  CHECK(parse_schedule("cosine", 0.1, epochs).spec() == "cosine:90:0");
  CHECK(parse_schedule("cosine:50", 0.1, epochs).spec() == "cosine:50:0");
  CHECK(parse_schedule("cosine:50:0.001", 0.1, epochs).spec() == "cosine:50:0.001");
  CHECK(parse_schedule("step:30", 0.1, epochs).spec() == "step:30:0.1");
  CHECK(parse_schedule("step:30:0.5", 0.1, epochs).spec() == "step:30:0.5");
  CHECK(parse_schedule("warmup:5+cosine", 0.1, epochs).spec() == "warmup:5+cosine:90:0");
  CHECK(parse_schedule("warmup:0+constant", 0.1, epochs).spec() == "constant");
  CHECK(parse_schedule("linear", 0.1, epochs).spec() == "linear:90:0");
  CHECK(parse_schedule("warmup:3+linear:12:0.005", 0.1, epochs).spec() == "warmup:3+linear:12:0.005");
  CHECK(parse_schedule("warmup:3+linear", 0.1, 12).lr_at(3) == 0.1);
  // An empty T_MAX before ETA_MIN follows the run's length.
  CHECK(parse_schedule("warmup:3+linear::0.007", 0.1, 12).spec() == "warmup:3+linear:12:0.007");
  CHECK(parse_schedule("cosine::0.01", 0.1, epochs).spec() == "cosine:90:0.01");

  const auto s = parse_schedule("warmup:5+step:30:0.1", 0.1, epochs);
  CHECK(s.lr_at(0) == Approx(0.1 / 6));
  CHECK(s.lr_at(30) == Approx(0.01));
  const auto again = parse_schedule(s.spec(), 0.1, epochs);
  for (std::int64_t e = 0; e < epochs; ++e) CHECK(again.lr_at(e) == s.lr_at(e));

  for (const char* bad : {"", "cos", "constant:1", "step", "step:", "step:0", "step:x", "step:30:", "step:30:0.1:3",
                          "step:30:-0.1", "cosine:0", "cosine:10:-1", "cosine:10:0:1", "warmup:5", "warmup:5+",
                          "warmup:x+cosine", "warmup:-1+cosine", "warmup:2+warmup:3+cosine", "linear:0",
                          "linear:10:-1", "linear:10:0:1", "linear:", "linear::", "cosine:", "warmup:90+linear",
                          "warmup:90+linear::0.01"}) {
    INFO("'" << bad << "'");
    CHECK_THROWS_AS(parse_schedule(bad, 0.1, epochs), Error);
  }
}

TEMPLATE_TEST_CASE("clip_grad_norm", "[clip]", float, double) {
  using T = TestType;
  auto q = small_problem<T>();
  const auto set_grads = [&] { q.g = vec<T>({3, 4, 12}); };  // norm 13
  set_grads();

  SECTION("scales by max_norm / (total + 1e-6) when above max_norm") {
    CHECK(clip_grad_norm(q.parameters(), 6.5) == Approx(13).epsilon(tolerance<T>()));
    // 3, 4, 12 times 6.5 / (13 + 1e-6) (python3)
    require_values(q.g, {1.4999998846153937, 1.9999998461538582, 5.999999538461575});
  }
  SECTION("leaves gradients below max_norm alone") {
    auto params = q.parameters();
    CHECK(clip_grad_norm(params, 20.0) == Approx(13).epsilon(tolerance<T>()));
    CHECK(q.g == vec<T>({3, 4, 12}));
  }
  SECTION("zero gradients stay zero") {
    q.g.setZero();
    CHECK(clip_grad_norm(q.parameters(), 1.0) == 0);
    CHECK(q.g.isZero(0));
  }
  SECTION("a non-finite norm is returned and the gradients left alone") {
    q.g[1] = std::numeric_limits<T>::infinity();
    CHECK(std::isinf(clip_grad_norm(q.parameters(), 1.0)));
    CHECK(q.g[0] == 3);
    q.g[1] = std::numeric_limits<T>::quiet_NaN();
    CHECK(std::isnan(clip_grad_norm(q.parameters(), 1.0)));
    CHECK(q.g[2] == 12);
  }
  SECTION("float gradients whose squares overflow float") {
    q.g = vec<T>({3e20, 4e20, 0});
    CHECK(clip_grad_norm(q.parameters(), 1.0) == Approx(5e20).epsilon(tolerance<T>()));
    CHECK(static_cast<double>(q.g.norm()) == Approx(1).epsilon(1e-5));
  }
  CHECK_THROWS_AS(clip_grad_norm(q.parameters(), -1.0), Error);
}
