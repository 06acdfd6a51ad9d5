/// \file
/// ONNX export: a trained Network as an ONNX model, for inference in any
/// ONNX runtime. Built with the ONNX project's own protobuf schema (Debian:
/// libonnx-dev, libprotobuf-dev); link the CMake target shallow::onnx
/// (cmake/shallowOnnx.cmake), which also sets the ONNX_ML and ONNX_NAMESPACE
/// definitions that schema was compiled with.
///
///   shallow::OnnxExportOptions o;
///   o.mean = {0.1307};  o.stddev = {0.3081};  o.class_names = data.class_names;
///   shallow::export_onnx(net, "mnist.onnx", {1, 28, 28}, o);
///
/// The model: opset 13 of the default domain, IR version 7 (onnx_opset,
/// onnx_ir_version below), as ONNX 1.8 introduced them: checked with
/// Debian's ONNX 1.12 and with onnxruntime-node 1.30 (tests/onnx).
///   input   "input"          float32 [N, C, H, W], pixels scaled to [0, 1];
///                            the batch dimension is symbolic ("N")
///   output  "logits"         float32 [N, classes]
///   output  "probabilities"  float32 [N, classes], softmax of the logits
///                            (only with options.probabilities)
///   metadata_props           shallow_version, architecture (Network::spec(),
///                            a layer a line), input_shape ("CxHxW"),
///                            class_names (one a line), mean and stddev
///                            (comma-separated) when given, options.metadata
///
/// Normalisation, when mean/stddev are given, is a Sub and a Div at the
/// start, as DataLoader applies it. It is not folded into the first
/// convolution: that convolution zero-pads the NORMALISED image, and a folded
/// one would pad raw pixels with 0, which differs wherever the border is read.
///
/// The graph is the network's inference behaviour, whatever mode it is in:
/// batch normalisation uses its running statistics, dropout is left out.
/// Values are stored as float32 whatever the network's scalar type.
///
/// Each layer is read from its spec() line and its parameters()/buffers()
/// (checked against the shapes the spec implies), walking net[i]:
///   conv2d               Conv, explicit pads ('same': the extra row/column
///                        bottom/right, as Conv2d computes them)
///   sequential_residual  per branch: Conv, BatchNormalization (with
///                        batchnorm=1), activation, Add
///   parallel_residual    one Conv of C -> layers*C channels (the branches'
///                        weights concatenated in order), BatchNormalization
///                        (with batchnorm=1), activation, Reshape
///                        to [N, layers, C, H, W], ReduceSum over the
///                        branches, Add the input
///   relu, tanh, sigmoid, leaky_relu   Relu, Tanh, Sigmoid, LeakyRelu
///   identity, dropout    nothing
///   batchnorm2d          BatchNormalization (running statistics)
///   maxpool2d, avgpool2d MaxPool, AveragePool (count_include_pad=1)
///   global_avgpool       GlobalAveragePool
///   flatten              Flatten (axis 1)
///   dense                Gemm with transB=1, after a Flatten when needed
/// Spec keys not needed for inference are ignored; a residual block's
/// leaky_relu slope is its negative_slope key, else default_negative_slope.
///
/// Errors: a layer without an ONNX form, or options that do not fit the
/// network, throw ConfigError naming the layer spec or the option; an input
/// the network cannot take, or parameters that differ from what a layer's
/// spec implies, ShapeError; a file that cannot be written, IoError.
#pragma once

#if !defined(ONNX_NAMESPACE)
#error "export_onnx.hpp needs ONNX_ML=1 ONNX_NAMESPACE=onnx, as libonnx was built: link the CMake target shallow::onnx"
#endif

#include <onnx/onnx_pb.h>

#include <shallow/shallow.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace shallow {

/// The ONNX operator set the exported graphs use.
inline constexpr std::int64_t onnx_opset = 13;
/// The ONNX IR version of the exported files.
inline constexpr std::int64_t onnx_ir_version = 7;

/// What export_onnx() adds around the network.
struct OnnxExportOptions {
  ///@{
  /// Per channel, of pixels in [0, 1] (as LoaderOptions); empty: 0 and 1.
  std::vector<double> mean, stddev;
  ///@}
  /// Empty, or one name per class, stored in the metadata.
  std::vector<std::string> class_names;  // empty, or one per class
  /// Add a "probabilities" output (the softmax of the logits).
  bool probabilities = false;            // add the "probabilities" output
  /// The model's producer_name field.
  std::string producer_name = "shallow";
  /// Extra metadata_props entries.
  std::map<std::string, std::string> metadata;  // extra metadata_props
};

