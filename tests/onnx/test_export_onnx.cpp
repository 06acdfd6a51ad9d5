// The exporter's graph, metadata and errors, without data or a runtime
// (check_onnx.sh runs the exported models for real).
#include <catch2/catch.hpp>

#include <shallow/shallow.hpp>
#include <shallow/onnx/export_onnx.hpp>

#include <unistd.h>

#include <filesystem>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace shallow;
namespace pb = ::ONNX_NAMESPACE;

// Another layer's computation under a spec of our choosing: specs with keys
// the exporter does not know, or a kind it cannot export.
class Respec : public Layer<float> {
 public:
  Respec(std::unique_ptr<Layer<float>> inner, std::string spec) : inner_(std::move(inner)), spec_(std::move(spec)) {}
  const Tensor4<float>& forward(const Tensor4<float>& x) override { return inner_->forward(x); }
  const Tensor4<float>& backward(const Tensor4<float>& dy) override { return inner_->backward(dy); }
  std::vector<Parameter<float>> parameters() override { return inner_->parameters(); }
  Shape output_shape(const Shape& in) const override { return inner_->output_shape(in); }
  std::string spec() const override { return spec_; }

 private:
  std::unique_ptr<Layer<float>> inner_;
  std::string spec_;
};

// The node that computes `value`.
const pb::NodeProto& node(const pb::ModelProto& m, const std::string& value) {
  for (const auto& n : m.graph().node())
    if (n.output(0) == value) return n;
  FAIL("no node computes " << value);
  throw;
}

const pb::AttributeProto& attribute(const pb::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a;
  FAIL(n.name() << " has no attribute " << name);
  throw;
}

const pb::TensorProto& initializer(const pb::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer())
    if (t.name() == name) return t;
  FAIL("no initializer " << name);
  throw;
}

std::vector<std::int64_t> ints(const pb::AttributeProto& a) { return {a.ints().begin(), a.ints().end()}; }

std::vector<std::string> dims(const pb::ValueInfoProto& v) {
  std::vector<std::string> d;
  for (const auto& dim : v.type().tensor_type().shape().dim())
    d.push_back(dim.has_dim_param() ? dim.dim_param() : std::to_string(dim.dim_value()));
  return d;
}

std::string metadata(const pb::ModelProto& m, const std::string& key) {
  for (const auto& p : m.metadata_props())
    if (p.key() == key) return p.value();
  return "(none)";
}

// conv (even kernel, stride 2, 'same'), relu, parallel residual, flatten, dense.
Network<float> small_network() {
  ResidualOptions ro;
  ro.activation = Activation::leaky_relu;
  Network<float> net;
  net.emplace<Conv2d<float>>(1, 4, 4, 2, same_padding, true);
  net.emplace<ReLU<float>>();
  net.add(make_residual<float>(Layout::parallel, 2, 4, 3, ro));
  net.emplace<Flatten<float>>();
  net.emplace<Dense<float>>(4 * 5 * 5, 3, true);
  return net;
}

}  // namespace

TEST_CASE("the graph: opset, symbolic batch, pads, fused branches, outputs, metadata") {
  Network<float> net = small_network();
  OnnxExportOptions o;
  o.mean = {0.5};
  o.stddev = {0.25};
  o.class_names = {"cat", "dog", "owl"};
  o.probabilities = true;
  o.metadata = {{"trained_on", "nothing"}};
  const pb::ModelProto m = to_onnx(net, {1, 9, 9}, o);

  CHECK(m.ir_version() == 7);
  REQUIRE(m.opset_import_size() == 1);
  CHECK(m.opset_import(0).domain().empty());
  CHECK(m.opset_import(0).version() == 13);
  CHECK(m.producer_name() == "shallow");
  CHECK(m.producer_version() == version);

  REQUIRE(m.graph().input_size() == 1);
  CHECK(m.graph().input(0).name() == "input");
  CHECK(dims(m.graph().input(0)) == std::vector<std::string>{"N", "1", "9", "9"});
  REQUIRE(m.graph().output_size() == 2);
  CHECK(m.graph().output(0).name() == "logits");
  CHECK(dims(m.graph().output(0)) == std::vector<std::string>{"N", "3"});
  CHECK(m.graph().output(1).name() == "probabilities");
  CHECK(node(m, "probabilities").op_type() == "Softmax");

  // Normalisation first, as DataLoader applies it.
  CHECK(m.graph().node(0).op_type() == "Sub");
  CHECK(m.graph().node(1).op_type() == "Div");
  CHECK(initializer(m, "stddev").float_data(0) == 0.25f);

  // 9 -> 5 at stride 2 with kernel 4: 3 padding rows, the extra one at the bottom.
  CHECK(ints(attribute(node(m, "0.conv"), "pads")) == std::vector<std::int64_t>{1, 1, 2, 2});
  CHECK(ints(attribute(node(m, "0.conv"), "strides")) == std::vector<std::int64_t>{2, 2});

  // One convolution for both branches, their weights in branch order.
  const pb::TensorProto& fused = initializer(m, "2.branches.weight");
  CHECK(std::vector<std::int64_t>(fused.dims().begin(), fused.dims().end()) == std::vector<std::int64_t>{8, 4, 3, 3});
  const auto params = net[2].parameters();
  REQUIRE(params[2].name == "branch2.weight");
  CHECK(fused.float_data(4 * 4 * 3 * 3) == params[2].value[0]);
  CHECK(initializer(m, "2.branches.bias").float_data(4) == params[3].value[0]);
  CHECK(attribute(node(m, "2.branches.act"), "alpha").f() == Approx(0.01));
  CHECK(node(m, "2.branches").op_type() == "Reshape");
  CHECK(node(m, "2.branches.sum").op_type() == "ReduceSum");
  CHECK(node(m, "2.add").op_type() == "Add");

  CHECK(node(m, "logits").op_type() == "Gemm");
  CHECK(attribute(node(m, "logits"), "transB").i() == 1);

  CHECK(metadata(m, "class_names") == "cat\ndog\nowl");
  CHECK(metadata(m, "shallow_version") == version);
  CHECK(metadata(m, "architecture") == net.spec());
  CHECK(metadata(m, "input_shape") == "1x9x9");
  CHECK(metadata(m, "mean") == "0.5");
  CHECK(metadata(m, "trained_on") == "nothing");
}

