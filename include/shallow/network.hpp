// Networks: layers in a chain, composed two ways with one contract.
//
//   Network<T>            a run-time list of type-erased layers, built in code
//                         or from spec lines (flags, checkpoints);
//   Stack<T, Layers...>   a compile-time tuple of concrete layers.
//
// Both are Layers themselves: forward runs the chain, backward runs it in
// reverse, parameters() lists every layer's parameters in order, prefixed
// with the layer's position ("2.branch1.weight").
#pragma once

#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "activation.hpp"
#include "batchnorm.hpp"
#include "conv2d.hpp"
#include "dense.hpp"
#include "dropout.hpp"
#include "flatten.hpp"
#include "layer.hpp"
#include "pooling.hpp"
#include "residual.hpp"
#include "spec.hpp"

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

template <class T = float>
class Network : public Layer<T> {
 public:
  Network() = default;
  Network(Network&&) noexcept = default;
  Network& operator=(Network&&) noexcept = default;

  Network& add(std::unique_ptr<Layer<T>> layer) {
    require(layer != nullptr, "Network::add: null layer");
    layer->train(this->training());
    layers_.push_back(std::move(layer));
    return *this;
  }
  template <class L, class... Args>
  L& emplace(Args&&... args) {
    auto layer = std::make_unique<L>(std::forward<Args>(args)...);
    L& ref = *layer;
    add(std::move(layer));
    return ref;
  }

  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    const Tensor4<T>* h = &x;
    for (auto& l : layers_) h = &l->forward(*h);
    return *h;
  }
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

  // One layer spec per line; Network::from_specs reads it back.
  std::string spec() const override {
    std::string s;
    for (const auto& l : layers_) s += l->spec() + "\n";
    return s;
  }

  std::size_t size() const { return layers_.size(); }
  Layer<T>& operator[](std::size_t i) { return *layers_.at(i); }
  const Layer<T>& operator[](std::size_t i) const { return *layers_.at(i); }

  static Network from_specs(const std::string& lines);

 private:
  std::vector<std::unique_ptr<Layer<T>>> layers_;
};

// Builds one layer from its spec line (the inverse of Layer::spec()).
template <class T = float>
std::unique_ptr<Layer<T>> make_layer(const std::string& line) {
  const SpecReader s(line);
  const std::string& name = s.name();
  auto bias = [&] { return s.integer("bias") != 0; };
  auto padding = [&]() -> Index { return s.text("padding") == "same" ? same_padding : s.integer("padding"); };
  if (name == "conv2d")
    return std::make_unique<Conv2d<T>>(s.integer("in"), s.integer("out"), s.integer("kernel"), s.integer("stride"),
                                       padding(), bias());
  if (name == "sequential_residual" || name == "parallel_residual") {
    ResidualOptions o;
    o.activation = parse_activation(s.text("activation"));
    o.bias = bias();
    return make_residual<T>(name == "sequential_residual" ? Layout::sequential : Layout::parallel,
                            s.integer("layers"), s.integer("channels"), s.integer("kernel"), o);
  }
  if (name == "dense") return std::make_unique<Dense<T>>(s.integer("in"), s.integer("out"), bias());
  if (name == "maxpool2d")
    return std::make_unique<MaxPool2d<T>>(s.integer("kernel"), s.integer("stride"), s.integer("padding"));
  if (name == "avgpool2d")
    return std::make_unique<AvgPool2d<T>>(s.integer("kernel"), s.integer("stride"), s.integer("padding"));
  if (name == "global_avgpool") return std::make_unique<GlobalAvgPool<T>>();
  if (name == "flatten") return std::make_unique<Flatten<T>>();
  if (name == "batchnorm2d")
    return std::make_unique<BatchNorm2d<T>>(s.integer("channels"), s.number("eps"), s.number("momentum"));
  if (name == "dropout") return std::make_unique<Dropout<T>>(s.number("p"));
  if (name == "leaky_relu") return std::make_unique<LeakyReLU<T>>(s.number("negative_slope"));
  if (name == "identity" || name == "relu" || name == "tanh" || name == "sigmoid")
    return std::make_unique<ActivationLayer<T>>(parse_activation(name));
  throw Error("unknown layer '" + name + "' in spec '" + line + "'");
}

template <class T>
Network<T> Network<T>::from_specs(const std::string& lines) {
  Network<T> net;
  std::istringstream in(lines);
  std::string line;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) net.add(make_layer<T>(line));
  return net;
}

// Layers fixed at compile time: Stack<float, Conv2d<float>, ReLU<float>, ...>.
template <class T, class... Layers>
class Stack : public Layer<T> {
 public:
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
  std::string spec() const override {
    std::string s;
    std::apply([&](const auto&... l) { ((s += l.spec() + "\n"), ...); }, layers_);
    return s;
  }

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