namespace detail::onnx_export {

namespace pb = ::ONNX_NAMESPACE;

inline std::int64_t i64(Index v) { return static_cast<std::int64_t>(v); }

inline void attr_int(pb::NodeProto& n, const char* name, std::int64_t v) {
  auto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(pb::AttributeProto::INT);
  a.set_i(v);
}
inline void attr_ints(pb::NodeProto& n, const char* name, const std::vector<std::int64_t>& v) {
  auto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(pb::AttributeProto::INTS);
  for (std::int64_t x : v) a.add_ints(x);
}
inline void attr_float(pb::NodeProto& n, const char* name, double v) {
  auto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(pb::AttributeProto::FLOAT);
  a.set_f(static_cast<float>(v));
}

// A float32 value of shape [N, dims...] with N symbolic.
inline void batched_value(pb::ValueInfoProto& v, const std::string& name, const std::vector<std::int64_t>& dims,
                          const char* doc) {
  v.set_name(name);
  v.set_doc_string(doc);
  auto& t = *v.mutable_type()->mutable_tensor_type();
  t.set_elem_type(pb::TensorProto::FLOAT);
  auto& shape = *t.mutable_shape();
  shape.add_dim()->set_dim_param("N");
  for (std::int64_t d : dims) shape.add_dim()->set_dim_value(d);
}

// Padding of a convolution as ONNX wants it, from the geometry Conv2d
// computes ('same': the extra row/column bottom/right).
struct Pads {
  Index top, left, bottom, right;
};
inline Pads conv_pads(const SpecReader& s, Index kernel, Index stride, const Shape& in) {
  const Index padding = s.text("padding") == "same" ? same_padding : s.integer("padding");
  if (padding != same_padding) return {padding, padding, padding, padding};
  const ConvGeometry g = conv_geometry(in.c, 1, kernel, stride, padding, in.h, in.w);
  return {g.pad_top, g.pad_left, std::max<Index>(0, (g.out_h - 1) * stride + kernel - in.h - g.pad_top),
          std::max<Index>(0, (g.out_w - 1) * stride + kernel - in.w - g.pad_left)};
}

// Walks a network's layers, appending nodes to a graph. The current value
// is x_: [N, C, H, W] with sample shape shape_, or [N, features] once flat_
// (after Flatten or Gemm; shallow keeps those as C x 1 x 1).
template <class T>
class Exporter {
 public:
  Exporter(pb::GraphProto& graph, Shape input) : g_(graph), shape_(input) {}

  void normalise(const OnnxExportOptions& o) {
    if (!o.mean.empty()) x_ = node("Sub", {x_, channel_constant("mean", o.mean)}, "normalise.sub").output(0);
    if (!o.stddev.empty()) x_ = node("Div", {x_, channel_constant("stddev", o.stddev)}, "normalise.div").output(0);
  }