TEST_CASE("a dense layer's output becomes an image again for a convolution") {
  Network<float> net;
  net.emplace<Dense<float>>(12, 6, false);
  net.emplace<Conv2d<float>>(6, 2, 1, 1, 0, true);
  const pb::ModelProto m = to_onnx(net, {3, 2, 2});
  CHECK(node(m, "0.flatten").op_type() == "Flatten");
  CHECK(node(m, "0.gemm").input_size() == 2);  // no bias
  CHECK(node(m, "1.unsqueeze").op_type() == "Unsqueeze");
  CHECK(node(m, "logits").op_type() == "Flatten");
  CHECK(dims(m.graph().output(0)) == std::vector<std::string>{"N", "2"});
}

TEST_CASE("a double network is stored as float32") {
  Network<double> net;
  net.emplace<BatchNorm2d<double>>(2);
  net.emplace<GlobalAvgPool<double>>();
  const pb::ModelProto m = to_onnx(net, {2, 3, 3});
  CHECK(initializer(m, "0.running_var").data_type() == pb::TensorProto::FLOAT);
  CHECK(initializer(m, "0.running_var").float_data(1) == 1.0f);
  CHECK(node(m, "0.batchnorm").op_type() == "BatchNormalization");
}

TEST_CASE("spec keys the exporter does not know are ignored, and negative_slope is read") {
  ResidualOptions ro;
  ro.activation = Activation::leaky_relu;
  auto block = make_residual<float>(Layout::sequential, 2, 3, 3, ro);
  const std::string spec = block->spec() + " algorithm=planes negative_slope=0.2";
  auto conv = std::make_unique<Conv2d<float>>(3, 3, 3, 1, same_padding, true);
  const std::string conv_spec = conv->spec() + " algorithm=im2col";
  Network<float> net;
  net.add(std::make_unique<Respec>(std::move(block), spec));
  net.add(std::make_unique<Respec>(std::move(conv), conv_spec));
  const pb::ModelProto m = to_onnx(net, {3, 4, 4});
  CHECK(attribute(node(m, "0.branch2.act"), "alpha").f() == Approx(0.2));
  CHECK(node(m, "0.branch2.add").input(0) == "0.branch1.add");
  CHECK(node(m, "1.conv").input(0) == "0.branch2.add");
}

TEST_CASE("a network ending in a pass-through still names its output logits") {
  Network<float> net;
  net.emplace<Identity<float>>();
  const pb::ModelProto m = to_onnx(net, {2, 1, 1});
  CHECK(node(m, "logits").op_type() == "Flatten");
  CHECK(m.graph().output(0).name() == "logits");

  Network<float> empty;
  CHECK(node(to_onnx(empty, {1, 1, 1}, {}), "logits").op_type() == "Flatten");
}

TEST_CASE("errors name what is wrong") {
  Network<float> net = small_network();
  const Shape in{1, 9, 9};
  auto fails_with = [&](const OnnxExportOptions& o, const std::string& text) {
    CHECK_THROWS_WITH(to_onnx(net, in, o), Catch::Contains(text));
    CHECK_THROWS_AS(to_onnx(net, in, o), ConfigError);
  };
  OnnxExportOptions o;
  o.mean = {0.1, 0.2};
  fails_with(o, "one value per input channel (1), got 2");
  o = {};
  o.stddev = {0};
  fails_with(o, "stddev 0 is not positive");
  o = {};
  o.class_names = {"a", "b"};
  fails_with(o, "2 class names for a network of 3 outputs");
  o.class_names = {"a", "b\nc", "d"};
  fails_with(o, "holds a newline");
  o = {};
  o.metadata = {{"architecture", "mine"}};
  fails_with(o, "metadata key 'architecture'");

  CHECK_THROWS_AS(to_onnx(net, {3, 9, 9}), ShapeError);

  Network<float> odd;
  odd.emplace<ReLU<float>>();
  odd.add(std::make_unique<Respec>(std::make_unique<Identity<float>>(), "mystery size=3"));
  CHECK_THROWS_AS(to_onnx(odd, {1, 2, 2}), ConfigError);
  CHECK_THROWS_WITH(to_onnx(odd, {1, 2, 2}), Catch::Contains("layer 1 'mystery size=3' has no ONNX form"));
}

TEST_CASE("export_onnx replaces the file whole, or throws IoError naming it") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("shallow-onnx-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "net.onnx").string();
  Network<float> net = small_network();

  export_onnx(net, path, {1, 9, 9});
  export_onnx(net, path, {1, 9, 9});  // over the old file
  pb::ModelProto back;
  const Bytes bytes = read_file(path);
  REQUIRE(back.ParseFromString(std::string(bytes.begin(), bytes.end())));
  CHECK(back.SerializeAsString() == to_onnx(net, {1, 9, 9}).SerializeAsString());
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);  // no temporary left

  const std::string nowhere = (dir / "missing" / "net.onnx").string();
  try {
    export_onnx(net, nowhere, {1, 9, 9});
    FAIL("no IoError");
  } catch (const IoError& e) {
    CHECK(e.path() == nowhere);
  }
  fs::remove_all(dir);
}
