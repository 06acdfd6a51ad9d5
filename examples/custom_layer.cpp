// A layer of your own, outside the library: a learnable scale per channel,
// y[n][c] = s[c] * x[n][c]. It keeps the Layer contract (forward caches x;
// backward adds into the gradient of s and returns dL/dx), writes its spec
// and reads it back, and registers the spec's name, so that Network,
// checkpoints and load_network treat it as they treat the library's layers.
//
//   custom_layer [DIR]   trains a small network with it on synthetic data,
//                        saves it to DIR (default: the system's temp dir),
//                        loads it back and checks both give the same output
#include <shallow/shallow.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

template <class T>
class Scale : public shallow::Layer<T> {
 public:
  explicit Scale(shallow::Index channels) : c_(channels), s_(channels), ds_(channels) {
    SHALLOW_CHECK(channels > 0, ConfigError, "scale: channels must be positive");
    s_.setOnes();
    ds_.setZero();
  }

  // "scale channels=C"
  static std::unique_ptr<shallow::Layer<T>> from_spec(const shallow::SpecReader& s) {
    auto layer = std::make_unique<Scale<T>>(s.integer("channels"));
    s.finish();
    return layer;
  }
  std::string spec() const override { return shallow::SpecWriter("scale")("channels", c_).str(); }

  // x: N x C x H x W; caches x.
  const shallow::Tensor4<T>& forward(const shallow::Tensor4<T>& x) override {
    shallow::check_input(x, {c_, x.dimension(2), x.dimension(3)}, "scale");
    x_ = x;
    y_ = x;
    const shallow::Index plane = x.dimension(2) * x.dimension(3);
    for (shallow::Index n = 0; n < x.dimension(0); ++n)
      for (shallow::Index c = 0; c < c_; ++c) plane_of(y_, n, c, plane) *= s_[c];
    return y_;
  }
  // ds[c] += sum(dy * x) over the batch and the plane; dx = s[c] * dy.
  const shallow::Tensor4<T>& backward(const shallow::Tensor4<T>& dy) override {
    dx_ = dy;
    const shallow::Index plane = dy.dimension(2) * dy.dimension(3);
    for (shallow::Index n = 0; n < dy.dimension(0); ++n)
      for (shallow::Index c = 0; c < c_; ++c) {
        ds_[c] += plane_of(dx_, n, c, plane).dot(plane_of(x_, n, c, plane));
        plane_of(dx_, n, c, plane) *= s_[c];
      }
    return dx_;
  }

  std::vector<shallow::Parameter<T>> parameters() override {
    return {{"scale", shallow::VectorMap<T>(s_.data(), c_), shallow::VectorMap<T>(ds_.data(), c_), {c_}}};
  }
  shallow::Shape output_shape(const shallow::Shape& in) const override {
    SHALLOW_CHECK(in.c == c_, ShapeError, spec() + ": expected " + std::to_string(c_) + " channels");
    return in;
  }

 private:
  static shallow::VectorMap<T> plane_of(shallow::Tensor4<T>& t, shallow::Index n, shallow::Index c,
                                        shallow::Index plane) {
    return shallow::VectorMap<T>(t.data() + (n * t.dimension(1) + c) * plane, plane);
  }

  shallow::Index c_;
  shallow::VectorX<T> s_, ds_;
  shallow::Tensor4<T> x_, y_, dx_;
};

int main(int argc, char** argv) {
  using namespace shallow;
  // One line makes the spec name known to make_layer, make_network and load_network.
  register_layer<float>("scale", &Scale<float>::from_spec);

  Network<float> net;
  net.emplace<Conv2d<float>>(1, 4, 3);
  net.emplace<Scale<float>>(4);
  net.emplace<ReLU<float>>();
  net.emplace<Flatten<float>>();
  net.emplace<Dense<float>>(4 * 8 * 8, 2);
  Rng rng(7);
  net.reset_parameters(rng);

  // Two classes: images brighter or darker than zero on average.
  Tensor4<float> x(32, 1, 8, 8);
  std::vector<int> labels(32);
  for (Index i = 0; i < 32; ++i) {
    labels[std::size_t(i)] = int(i % 2);
    for (Index j = 0; j < 64; ++j) x.data()[i * 64 + j] = float(rng.uniform(-1, 1) + (i % 2 ? 0.5 : -0.5));
  }
  Adam<float> opt(net.parameters(), AdamOptions{});
  SoftmaxCrossEntropy<float> loss;
  float first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    opt.zero_grad();
    last = loss.forward(net.forward(x), labels);
    if (step == 0) first = last;
    net.backward(loss.backward());
    opt.step();
  }
  std::printf("custom_layer: loss %.4f -> %.4f, scale %.4f after training\n", double(first), double(last),
              double(net.parameters()[2].value[0]));

  const std::string dir = argc > 1 ? argv[1] : std::filesystem::temp_directory_path().string();
  const std::string path = dir + "/custom_layer.ckpt";
  save_checkpoint(path, capture(net));
  Network<float> loaded = load_network<float>(path);
  net.eval();
  loaded.eval();
  const Tensor4<float> before = net.forward(x);
  const Tensor4<float>& after = loaded.forward(x);
  const bool same = (as_vector(before).array() == as_vector(after).array()).all();
  std::printf("custom_layer: %s loads back as\n%s%s\n", path.c_str(), loaded.spec().c_str(),
              same ? "with the same outputs" : "with DIFFERENT outputs");
  std::filesystem::remove(path);
  return same && last < first ? 0 : 1;
}