  void layer(std::size_t index, Layer<T>& l) {
    const std::string spec = l.spec();
    const SpecReader s(spec);
    const std::string& kind = s.name();
    const Shape out = l.output_shape(shape_);
    at_ = std::to_string(index) + ".";
    spec_ = spec;
    params_ = l.parameters();
    buffers_ = l.buffers();
    if (kind == "conv2d") {
      const Index k = s.integer("kernel"), stride = s.integer("stride");
      image();
      x_ = conv(x_, weight("weight", {s.integer("out"), s.integer("in"), k, k}),
                bias("bias", s.integer("bias") != 0, s.integer("out")), k, stride, conv_pads(s, k, stride, shape_),
                out, "conv");
    } else if (kind == "sequential_residual" || kind == "parallel_residual") {
      image();
      residual(s, kind == "parallel_residual");
    } else if (kind == "identity" || kind == "dropout") {
      // the identity at inference
    } else if (kind == "relu" || kind == "tanh" || kind == "sigmoid" || kind == "leaky_relu") {
      x_ = activation(parse_activation(kind), kind == "leaky_relu" ? s.number("negative_slope") : 0, x_, "act");
    } else if (kind == "batchnorm2d") {
      const Index c = s.integer("channels");
      image();
      const bool scale = s.flag("scale", true);  // else gamma is 1
      const std::string gamma =
          scale ? weight("weight", {c}) : constant("weight", {i64(c)}, std::vector<float>(std::size_t(c), 1.0f));
      x_ = batchnorm(x_, gamma, weight("bias", {c}), buffer("running_mean", c), buffer("running_var", c),
                     s.number("eps"), "batchnorm");
    } else if (kind == "maxpool2d" || kind == "avgpool2d") {
      const Index k = s.integer("kernel"), stride = s.integer("stride"), p = s.integer("padding");
      image();
      const bool max = kind == "maxpool2d";
      auto& n = node(max ? "MaxPool" : "AveragePool", {x_}, max ? "maxpool" : "avgpool");
      attr_ints(n, "kernel_shape", {i64(k), i64(k)});
      attr_ints(n, "strides", {i64(stride), i64(stride)});
      attr_ints(n, "pads", {i64(p), i64(p), i64(p), i64(p)});
      if (!max) attr_int(n, "count_include_pad", 1);
      x_ = n.output(0);
    } else if (kind == "global_avgpool") {
      image();
      x_ = node("GlobalAveragePool", {x_}, "pool").output(0);
    } else if (kind == "flatten") {
      features();
    } else if (kind == "dense") {
      const Index in = s.integer("in"), outs = s.integer("out");
      features();
      std::vector<std::string> inputs{x_, weight("weight", {outs, in})};
      if (s.integer("bias") != 0) inputs.push_back(weight("bias", {outs}));
      auto& n = node("Gemm", inputs, "gemm");
      attr_int(n, "transB", 1);
      x_ = n.output(0);
      flat_ = true;
    } else {
      throw ConfigError("export_onnx: layer " + std::to_string(index) + " '" + spec + "' has no ONNX form");
    }
    shape_ = out;
  }

  // Names the final value "logits" ([N, classes]) and declares the outputs;
  // returns the class count.
  Index finish(bool probabilities) {
    features();  // adds a node at least: the input is [N, C, H, W]
    // Every layer's last node produces the new x_, so x_ is the output of the
    // graph's last node, which nothing reads yet.
    g_.mutable_node(g_.node_size() - 1)->set_output(0, "logits");
    const Index classes = shape_.size();
    batched_value(*g_.add_output(), "logits", {i64(classes)}, "class scores N x classes, before softmax");
    if (probabilities) {
      attr_int(node_named("Softmax", {"logits"}, "probabilities"), "axis", 1);
      batched_value(*g_.add_output(), "probabilities", {i64(classes)}, "softmax of the logits");
    }
    return classes;
  }

