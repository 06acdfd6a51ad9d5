// The C++ half of the ONNX export check (check_onnx.sh): trains networks that
// together hold every layer kind shallow builds, exports each, and writes
// real test images with shallow's own logits for them, for check_onnx.py
// (the ONNX checker) and run_onnxruntime.js (onnxruntime) to compare.
//
//   onnx_models DATA_DIR OUT_DIR     (DATA_DIR holds mnist/ and cifar10/)
//
// OUT_DIR receives, per dataset, <dataset>.input.f32 (the first 200 test
// images as float32 pixels in [0, 1], N x C x H x W), per model <name>.onnx
// and <name>.logits.f32 (N x classes, from the network in eval mode on the
// same images, normalised by DataLoader), and manifest.json describing them.
#include <shallow/shallow.hpp>
#include <shallow/onnx/export_onnx.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace shallow;

constexpr Index test_images = 200;
constexpr int train_steps = 300;  // enough to separate the top logits, so top-1 is no tie
constexpr Index batch_size = 32;

struct Model {
  std::string name, dataset;
  Network<float> net;
  bool probabilities = false;
};

// The classifier the tools build (models/classifier), in three configurations.
Network<float> classifier(Shape input, Layout layout, Index layers, Index filters, Activation act, Index pool,
                          Index stages) {
  ModelConfig c;
  c.input = input;
  c.layout = layout;
  c.layers = layers;
  c.filters = filters;
  c.activation = act;
  c.pool = pool;
  c.stages = stages;
  return build_model<float>(c);
}

// Layers and geometries build_model leaves out: even kernels with 'same'
// padding (extra row/column bottom/right), stride-2 convolutions both
// padded explicitly and 'same', padded max and average pooling, dense
// without bias, stand-alone activations, dropout, images again after a
// dense layer, batch norm without a trained scale, and residual branches
// with batch norm (both layouts; the parallel one without a trained scale).
Network<float> hand_built() {
  ResidualOptions sigmoid_branches, linear_branches, normed_branches;
  sigmoid_branches.activation = Activation::sigmoid;
  normed_branches.batchnorm = true;
  linear_branches.activation = Activation::identity;
  linear_branches.bias = false;
  linear_branches.batchnorm = true;
  linear_branches.batchnorm_scale = false;
  Network<float> net;
  net.emplace<Conv2d<float>>(3, 8, 4, 1, same_padding, true);  // 32x32
  net.emplace<BatchNorm2d<float>>(8);
  net.emplace<LeakyReLU<float>>(0.2);
  net.emplace<Conv2d<float>>(8, 12, 3, 2, 1, false);  // 16x16
  net.emplace<BatchNorm2d<float>>(12, 1e-12, 0.4, false);  // no trained scale
  net.emplace<Sigmoid<float>>();
  net.add(make_residual<float>(Layout::sequential, 2, 12, 2, sigmoid_branches));
  net.add(make_residual<float>(Layout::sequential, 2, 12, 3, normed_branches));
  net.emplace<Conv2d<float>>(12, 12, 3, 2, same_padding, true);  // 8x8, padded bottom/right only
  net.emplace<MaxPool2d<float>>(3, 2, 1);                        // 4x4
  net.add(make_residual<float>(Layout::parallel, 2, 12, 4, linear_branches));
  net.emplace<AvgPool2d<float>>(2, 2, 1);  // 3x3, padding counted
  net.emplace<Dropout<float>>(0.25);
  net.emplace<Flatten<float>>();
  net.emplace<Dense<float>>(12 * 3 * 3, 32, false);
  net.emplace<ReLU<float>>();
  net.emplace<Identity<float>>();
  net.emplace<Conv2d<float>>(32, 16, 1, 1, 0, true);  // on 32x1x1: ONNX needs the image back
  net.emplace<Tanh<float>>();
  net.emplace<GlobalAvgPool<float>>();
  net.emplace<Dense<float>>(16, 10, true);
  Rng rng(7);
  net.reset_parameters(rng);
  return net;
}

void train(Network<float>& net, const Dataset& data, const Normalize& normalize) {
  LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.shuffle = true;
  lo.drop_last = true;
  lo.normalize = normalize;
  DataLoader<float> loader(data, lo);
  Adam<float> adam(net.parameters(), {3e-3});
  SoftmaxCrossEntropy<float> loss;
  Batch<float> b;
  net.train();
  double recent = 0;
  int epoch = 0;
  loader.start_epoch(epoch);
  for (int step = 0; step < train_steps; ++step) {
    if (!loader.next(b)) {
      loader.start_epoch(++epoch);
      loader.next(b);
    }
    adam.zero_grad();
    const float l = loss.forward(net.forward(b.x), b.y);
    net.backward(loss.backward());
    adam.step();
    if (step >= train_steps - 20) recent += l / 20;
  }
  net.eval();
  std::printf("  trained %d steps, mean loss of the last 20: %.3f\n", train_steps, recent);
}

