// Finite-difference gradient checks, in double. The scalar under test is
// L(x, params) = sum(w * layer(x)) for a fixed random w, so dL/dy = w; the
// layer's backward(w) must match central differences of L.
#pragma once

#include <catch2/catch.hpp>

#include <shallow/shallow.hpp>

#include <functional>
#include <string>

namespace gradcheck {

using shallow::Index;
using Tensor = shallow::Tensor4<double>;

inline Tensor random_tensor(Index n, Index c, Index h, Index w, std::uint64_t seed, double scale = 1.0) {
  Tensor t(n, c, h, w);
  shallow::Rng rng(seed);
  for (Index i = 0; i < t.size(); ++i) t.data()[i] = rng.uniform(-scale, scale);
  return t;
}

// Relative error of two gradient vectors, as a whole: |a - b| / max(|a|, |b|).
inline double relative_error(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const double scale = std::max({a.norm(), b.norm(), 1e-12});
  return (a - b).norm() / scale;
}

struct Options {
  double step = 1e-6;
  double tolerance = 1e-6;
  // Called before every forward pass (e.g. to reseed Dropout's mask).
  std::function<void()> before_forward = [] {};
};

// Checks dL/dx and dL/dparameter of `layer` at x.
template <class L>
void check_layer(L& layer, const Tensor& x, const Options& opt = {}) {
  opt.before_forward();
  const Tensor y0 = layer.forward(x);
  const Tensor w = random_tensor(y0.dimension(0), y0.dimension(1), y0.dimension(2), y0.dimension(3), 991);
  const auto wv = shallow::as_vector(w);
  auto loss = [&](const Tensor& input) {
    opt.before_forward();
    return shallow::as_vector(layer.forward(input)).dot(wv);
  };

  layer.zero_grad();
  opt.before_forward();
  layer.forward(x);
  const Eigen::VectorXd dx = shallow::as_vector(layer.backward(w));
  std::vector<Eigen::VectorXd> analytic;
  for (auto& p : layer.parameters()) analytic.push_back(p.grad);

  Tensor xp = x;
  Eigen::VectorXd numeric_dx(x.size());
  for (Index i = 0; i < x.size(); ++i) {
    const double keep = xp.data()[i];
    xp.data()[i] = keep + opt.step;
    const double up = loss(xp);
    xp.data()[i] = keep - opt.step;
    const double down = loss(xp);
    xp.data()[i] = keep;
    numeric_dx[i] = (up - down) / (2 * opt.step);
  }
  INFO("layer: " << layer.spec());
  INFO("dL/dx relative error");
  CHECK(relative_error(dx, numeric_dx) < opt.tolerance);

  auto params = layer.parameters();
  for (std::size_t k = 0; k < params.size(); ++k) {
    auto& p = params[k];
    Eigen::VectorXd numeric(p.value.size());
    for (Index i = 0; i < p.value.size(); ++i) {
      const double keep = p.value[i];
      p.value[i] = keep + opt.step;
      const double up = loss(x);
      p.value[i] = keep - opt.step;
      const double down = loss(x);
      p.value[i] = keep;
      numeric[i] = (up - down) / (2 * opt.step);
    }
    INFO("parameter " << p.name);
    CHECK(relative_error(analytic[k], numeric) < opt.tolerance);
  }
}

// d loss(x, target) / dx by central differences, for a loss whose
// forward(x, target) returns the scalar (SoftmaxCrossEntropy, MSELoss).
template <class Loss, class Target>
Eigen::VectorXd numeric_loss_gradient(Loss& loss, Tensor x, const Target& target) {
  const double h = 1e-6;
  Eigen::VectorXd numeric(x.size());
  for (Index i = 0; i < x.size(); ++i) {
    const double keep = x.data()[i];
    x.data()[i] = keep + h;
    const double up = loss.forward(x, target);
    x.data()[i] = keep - h;
    const double down = loss.forward(x, target);
    x.data()[i] = keep;
    numeric[i] = (up - down) / (2 * h);
  }
  return numeric;
}

}  // namespace gradcheck
