/// \file
/// Network<T>: a run-time list of type-erased layers in a chain, built in
/// code or from spec lines (make_network, layer_factory.hpp). It is a Layer
/// itself: forward runs the chain, backward runs it in reverse, parameters()
/// lists every layer's parameters in order, prefixed with the layer's
/// position ("2.branch1.weight"). Stack (stack.hpp) is the compile-time
/// counterpart.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "layer.hpp"

namespace shallow {

namespace detail {
template <class T>
void append_prefixed(std::vector<Parameter<T>>& out, std::vector<Parameter<T>> ps, std::size_t index) {
  for (auto& p : ps) {
    p.name = std::to_string(index) + "." + p.name;
    out.push_back(std::move(p));
  }
}
template <class T>
void append_prefixed(std::vector<Buffer<T>>& out, std::vector<Buffer<T>> bs, std::size_t index) {
  for (auto& b : bs) {
    b.name = std::to_string(index) + "." + b.name;
    out.push_back(std::move(b));
  }
}
}  // namespace detail

/// A run-time chain of type-erased layers, itself a Layer (the contract in this file's comment).
template <class T = float>
class Network : public Layer<T> {
 public:
  Network() = default;
  /// A network whose layers draw their initial weights from one generator
  /// seeded with `seed`, each as it is added, so every layer gets its own
  /// draws (layers built alone all start from default_seed).
  explicit Network(std::uint64_t seed) : rng_(std::make_unique<Rng>(seed)) {}
  /// Moves the layers; the source is left empty.
  Network(Network&&) noexcept = default;
  /// Moves the layers; the source is left empty.
  Network& operator=(Network&&) noexcept = default;

  /// Appends layer (not null, else ConfigError) in this network's mode, drawing its initial weights when seeded; returns *this.
  Network& add(std::unique_ptr<Layer<T>> layer) {
    SHALLOW_CHECK(layer != nullptr, ConfigError, "Network::add: null layer");
    layer->train(this->training());
    if (rng_) layer->reset_parameters(*rng_);
    layers_.push_back(std::move(layer));
    return *this;
  }
  /// Constructs an L from args, add()s it and returns it.
  template <class L, class... Args>
  L& emplace(Args&&... args) {
    auto layer = std::make_unique<L>(std::forward<Args>(args)...);
    L& ref = *layer;
    add(std::move(layer));
    return ref;
  }

  /// Runs the layers in order on x; the last layer's output.
  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    const Tensor4<T>* h = &x;
    for (auto& l : layers_) h = &l->forward(*h);
    return *h;
  }
  /// Runs the layers' backward in reverse order on dy; the first layer's input gradient.
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    const Tensor4<T>* g = &dy;
    for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) g = &(*it)->backward(*g);
    return *g;
  }

  std::vector<Parameter<T>> parameters() override {
    std::vector<Parameter<T>> ps;
    for (std::size_t i = 0; i < layers_.size(); ++i) detail::append_prefixed(ps, layers_[i]->parameters(), i);
    return ps;
  }
  std::vector<Buffer<T>> buffers() override {
    std::vector<Buffer<T>> bs;
    for (std::size_t i = 0; i < layers_.size(); ++i) detail::append_prefixed(bs, layers_[i]->buffers(), i);
    return bs;
  }

  void train(bool on = true) override {
    Layer<T>::train(on);
    for (auto& l : layers_) l->train(on);
  }
  void reset_parameters(Rng& rng) override {
    for (auto& l : layers_) l->reset_parameters(rng);
  }

  Shape output_shape(const Shape& in) const override {
    Shape s = in;
    for (const auto& l : layers_) s = l->output_shape(s);
    return s;
  }

  double macs(const Shape& in) const override {
    double total = 0;
    Shape s = in;
    for (const auto& l : layers_) {
      total += l->macs(s);
      s = l->output_shape(s);
    }
    return total;
  }

  double memory_values(const Shape& in) const override {
    double total = 0;
    Shape s = in;
    for (const auto& l : layers_) {
      total += l->memory_values(s);
      s = l->output_shape(s);
    }
    return total;
  }

  /// One layer spec per line; make_network (layer_factory.hpp) reads it back.
  std::string spec() const override {
    std::string s;
    for (const auto& l : layers_) s += l->spec() + "\n";
    return s;
  }

  /// The number of layers.
  std::size_t size() const { return layers_.size(); }
  /// Layer i; std::out_of_range past the end.
  Layer<T>& operator[](std::size_t i) { return *layers_.at(i); }
  /// Layer i; std::out_of_range past the end.
  const Layer<T>& operator[](std::size_t i) const { return *layers_.at(i); }

 private:
  std::vector<std::unique_ptr<Layer<T>>> layers_;
  std::unique_ptr<Rng> rng_;  // set by the seeded constructor
};

}  // namespace shallow