 private:
  // h_i = h_{i-1} + act(conv_i(h_{i-1})), or y = x + sum_i act(conv_i(x)),
  // with BN_i(conv_i(...)) for batchnorm=1.
  void residual(const SpecReader& s, bool parallel) {
    const Index n = s.integer("layers"), c = s.integer("channels"), k = s.integer("kernel");
    const bool has_bias = s.integer("bias") != 0, normed = s.flag("batchnorm", false);
    const bool scaled = s.flag("batchnorm_scale", true);  // else gamma is 1
    const std::vector<float> ones(std::size_t(c), 1.0f);
    const Activation act = parse_activation(s.text("activation"));
    const double slope = s.has("negative_slope") ? s.number("negative_slope") : default_negative_slope;
    const Pads pads{(k - 1) / 2, (k - 1) / 2, k / 2, k / 2};  // 'same', stride 1
    if (!parallel) {
      for (Index i = 1; i <= n; ++i) {
        const std::string b = "branch" + std::to_string(i);
        std::string z = conv(x_, weight(b + ".weight", {c, c, k, k}), bias(b + ".bias", has_bias, c), k, 1, pads,
                             shape_, b + ".conv");
        if (normed)
          z = batchnorm(z, scaled ? weight(b + ".bn.weight", {c}) : constant(b + ".bn.weight", {i64(c)}, ones),
                        weight(b + ".bn.bias", {c}), buffer(b + ".bn.running_mean", c), buffer(b + ".bn.running_var", c),
                        branch_batchnorm_eps, b + ".bn");
        const std::string a = activation(act, slope, z, b + ".act");
        x_ = node("Add", {x_, a}, b + ".add").output(0);
      }
      return;
    }
    std::vector<float> w, b, gamma, beta, mean, var;
    for (Index i = 1; i <= n; ++i) {
      const std::string branch = "branch" + std::to_string(i);
      append(w, parameter(branch + ".weight", {c, c, k, k}).value);
      if (has_bias) append(b, parameter(branch + ".bias", {c}).value);
      if (!normed) continue;
      if (scaled)
        append(gamma, parameter(branch + ".bn.weight", {c}).value);
      else
        gamma.insert(gamma.end(), ones.begin(), ones.end());
      append(beta, parameter(branch + ".bn.bias", {c}).value);
      append(mean, buffer_entry(branch + ".bn.running_mean", c).value);
      append(var, buffer_entry(branch + ".bn.running_var", c).value);
    }
    const std::string fused_b = has_bias ? constant("branches.bias", {i64(n * c)}, b) : std::string();
    std::string fused = conv(x_, constant("branches.weight", {i64(n * c), i64(c), i64(k), i64(k)}, w), fused_b, k, 1,
                             pads, {n * c, shape_.h, shape_.w}, "branches.conv");
    if (normed)
      fused = batchnorm(fused, constant("branches.bn.weight", {i64(n * c)}, gamma),
                        constant("branches.bn.bias", {i64(n * c)}, beta),
                        constant("branches.bn.running_mean", {i64(n * c)}, mean),
                        constant("branches.bn.running_var", {i64(n * c)}, var), branch_batchnorm_eps, "branches.bn");
    const std::string a = activation(act, slope, fused, "branches.act");
    // Reshape's 0 copies the (symbolic) batch size.
    const std::string split =
        node("Reshape", {a, ints("branches.shape", {0, i64(n), i64(c), i64(shape_.h), i64(shape_.w)})}, "branches")
            .output(0);
    auto& sum = node("ReduceSum", {split, ints("branches.axis", {1})}, "branches.sum");
    attr_int(sum, "keepdims", 0);
    x_ = node("Add", {x_, sum.output(0)}, "add").output(0);
  }

  // Conv of x with weight [O, C, k, k]; checks that ONNX's output size is the layer's.
  std::string conv(const std::string& x, const std::string& w, const std::string& b, Index k, Index stride,
                   const Pads& p, const Shape& out, const std::string& name) {
    const Index oh = (shape_.h + p.top + p.bottom - k) / stride + 1;
    const Index ow = (shape_.w + p.left + p.right - k) / stride + 1;
    if (oh != out.h || ow != out.w)
      throw ShapeError(where() + ": ONNX Conv would give " + std::to_string(oh) + "x" + std::to_string(ow) +
                       ", the layer " + std::to_string(out.h) + "x" + std::to_string(out.w));
    auto& n = node("Conv", b.empty() ? std::vector<std::string>{x, w} : std::vector<std::string>{x, w, b}, name);
    attr_ints(n, "kernel_shape", {i64(k), i64(k)});
    attr_ints(n, "strides", {i64(stride), i64(stride)});
    attr_ints(n, "pads", {i64(p.top), i64(p.left), i64(p.bottom), i64(p.right)});
    return n.output(0);
  }

  // BatchNormalization of x with the running statistics.
  std::string batchnorm(const std::string& x, const std::string& gamma, const std::string& beta, const std::string& mean,
                        const std::string& var, double eps, const std::string& name) {
    auto& n = node("BatchNormalization", {x, gamma, beta, mean, var}, name);
    attr_float(n, "epsilon", eps);
    return n.output(0);
  }

  std::string activation(Activation a, double slope, const std::string& x, const std::string& name) {
    switch (a) {
      case Activation::identity: return x;
      case Activation::relu: return node("Relu", {x}, name).output(0);
      case Activation::tanh: return node("Tanh", {x}, name).output(0);
      case Activation::sigmoid: return node("Sigmoid", {x}, name).output(0);
      case Activation::leaky_relu: {
        auto& n = node("LeakyRelu", {x}, name);
        attr_float(n, "alpha", slope);
        return n.output(0);
      }
    }
    throw ConfigError(where() + ": activation " + to_string(a) + " has no ONNX form");
  }