void write_floats(const std::string& path, const float* v, Index n) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(v), std::streamsize(n * Index(sizeof(float))));
  if (!out.flush()) throw IoError(path, "cannot write");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DATA_DIR OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string data_dir = argv[1], out_dir = argv[2];
  try {
    struct Source {
      std::string name;
      Dataset train, test;
    };
    std::vector<Source> sources;
    const std::string mnist_dir = data_dir + "/mnist", cifar_dir = data_dir + "/cifar10";
    sources.push_back({"mnist", load_mnist(mnist_dir, true), load_mnist(mnist_dir, false)});
    sources.push_back({"cifar10", load_cifar10(cifar_dir, true), load_cifar10(cifar_dir, false)});

    std::vector<Model> models;
    const Shape mnist{1, 28, 28}, cifar{3, 32, 32};
    models.push_back({"mnist_parallel", "mnist",
                      classifier(mnist, Layout::parallel, 4, 16, Activation::relu, 4, 1), true});
    models.push_back({"mnist_staged_sequential", "mnist",
                      classifier(mnist, Layout::sequential, 2, 8, Activation::tanh, 0, 3), false});
    models.push_back({"cifar10_staged_parallel", "cifar10",
                      classifier(cifar, Layout::parallel, 3, 8, Activation::leaky_relu, 0, 3), false});
    models.push_back({"cifar10_hand_built", "cifar10", hand_built(), true});

    Json datasets = Json::object(), manifest_models = Json::array();
    for (const Source& src : sources) {
      const Dataset test = src.test.take(test_images);
      const Index n = test.size();
      const Normalize normalize = Normalize::fit(src.train);
      // What the ONNX model takes: pixels scaled to [0, 1], not normalised.
      std::vector<float> pixels(test.images.size());
      for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = float(test.images[i]) / 255.0f;
      write_floats(out_dir + "/" + src.name + ".input.f32", pixels.data(), Index(pixels.size()));
      Json shape = Json::array(), labels = Json::array(), class_names = Json::array();
      for (Index d : {n, test.shape.c, test.shape.h, test.shape.w}) shape.push(d);
      for (int label : test.labels) labels.push(label);
      for (const auto& name : test.class_names) class_names.push(name);
      datasets.set(src.name,
                   Json::object().set("input", src.name + ".input.f32").set("shape", shape).set("labels", labels));

      for (Model& m : models) {
        if (m.dataset != src.name) continue;
        std::printf("%s (%s):\n", m.name.c_str(), src.name.c_str());
        train(m.net, src.train, normalize);

        OnnxExportOptions o;
        o.mean = normalize.mean();
        o.stddev = normalize.stddev();
        o.class_names = test.class_names;
        o.probabilities = m.probabilities;
        export_onnx(m.net, out_dir + "/" + m.name + ".onnx", test.shape, o);

        // shallow's logits for the same images, through the training pipeline's normalisation.
        LoaderOptions lo;
        lo.batch_size = n;
        lo.normalize = normalize;
        DataLoader<float> loader(test, lo);
        Batch<float> b;
        loader.start_epoch(0);
        loader.next(b);
        const Tensor4<float>& logits = m.net.forward(b.x);
        write_floats(out_dir + "/" + m.name + ".logits.f32", logits.data(), logits.size());
        SoftmaxCrossEntropy<float> loss;
        loss.forward(logits, b.y);
        std::printf("  exported %s.onnx; shallow: %lld of %lld test images right\n", m.name.c_str(),
                    static_cast<long long>(loss.correct()), static_cast<long long>(n));

        manifest_models.push(Json::object()
                                 .set("name", m.name)
                                 .set("dataset", src.name)
                                 .set("onnx", m.name + ".onnx")
                                 .set("logits", m.name + ".logits.f32")
                                 .set("classes", sample_shape(logits).size())
                                 .set("probabilities", m.probabilities)
                                 .set("class_names", class_names));
      }
    }
    const Json manifest = Json::object()
                              .set("opset", onnx_opset)
                              .set("ir_version", onnx_ir_version)
                              .set("datasets", datasets)
                              .set("models", manifest_models);
    write_file_atomically(out_dir + "/manifest.json", manifest.dump() + "\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "onnx_models: %s\n", e.what());
    return 1;
  }
  return 0;
}
