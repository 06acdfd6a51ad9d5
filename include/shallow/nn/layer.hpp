/// \file
/// The contract every layer keeps, so layers compose at compile time (a tuple)
/// and at run time (a list built from flags) alike.
///
///   forward(x)   reads a batch x (N x C x H x W), caches what backward needs
///                (a copy of x, or of the output, or argmax indices; each layer
///                says which), and returns its output. The output lives in a
///                buffer the layer owns: it stays valid until the next forward
///                call, and the buffer is reused, so a steady stream of batches
///                of one size allocates nothing.
///   backward(dy) requires that forward ran last on the batch that dy belongs
///                to; returns dL/dx (a buffer the layer owns, valid until the
///                next backward) and ADDS dL/dparameter into each parameter's
///                grad. Call zero_grad between steps.
///   parameters() flat views of each trainable tensor and its gradient.
///   buffers()    non-trainable state that belongs in a checkpoint.
///   train(bool)  training or inference behaviour (BatchNorm, Dropout).
///   reset_parameters(rng)  re-initialises the parameters from rng.
///   macs(shape)  multiply-adds of one sample's forward pass (a cost model);
///                memory_values(shape) the values it holds per sample.
///   spec()       one line naming the layer and its configuration; the
///                layer's static from_spec(SpecReader) builds it back, and
///                the table in layer_factory.hpp maps the name to it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../core/random.hpp"
#include "../core/tensor.hpp"

namespace shallow {

/// The interface every layer implements: the contract in this file's comment.
template <class T>
class Layer {
 public:
  /// The scalar type of values and gradients.
  using Scalar = T;
  virtual ~Layer() = default;

  /// Output for batch x (N x C x H x W), in a buffer the layer owns until the next forward; caches what backward needs.
  virtual const Tensor4<T>& forward(const Tensor4<T>& x) = 0;
  /// dL/dx for dL/dy of the last forward, in a buffer the layer owns; ADDS into each parameter's gradient.
  virtual const Tensor4<T>& backward(const Tensor4<T>& dy) = 0;

  /// Flat views of each trainable tensor and its gradient.
  virtual std::vector<Parameter<T>> parameters() { return {}; }
  /// Non-trainable state that belongs in a checkpoint (BatchNorm's running statistics).
  virtual std::vector<Buffer<T>> buffers() { return {}; }

  /// The shape of one output sample for one input sample; throws ShapeError
  /// when the layer cannot take that input.
  virtual Shape output_shape(const Shape& in) const = 0;

  /// Multiply-adds of one sample's forward pass, as a direct computation does
  /// them (elementwise work counts nothing): a cost model for scheduling and
  /// throughput figures. The backward pass costs about twice as much.
  virtual double macs(const Shape& in) const {
    (void)in;
    return 0;
  }
  /// Values the layer keeps per sample while training on samples of shape
  /// in: its output, the gradient it returns and its caches (about one
  /// output's worth unless it says otherwise). A bound for memory checks.
  virtual double memory_values(const Shape& in) const { return double(in.size()) + 2.0 * double(output_shape(in).size()); }

  /// One line that names the layer and its configuration, e.g.
  /// "conv2d in=1 out=16 kernel=3 stride=1 padding=same bias=1" (SpecWriter,
  /// spec.hpp). Checkpoints store it and compare it on load.
  virtual std::string spec() const = 0;

  /// Draws fresh initial parameters from rng (no-op for layers without any),
  /// so one seed fixes a whole model.
  virtual void reset_parameters(Rng& rng) { (void)rng; }

  /// Training (on) or inference behaviour, for BatchNorm and Dropout.
  virtual void train(bool on = true) { training_ = on; }
  /// Inference behaviour: train(false).
  void eval() { train(false); }
  /// Whether the layer is in training mode (the default).
  bool training() const { return training_; }

  /// Zeroes every parameter's gradient; call it between steps.
  void zero_grad() {
    for (auto& p : parameters()) p.grad.setZero();
  }

 protected:
  /// For backward: dy must have the shape of the output forward returned.
  /// (Checked without building a message unless it fails: this runs every step.)
  void check_gradient(const Tensor4<T>& dy, const Tensor4<T>& y) const {
    if (dy.dimensions() != y.dimensions()) throw ShapeError(spec() + ": gradient shape differs from the last output");
  }

  Layer() = default;
  /// Copyable by derived layers only.
  Layer(const Layer&) = default;
  /// Copyable by derived layers only.
  Layer& operator=(const Layer&) = default;
  /// Training mode; set by train().
  bool training_ = true;
};

/// The number of trainable values in layer.
template <class L>
Index parameter_count(L& layer) {
  Index n = 0;
  for (const auto& p : layer.parameters()) n += p.value.size();
  return n;
}

/// Bytes a training step of `layer` on batches of `batch` samples of shape
/// `in` needs, roughly: activations, caches and gradients, and the
/// parameters with their gradients and two optimizer slots.
template <class L>
double training_bytes(L& layer, const Shape& in, Index batch) {
  return double(sizeof(typename L::Scalar)) *
         (double(batch) * layer.memory_values(in) + 4.0 * double(parameter_count(layer)));
}

/// Copies parameter values (and buffers) from one model to another with the
/// same parameter list, e.g. a SequentialResidual into a ParallelResidual:
/// same weights, other wiring.
template <class From, class To>
void copy_parameters(From& from, To& to) {
  auto src = from.parameters();
  auto dst = to.parameters();
  if (src.size() != dst.size())
    throw ShapeError("copy_parameters: source has " + std::to_string(src.size()) +
                     " parameters, destination " + std::to_string(dst.size()));
  for (std::size_t i = 0; i < src.size(); ++i) {
    if (src[i].shape != dst[i].shape)
      throw ShapeError("copy_parameters: parameter " + std::to_string(i) + " (" + src[i].name +
                       " -> " + dst[i].name + ") differs in shape");
    dst[i].value = src[i].value.template cast<typename decltype(dst[i].value)::Scalar>();
  }
  auto src_buf = from.buffers();
  auto dst_buf = to.buffers();
  if (src_buf.size() != dst_buf.size())
    throw ShapeError("copy_parameters: source has " + std::to_string(src_buf.size()) +
                     " buffers, destination " + std::to_string(dst_buf.size()));
  for (std::size_t i = 0; i < src_buf.size(); ++i) {
    if (src_buf[i].value.size() != dst_buf[i].value.size())
      throw ShapeError("copy_parameters: buffer " + src_buf[i].name + " differs in size");
    dst_buf[i].value = src_buf[i].value.template cast<typename decltype(dst_buf[i].value)::Scalar>();
  }
}

}  // namespace shallow