  // [N, F] back to [N, F, 1, 1] for a layer that takes images.
  void image() {
    if (!flat_) return;
    x_ = node("Unsqueeze", {x_, ints("unsqueeze.axes", {2, 3})}, "unsqueeze").output(0);
    flat_ = false;
  }
  // [N, C, H, W] as [N, C*H*W], the way Dense and the loss read it.
  void features() {
    if (flat_) return;
    auto& n = node("Flatten", {x_}, "flatten");
    attr_int(n, "axis", 1);
    x_ = n.output(0);
    flat_ = true;
  }

  // The layer's parameter `name` as an initializer, checked against `shape`.
  std::string weight(const std::string& name, const std::vector<Index>& shape) {
    const auto& p = parameter(name, shape);
    std::vector<std::int64_t> dims(shape.begin(), shape.end());
    std::vector<float> v;
    append(v, p.value);
    return constant(name, dims, v);
  }
  std::string bias(const std::string& name, bool present, Index size) {
    return present ? weight(name, {size}) : std::string();
  }
  // The layer's buffer `name` as an initializer, checked against `size`.
  std::string buffer(const std::string& name, Index size) {
    std::vector<float> v;
    append(v, buffer_entry(name, size).value);
    return constant(name, {i64(size)}, v);
  }
  const Buffer<T>& buffer_entry(const std::string& name, Index size) const {
    for (const auto& b : buffers_)
      if (b.name == name) {
        if (b.value.size() != size)
          throw ShapeError(where() + ": buffer " + name + " has " + std::to_string(b.value.size()) +
                           " values, the spec implies " + std::to_string(size));
        return b;
      }
    throw ShapeError(where() + " has no buffer " + name);
  }
  const Parameter<T>& parameter(const std::string& name, const std::vector<Index>& shape) const {
    for (const auto& p : params_)
      if (p.name == name) {
        if (p.shape != shape)
          throw ShapeError(where() + ": parameter " + name + " has shape " + dims_text(p.shape) +
                           ", the spec implies " + dims_text(shape));
        return p;
      }
    throw ShapeError(where() + " has no parameter " + name);
  }
  std::string where() const { return "export_onnx: layer '" + spec_ + "'"; }
  static std::string dims_text(const std::vector<Index>& d) {
    std::string s = "[";
    for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
    return s + "]";
  }
  template <class Values>
  static void append(std::vector<float>& out, const Values& v) {
    for (Index i = 0; i < v.size(); ++i) out.push_back(static_cast<float>(v[i]));
  }

  // [1, C, 1, 1], broadcast over the batch and the image.
  std::string channel_constant(const std::string& name, const std::vector<double>& v) {
    return constant_named(name, {1, i64(shape_.c), 1, 1}, std::vector<float>(v.begin(), v.end()));
  }
  std::string ints(const std::string& name, const std::vector<std::int64_t>& v) {
    auto& t = *g_.add_initializer();
    t.set_name(at_ + name);
    t.set_data_type(pb::TensorProto::INT64);
    t.add_dims(i64(Index(v.size())));
    for (std::int64_t x : v) t.add_int64_data(x);
    return t.name();
  }
  // Initializers and nodes are named after the layer's position, as
  // Network::parameters() names parameters ("2.branch1.weight").
  std::string constant(const std::string& name, const std::vector<std::int64_t>& dims, const std::vector<float>& v) {
    return constant_named(at_ + name, dims, v);
  }
  std::string constant_named(const std::string& name, const std::vector<std::int64_t>& dims,
                             const std::vector<float>& v) {
    auto& t = *g_.add_initializer();
    t.set_name(name);
    t.set_data_type(pb::TensorProto::FLOAT);
    for (std::int64_t d : dims) t.add_dims(d);
    t.mutable_float_data()->Add(v.begin(), v.end());
    return name;
  }
  pb::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs, const std::string& name) {
    return node_named(op, inputs, at_ + name);
  }
  pb::NodeProto& node_named(const std::string& op, const std::vector<std::string>& inputs, const std::string& name) {
    auto& n = *g_.add_node();
    n.set_op_type(op);
    n.set_name(name);
    for (const auto& in : inputs) n.add_input(in);
    n.add_output(name);
    return n;
  }

  pb::GraphProto& g_;
  Shape shape_;
  std::string x_ = "input";
  bool flat_ = false;
  std::string at_, spec_;  // the current layer's name prefix and spec
  std::vector<Parameter<T>> params_;
  std::vector<Buffer<T>> buffers_;
};

