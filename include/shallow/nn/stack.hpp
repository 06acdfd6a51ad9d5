/// \file
/// Stack<T, Layers...>: layers fixed at compile time, a tuple of concrete
/// layers in a chain (Stack<float, Conv2d<float>, ReLU<float>, ...>). Same
/// contract and parameter naming as Network.
#pragma once

#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "network.hpp"

namespace shallow {

/// Layers fixed at compile time: Stack<float, Conv2d<float>, ReLU<float>, ...>.
template <class T, class... Layers>
class Stack : public Layer<T> {
 public:
  /// The layers, moved in, in chain order.
  explicit Stack(Layers... layers) : layers_(std::move(layers)...) {}

  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    const Tensor4<T>* h = &x;
    std::apply([&](auto&... l) { ((h = &l.forward(*h)), ...); }, layers_);
    return *h;
  }
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    const Tensor4<T>* g = &dy;
    backward_from<sizeof...(Layers)>(g);
    return *g;
  }

  std::vector<Parameter<T>> parameters() override {
    std::vector<Parameter<T>> ps;
    for_each_indexed([&](auto& l, std::size_t i) { detail::append_prefixed(ps, l.parameters(), i); });
    return ps;
  }
  std::vector<Buffer<T>> buffers() override {
    std::vector<Buffer<T>> bs;
    for_each_indexed([&](auto& l, std::size_t i) { detail::append_prefixed(bs, l.buffers(), i); });
    return bs;
  }
  void train(bool on = true) override {
    Layer<T>::train(on);
    std::apply([&](auto&... l) { (l.train(on), ...); }, layers_);
  }
  void reset_parameters(Rng& rng) override {
    std::apply([&](auto&... l) { (l.reset_parameters(rng), ...); }, layers_);
  }
  Shape output_shape(const Shape& in) const override {
    Shape s = in;
    std::apply([&](const auto&... l) { ((s = l.output_shape(s)), ...); }, layers_);
    return s;
  }
  double macs(const Shape& in) const override {
    double total = 0;
    Shape s = in;
    std::apply([&](const auto&... l) { ((total += l.macs(s), s = l.output_shape(s)), ...); }, layers_);
    return total;
  }
  double memory_values(const Shape& in) const override {
    double total = 0;
    Shape s = in;
    std::apply([&](const auto&... l) { ((total += l.memory_values(s), s = l.output_shape(s)), ...); }, layers_);
    return total;
  }
  std::string spec() const override {
    std::string s;
    std::apply([&](const auto&... l) { ((s += l.spec() + "\n"), ...); }, layers_);
    return s;
  }

  /// Layer I of the chain.
  template <std::size_t I>
  auto& get() { return std::get<I>(layers_); }

 private:
  template <std::size_t I>
  void backward_from(const Tensor4<T>*& g) {
    if constexpr (I > 0) {
      g = &std::get<I - 1>(layers_).backward(*g);
      backward_from<I - 1>(g);
    }
  }
  template <class F>
  void for_each_indexed(F&& f) {
    std::size_t i = 0;
    std::apply([&](auto&... l) { (f(l, i++), ...); }, layers_);
  }

  std::tuple<Layers...> layers_;
};

}  // namespace shallow