inline std::string joined(const std::vector<std::string>& v, const char* separator) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? separator : "") + v[i];
  return s;
}
inline std::string joined(const std::vector<double>& v, const char* separator) {
  std::vector<std::string> texts;
  for (double x : v) texts.push_back(format_number(x));
  return joined(texts, separator);
}

inline void check_options(const OnnxExportOptions& o, const Shape& input) {
  for (const auto* v : {&o.mean, &o.stddev})
    if (!v->empty() && Index(v->size()) != input.c)
      throw ConfigError("export_onnx: mean and stddev need one value per input channel (" +
                        std::to_string(input.c) + "), got " + std::to_string(v->size()));
  for (double m : o.mean)
    if (!std::isfinite(m)) throw ConfigError("export_onnx: mean " + format_number(m) + " is not finite");
  for (double s : o.stddev)
    if (!(std::isfinite(s) && s > 0)) throw ConfigError("export_onnx: stddev " + format_number(s) + " is not positive");
  for (const auto& name : o.class_names)
    if (name.find('\n') != std::string::npos)
      throw ConfigError("export_onnx: class name '" + name + "' holds a newline; class_names is stored one a line");
  // ONNX's checker refuses a model whose metadata repeats a key.
  for (const char* key : {"shallow_version", "architecture", "input_shape", "class_names", "mean", "stddev"})
    if (o.metadata.count(key))
      throw ConfigError(std::string("export_onnx: metadata key '") + key + "' is set by the exporter itself");
}

inline void add_metadata(pb::ModelProto& m, const std::string& key, const std::string& value) {
  auto& p = *m.add_metadata_props();
  p.set_key(key);
  p.set_value(value);
}

}  // namespace detail::onnx_export

/// The ONNX model of net for input samples of shape `input` (see the top of
/// this file). net is not changed; it is non-const because parameters() is.
template <class T>
::ONNX_NAMESPACE::ModelProto to_onnx(Network<T>& net, Shape input, const OnnxExportOptions& o = {}) {
  namespace ox = detail::onnx_export;
  ox::check_options(o, input);

  ::ONNX_NAMESPACE::ModelProto model;
  model.set_ir_version(onnx_ir_version);
  auto& opset = *model.add_opset_import();
  opset.set_domain("");
  opset.set_version(onnx_opset);
  model.set_producer_name(o.producer_name);
  model.set_producer_version(version);

  auto& graph = *model.mutable_graph();
  graph.set_name("shallow");
  ox::batched_value(*graph.add_input(), "input", {ox::i64(input.c), ox::i64(input.h), ox::i64(input.w)},
                    "images N x C x H x W, pixels scaled to [0, 1]");
  ox::Exporter<T> exporter(graph, input);
  exporter.normalise(o);
  for (std::size_t i = 0; i < net.size(); ++i) exporter.layer(i, net[i]);
  const Index classes = exporter.finish(o.probabilities);

  if (!o.class_names.empty() && Index(o.class_names.size()) != classes)
    throw ConfigError("export_onnx: " + std::to_string(o.class_names.size()) + " class names for a network of " +
                      std::to_string(classes) + " outputs");
  ox::add_metadata(model, "shallow_version", version);
  ox::add_metadata(model, "architecture", net.spec());
  ox::add_metadata(model, "input_shape", to_string(input));
  if (!o.class_names.empty()) ox::add_metadata(model, "class_names", ox::joined(o.class_names, "\n"));
  if (!o.mean.empty()) ox::add_metadata(model, "mean", ox::joined(o.mean, ","));
  if (!o.stddev.empty()) ox::add_metadata(model, "stddev", ox::joined(o.stddev, ","));
  for (const auto& [key, value] : o.metadata) ox::add_metadata(model, key, value);
  return model;
}

/// Writes to_onnx(net, input, o) to path atomically (a temporary file beside
/// it, synced, renamed over path).
template <class T>
void export_onnx(Network<T>& net, const std::string& path, Shape input, const OnnxExportOptions& o = {}) {
  const ::ONNX_NAMESPACE::ModelProto model = to_onnx(net, input, o);
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw IoError(path, "cannot serialise the ONNX model");
  write_file_atomically(path, bytes);
}

}  // namespace shallow
