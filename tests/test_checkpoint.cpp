// Checkpoints: exact round trips (predictions, optimizer state, metadata),
// mismatched architectures, every kind of damaged or hostile file, and the
// atomic replacement of an existing file.
#include <catch2/catch.hpp>

#include <shallow/optim/adam.hpp>
#include <shallow/train/checkpoint.hpp>
#include <shallow/train/run_metadata.hpp>
#include <shallow/nn/loss.hpp>
#include <shallow/models/classifier.hpp>
#include <shallow/optim/sgd.hpp>

#include "test_files.hpp"

#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <string>
#include <vector>

using namespace shallow;
namespace fs = std::filesystem;

namespace {

// Recomputes the trailing CRC-32, so a deliberately edited file passes the
// checksum and reaches the parser.
void reseal(std::string& bytes) {
  const std::size_t body = bytes.size() - 4;
  const auto crc = static_cast<std::uint32_t>(
      crc32(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(bytes.data()), uInt(body)));
  for (int i = 0; i < 4; ++i) bytes[body + std::size_t(i)] = char((crc >> (8 * i)) & 0xff);
}

void put_u64(std::string& bytes, std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) bytes[at + std::size_t(i)] = char((v >> (8 * i)) & 0xff);
}

struct Thrown {
  std::string what, path;
  bool format = false;
};

// The IoError (or FormatError) that f throws; any other outcome fails.
template <class F>
Thrown io_error(F&& f) {
  try {
    f();
  } catch (const FormatError& e) {
    return {e.what(), e.path(), true};
  } catch (const IoError& e) {
    return {e.what(), e.path(), false};
  }
  FAIL("expected an IoError");
  return {};
}

ModelConfig small_config(Layout layout) {
  ModelConfig c;
  c.input = {1, 8, 8};
  c.classes = 3;
  c.layout = layout;
  c.layers = 2;
  c.filters = 4;
  c.kernel = 3;
  c.pool = 2;
  c.seed = 7;
  return c;
}

Tensor4<float> random_batch(Index n, const Shape& s, std::uint64_t seed) {
  Tensor4<float> x(n, s.c, s.h, s.w);
  Rng rng(seed);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = float(rng.normal());
  return x;
}

bool bitwise_equal(const float* a, const float* b, Index n) {
  return std::memcmp(a, b, std::size_t(n) * sizeof(float)) == 0;
}

bool same_weights(Network<float>& a, Network<float>& b) {
  auto pa = a.parameters(), pb = b.parameters();
  if (pa.size() != pb.size()) return false;
  for (std::size_t i = 0; i < pa.size(); ++i)
    if (pa[i].value.size() != pb[i].value.size() ||
        !bitwise_equal(pa[i].value.data(), pb[i].value.data(), pa[i].value.size()))
      return false;
  return true;
}

// Predictions in inference mode, compared bit for bit.
bool same_predictions(Network<float>& a, Network<float>& b, const Tensor4<float>& x) {
  a.eval();
  b.eval();
  const Tensor4<float> ya = a.forward(x);
  const Tensor4<float>& yb = b.forward(x);
  return ya.dimensions() == yb.dimensions() && bitwise_equal(ya.data(), yb.data(), ya.size());
}

// A small saved checkpoint with optimizer state and metadata: the subject of
// the damage tests.
std::string saved_checkpoint(const TempDir& dir) {
  Network<float> net = build_model<float>(small_config(Layout::parallel));
  Adam<float> adam(net.parameters());
  Checkpoint ck = capture(net, &adam);
  ck.optimizer = "adam";
  ck.metadata["epoch"] = "3";
  const std::string path = dir.file("good.ckpt");
  save_checkpoint(path, ck);
  return path;
}

}  // namespace

TEST_CASE("a saved network predicts bit for bit the same after loading, in both layouts") {
  TempDir dir;
  for (Layout layout : {Layout::sequential, Layout::parallel}) {
    const ModelConfig cfg = small_config(layout);
    Network<float> net = build_model<float>(cfg);
    const std::string path = dir.file(to_string(layout) + ".ckpt");
    save_checkpoint(path, capture(net));

    Network<float> loaded = load_network<float>(path);
    CHECK(loaded.spec() == net.spec());
    CHECK(loaded.training());
    CHECK(same_weights(loaded, net));
    CHECK(same_predictions(net, loaded, random_batch(5, cfg.input, 11)));

    // Into an existing network of the same architecture, other weights.
    ModelConfig other = cfg;
    other.seed = 99;
    Network<float> existing = build_model<float>(other);
    REQUIRE_FALSE(same_weights(existing, net));
    restore(load_checkpoint(path), existing);
    CHECK(same_predictions(net, existing, random_batch(5, cfg.input, 12)));

    // Other scalar types load the stored float32 values.
    Network<double> as_double = load_network<double>(path);
    auto pd = as_double.parameters();
    auto pf = net.parameters();
    REQUIRE(pd.size() == pf.size());
    for (std::size_t i = 0; i < pf.size(); ++i) CHECK(pd[i].value == pf[i].value.cast<double>());
  }
}

TEST_CASE("BatchNorm's running statistics travel with the weights") {
  TempDir dir;
  Network<float> net;
  net.emplace<Conv2d<float>>(2, 3, 3);
  net.emplace<BatchNorm2d<float>>(3);
  net.emplace<ReLU<float>>();
  net.emplace<Flatten<float>>();
  net.emplace<Dense<float>>(3 * 6 * 6, 4);
  net.forward(random_batch(4, {2, 6, 6}, 1));  // training mode: updates the running statistics
  net.forward(random_batch(4, {2, 6, 6}, 2));

  const std::string path = dir.file("bn.ckpt");
  save_checkpoint(path, capture(net));
  const Checkpoint ck = load_checkpoint(path);
  REQUIRE(ck.buffers.size() == 2);
  CHECK(ck.buffers[0].name == "1.running_mean");
  CHECK(ck.buffers[1].name == "1.running_var");
  CHECK(ck.buffers[1].shape == std::vector<Index>{3});

  Network<float> loaded = load_network<float>(path);
  auto a = net.buffers(), b = loaded.buffers();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(bitwise_equal(a[i].value.data(), b[i].value.data(), 3));
  CHECK(same_predictions(net, loaded, random_batch(3, {2, 6, 6}, 3)));
}

TEST_CASE("the running statistics of batch-normalised residual branches travel with the weights, both layouts") {
  TempDir dir;
  ResidualOptions o;
  o.batchnorm = true;
  for (Layout layout : {Layout::sequential, Layout::parallel}) {
    Network<float> net;
    net.add(make_residual<float>(layout, 2, 2, 3, o));
    net.emplace<Flatten<float>>();
    net.emplace<Dense<float>>(2 * 6 * 6, 4);
    net.forward(random_batch(4, {2, 6, 6}, 1));  // training mode: updates the running statistics
    const std::string path = dir.file(to_string(layout) + ".ckpt");
    save_checkpoint(path, capture(net));
    const Checkpoint ck = load_checkpoint(path);
    REQUIRE(ck.buffers.size() == 4);
    CHECK(ck.buffers[0].name == "0.branch1.bn.running_mean");
    CHECK(ck.buffers[3].name == "0.branch2.bn.running_var");
    Network<float> loaded = load_network<float>(path);
    CHECK(loaded.spec() == net.spec());
    auto a = net.buffers(), b = loaded.buffers();
    for (std::size_t i = 0; i < a.size(); ++i) {
      CHECK((a[i].value.array() != (i % 2 ? 1.0f : 0.0f)).all());  // moved off the initial 0 and 1
      CHECK(bitwise_equal(a[i].value.data(), b[i].value.data(), 2));
    }
    CHECK(same_predictions(net, loaded, random_batch(3, {2, 6, 6}, 3)));
  }
}

TEST_CASE("a run resumed from a checkpoint takes the same next Adam step, bit for bit") {
  TempDir dir;
  const ModelConfig cfg = small_config(Layout::sequential);
  const Tensor4<float> x = random_batch(6, cfg.input, 5);
  const std::vector<int> labels{0, 1, 2, 2, 1, 0};
  SoftmaxCrossEntropy<float> loss;
  auto step = [&](Network<float>& net, Optimizer<float>& opt) {
    opt.zero_grad();
    loss.forward(net.forward(x), labels);
    net.backward(loss.backward());
    opt.step();
  };
  AdamOptions options;
  options.lr = 1e-2;
  options.weight_decay = 1e-3;

  Network<float> net = build_model<float>(cfg);
  Adam<float> adam(net.parameters(), options);
  for (int i = 0; i < 3; ++i) step(net, adam);
  Checkpoint ck = capture(net, &adam);
  ck.optimizer = "adam";
  const std::string path = dir.file("run.ckpt");
  save_checkpoint(path, ck);
  step(net, adam);  // the uninterrupted run

  ModelConfig fresh = cfg;
  fresh.seed = 1234;
  Network<float> resumed = build_model<float>(fresh);
  Adam<float> resumed_adam(resumed.parameters(), options);
  const Checkpoint loaded = load_checkpoint(path);
  CHECK(loaded.optimizer == "adam");
  REQUIRE(loaded.optimizer_state);
  CHECK(loaded.optimizer_state->steps == 3);
  restore(loaded, resumed, &resumed_adam);
  CHECK(resumed_adam.steps() == 3);
  step(resumed, resumed_adam);

  CHECK(same_weights(net, resumed));
  const auto a = adam.state(), b = resumed_adam.state();
  CHECK(a.steps == b.steps);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    CHECK(a.tensors[i].first == b.tensors[i].first);
    CHECK(bitwise_equal(a.tensors[i].second.data(), b.tensors[i].second.data(), a.tensors[i].second.size()));
  }
}

TEST_CASE("metadata round-trips exactly, including empty, binary and long values") {
  TempDir dir;
  Network<float> net = build_model<float>(small_config(Layout::parallel));
  Checkpoint ck = capture(net);
  ck.metadata["epoch"] = "12";
  ck.metadata["class_names"] = "zero\none\ntwo\n";
  ck.metadata["mean"] = "0.1307";
  ck.metadata[""] = "empty key";
  ck.metadata["empty"] = "";
  ck.metadata["binary"] = std::string("a\0b\xff\x01", 5);
  ck.metadata["unicode"] = "caf\xc3\xa9 \xe2\x9c\x93";
  ck.metadata["long"] = std::string(100000, 'x');
  const std::string path = dir.file("meta.ckpt");
  save_checkpoint(path, ck);
  const Checkpoint loaded = load_checkpoint(path);
  CHECK(loaded.metadata == ck.metadata);
  CHECK(loaded.architecture == ck.architecture);
  CHECK_FALSE(loaded.optimizer_state);
  CHECK(loaded.optimizer.empty());
}

TEST_CASE("a checkpoint does not load into another architecture, and the network is left as it was") {
  TempDir dir;
  Network<float> sequential = build_model<float>(small_config(Layout::sequential));
  Adam<float> adam(sequential.parameters());
  const std::string path = dir.file("seq.ckpt");
  save_checkpoint(path, capture(sequential, &adam));
  const Checkpoint ck = load_checkpoint(path);

  SECTION("another layout: the differing layer is named") {
    ModelConfig cfg = small_config(Layout::parallel);
    cfg.seed = 5;
    Network<float> parallel = build_model<float>(cfg);
    Network<float> before = build_model<float>(cfg);
    const std::string msg = message_of<ShapeError>([&] { restore(ck, parallel); });
    CHECK_THAT(msg, Catch::Contains("layer 2"));
    CHECK_THAT(msg, Catch::Contains("sequential_residual"));
    CHECK_THAT(msg, Catch::Contains("parallel_residual"));
    CHECK(same_weights(parallel, before));
  }
  SECTION("more filters") {
    ModelConfig cfg = small_config(Layout::sequential);
    cfg.filters = 5;
    Network<float> wider = build_model<float>(cfg);
    CHECK_THAT(message_of<ShapeError>([&] { restore(ck, wider); }), Catch::Contains("layer 0"));
  }
  SECTION("same architecture text, other parameter shapes") {
    Checkpoint edited = ck;
    edited.parameters[1].shape = {5};
    edited.parameters[1].values.push_back(0);
    Network<float> net = build_model<float>(small_config(Layout::sequential));
    const std::string msg = message_of<ShapeError>([&] { restore(edited, net); });
    CHECK_THAT(msg, Catch::Contains("parameter 1 is '0.bias' of shape [5]"));
    CHECK_THAT(msg, Catch::Contains("[4]"));
  }
  SECTION("another optimizer: refused before the weights change") {
    ModelConfig cfg = small_config(Layout::sequential);
    cfg.seed = 5;
    Network<float> net = build_model<float>(cfg);
    Network<float> before = build_model<float>(cfg);
    SgdOptions o;
    o.momentum = 0.9;
    Sgd<float> sgd(net.parameters(), o);
    CHECK_THAT(message_of<ShapeError>([&] { restore(ck, net, &sgd); }), Catch::Contains("optimizer state"));
    CHECK(same_weights(net, before));
  }
  SECTION("an optimizer, but no optimizer state in the checkpoint") {
    Checkpoint no_state = ck;
    no_state.optimizer_state.reset();
    Network<float> net = build_model<float>(small_config(Layout::sequential));
    Adam<float> fresh(net.parameters());
    CHECK_THAT(message_of<ShapeError>([&] { restore(no_state, net, &fresh); }),
               Catch::Contains("no optimizer state"));
  }
}

TEST_CASE("every flipped byte and every truncation is a FormatError naming the file") {
  TempDir dir;
  const std::string good_path = saved_checkpoint(dir);
  const std::string good = read_bytes(good_path);
  REQUIRE_NOTHROW(load_checkpoint(good_path));
  const std::string path = dir.file("bad.ckpt");

  for (std::size_t at = 0; at < good.size(); ++at) {
    std::string bad = good;
    bad[at] = char(bad[at] ^ 0x20);
    write_bytes(path, bad);
    const Thrown t = io_error([&] { load_checkpoint(path); });
    INFO("byte " << at << ": " << t.what);
    REQUIRE(t.format);
    REQUIRE(t.path == path);
  }
  for (std::size_t size = 0; size < good.size(); ++size) {
    write_bytes(path, good.substr(0, size));
    const Thrown t = io_error([&] { load_checkpoint(path); });
    INFO("truncated to " << size << ": " << t.what);
    REQUIRE(t.format);
  }
  write_bytes(path, good + '\0');
  CHECK(io_error([&] { load_checkpoint(path); }).format);

  write_bytes(path, good.substr(0, good.size() / 2));
  CHECK_THAT(io_error([&] { load_checkpoint(path); }).what, Catch::Contains("checksum"));
  write_bytes(path, "");
  CHECK_THAT(io_error([&] { load_checkpoint(path); }).what, Catch::Contains("empty"));
  write_bytes(path, "PK\x03\x04 not a checkpoint at all");
  CHECK_THAT(io_error([&] { load_checkpoint(path); }).what, Catch::Contains("not a shallow checkpoint"));
  std::string newer = good;
  newer[12] = 3;
  reseal(newer);
  write_bytes(path, newer);
  CHECK_THAT(io_error([&] { load_checkpoint(path); }).what, Catch::Contains("format version 3"));
}

TEST_CASE("hostile lengths and counts behind a valid checksum are refused without huge allocations") {
  TempDir dir;
  const std::string good = read_bytes(saved_checkpoint(dir));
  const std::string path = dir.file("hostile.ckpt");
  auto load_patched = [&](std::size_t at, std::uint64_t value) {
    std::string bad = good;
    put_u64(bad, at, value);
    reseal(bad);
    write_bytes(path, bad);
    const Thrown t = io_error([&] { load_checkpoint(path); });
    CHECK(t.format);
    return t.what;
  };
  // 16: "ARCH", 20: its length, 28: the architecture's length, then the text.
  std::uint64_t arch_length = 0;
  for (int i = 0; i < 8; ++i) arch_length |= std::uint64_t(std::uint8_t(good[28 + std::size_t(i)])) << (8 * i);
  const std::size_t parm = 36 + arch_length;  // "PARM", length, count, first name length
  REQUIRE(good.compare(parm, 4, "PARM") == 0);

  for (std::uint64_t huge : {std::uint64_t(1) << 62, ~std::uint64_t(0), std::uint64_t(good.size())}) {
    CHECK_THAT(load_patched(20, huge), Catch::Contains("section ARCH"));
    CHECK_THAT(load_patched(28, huge), Catch::Contains("architecture"));
    CHECK_THAT(load_patched(parm + 4, huge), Catch::Contains("section PARM"));
    CHECK_THAT(load_patched(parm + 12, huge), Catch::Contains("parameter count"));
    CHECK_THAT(load_patched(parm + 20, huge), Catch::Contains("parameter name"));
  }

  // Random damage, resealed: anything but a clean load or a FormatError
  // (a crash, a sanitizer report, another exception) fails.
  Rng rng(2024);
  for (int trial = 0; trial < 400; ++trial) {
    std::string bad = good;
    const std::size_t body = good.size() - 4 - 16;
    if (trial % 2 == 0) {
      for (int k = 0; k < 3; ++k) bad[16 + rng.below(body)] = char(rng.next());
    } else {
      const std::uint64_t values[] = {0, 1, 0xffffffffu, std::uint64_t(1) << 40, ~std::uint64_t(0)};
      put_u64(bad, 16 + rng.below(body - 8), values[rng.below(5)]);
    }
    reseal(bad);
    write_bytes(path, bad);
    try {
      load_checkpoint(path);
    } catch (const FormatError& e) {
      CHECK(e.path() == path);
    }
  }
}

TEST_CASE("NaN or infinite weights are refused on load and on save") {
  TempDir dir;
  Network<float> net = build_model<float>(small_config(Layout::parallel));
  Checkpoint ck = capture(net);
  const float marker = 12345.5f;  // far from any initial weight: found once in the file
  ck.parameters[2].values[0] = marker;
  const std::string path = dir.file("nan.ckpt");
  save_checkpoint(path, ck);
  const std::string good = read_bytes(path);
  char marker_bytes[4];
  std::memcpy(marker_bytes, &marker, 4);  // the test machine is little-endian, as the format
  const std::size_t at = good.find(std::string(marker_bytes, 4));
  REQUIRE(at != std::string::npos);

  for (float bad_value : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    std::string bad = good;
    std::memcpy(&bad[at], &bad_value, 4);
    reseal(bad);
    write_bytes(path, bad);
    const Thrown t = io_error([&] { load_checkpoint(path); });
    CHECK(t.format);
    CHECK_THAT(t.what, Catch::Contains("parameter '" + ck.parameters[2].name + "' holds"));
    CHECK_THAT(t.what, Catch::Contains(std::isnan(bad_value) ? "NaN" : "infinity"));
    CHECK_THROWS_AS(load_network<float>(path), FormatError);
  }

  write_bytes(path, good);
  Checkpoint with_nan = ck;
  with_nan.parameters[0].values[3] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THAT(message_of<NumericError>([&] { save_checkpoint(path, with_nan); }), Catch::Contains("holds NaN"));
  CHECK(read_bytes(path) == good);
  CHECK(dir.entries() == std::set<std::string>{"nan.ckpt"});
}

TEST_CASE("missing files, directories, empty files and unreadable files are typed errors naming the path") {
  TempDir dir;
  const std::string missing = dir.file("missing.ckpt");
  Thrown t = io_error([&] { load_checkpoint(missing); });
  CHECK_FALSE(t.format);
  CHECK(t.path == missing);
  CHECK_THAT(t.what, Catch::StartsWith(missing + ": "));
  CHECK_THAT(t.what, Catch::Contains("No such file"));
  CHECK_FALSE(io_error([&] { load_network<float>(missing); }).format);

  t = io_error([&] { load_checkpoint(dir.path().string()); });
  CHECK_FALSE(t.format);
  CHECK(t.path == dir.path().string());
  CHECK_THAT(t.what, Catch::Contains("is a directory"));

  const std::string empty = dir.file("empty.ckpt");
  write_bytes(empty, "");
  t = io_error([&] { load_checkpoint(empty); });
  CHECK(t.format);
  CHECK_THAT(t.what, Catch::StartsWith(empty + ": empty file"));

  const std::string locked = saved_checkpoint(dir);
  fs::permissions(locked, fs::perms::none);
  if (std::ifstream(locked).is_open()) {
    WARN("running with permission to read any file (root?): permission-denied case skipped");
  } else {
    t = io_error([&] { load_checkpoint(locked); });
    CHECK_FALSE(t.format);
    CHECK_THAT(t.what, Catch::Contains("Permission denied"));
  }
}

TEST_CASE("saving replaces a file atomically and leaves no temporary files, even when it fails") {
  TempDir dir;
  Network<float> net = build_model<float>(small_config(Layout::parallel));
  Checkpoint small = capture(net);
  Checkpoint big = small;
  big.metadata["padding"] = std::string(1 << 20, 'p');
  const std::string path = dir.file("model.ckpt");

  save_checkpoint(path, small);
  save_checkpoint(path, big);  // over an existing file
  CHECK(load_checkpoint(path).metadata == big.metadata);
  save_checkpoint(path, small);
  const std::string old = read_bytes(path);
  CHECK(dir.entries() == std::set<std::string>{"model.ckpt"});

  SECTION("the write fails midway (file size limit): the old file is intact") {
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
    rlimit limited = saved;
    limited.rlim_cur = 4096;  // room for the start of the big checkpoint only
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &limited) == 0);
    std::string what;
    try {
      save_checkpoint(path, big);
    } catch (const IoError& e) {
      what = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, old_handler);
    CHECK_THAT(what, Catch::StartsWith(path + ": cannot write"));
    CHECK(read_bytes(path) == old);
    CHECK(dir.entries() == std::set<std::string>{"model.ckpt"});
  }
  SECTION("the path is a directory: it stays, and no temporary file is left") {
    const std::string sub = dir.file("taken");
    fs::create_directory(sub);
    write_bytes(sub + "/inside", "keep");
    const Thrown t = io_error([&] { save_checkpoint(sub, small); });
    CHECK_FALSE(t.format);
    CHECK(t.path == sub);
    CHECK(fs::is_directory(sub));
    CHECK(read_bytes(sub + "/inside") == "keep");
    CHECK(dir.entries() == std::set<std::string>{"model.ckpt", "taken"});
  }
  SECTION("the directory does not exist") {
    const std::string nowhere = dir.file("no/such/dir/model.ckpt");
    CHECK_FALSE(io_error([&] { save_checkpoint(nowhere, small); }).format);
    CHECK(dir.entries() == std::set<std::string>{"model.ckpt"});
  }
  SECTION("the directory is not writable: the old file is intact") {
    fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec);
    const bool can_write_anyway = std::ofstream(dir.file("probe")).is_open();
    if (can_write_anyway) {
      WARN("running with permission to write anywhere (root?): read-only directory case skipped");
    } else {
      const Thrown t = io_error([&] { save_checkpoint(path, big); });
      CHECK_FALSE(t.format);
      CHECK_THAT(t.what, Catch::Contains("Permission denied"));
      CHECK(read_bytes(path) == old);
    }
    fs::permissions(dir.path(), fs::perms::owner_all);
    fs::remove(dir.file("probe"));
    CHECK(dir.entries() == std::set<std::string>{"model.ckpt"});
  }
}

TEST_CASE("a checkpoint written by shallow 0.1.0 still loads, reads and resumes") {
  // tests/data/shallow-0.1.0.ckpt: shallow-train 0.1.0 (75f8ca3), --layers 2 --filters 2 --stages 2
  // --activation leaky_relu --pool 0 --seed 3 on 256 MNIST images, stopped after epoch 2 of 3.
  const std::string path = std::string(SHALLOW_SOURCE_DIR) + "/tests/data/shallow-0.1.0.ckpt";
  const Checkpoint ck = load_checkpoint(path);
  const RunMetadata m = RunMetadata::read(ck, path);
  CHECK(m.epoch == 2);
  CHECK(m.input == Shape{1, 28, 28});
  CHECK(m.class_names.size() == 10);
  CHECK(m.history.size() == 2);
  CHECK(m.settings.empty());  // 0.1.0 recorded none
  Network<float> loaded = load_network<float>(path);
  CHECK(loaded.spec() == ck.architecture);

  // The same flags build today's network with the same spec, and it takes
  // the weights and the optimizer state back.
  ModelConfig c;
  c.layers = 2;
  c.filters = 2;
  c.stages = 2;
  c.activation = Activation::leaky_relu;
  c.pool = 0;
  c.seed = 3;
  Network<float> today = build_model<float>(c);
  REQUIRE(today.spec() == ck.architecture);
  Adam<float> opt(today.parameters());
  restore(ck, today, &opt);
  CHECK(opt.steps() == 2 * 4);  // 256 images in batches of 64, two epochs
  Tensor4<float> x(3, 1, 28, 28);
  x.setRandom();
  loaded.eval();
  today.eval();
  const Tensor4<float> a = loaded.forward(x);
  CHECK((as_vector(a).array() == as_vector(today.forward(x)).array()).all());
}

TEST_CASE("a double network is stored in double, and loads into a float network rounded") {
  TempDir dir;
  Network<double> net(5);
  net.emplace<Conv2d<double>>(1, 2, 3);
  net.emplace<Flatten<double>>();
  net.emplace<Dense<double>>(2 * 4 * 4, 3);
  Adam<double> opt(net.parameters());
  for (auto& p : net.parameters()) p.grad.setConstant(1e-3);
  opt.step();
  net.parameters()[0].value[0] = 0.1;  // not a float value
  const std::string path = dir.file("double.ckpt");
  save_checkpoint(path, capture(net, &opt));
  const Checkpoint ck = load_checkpoint(path);
  CHECK(ck.value_bytes == 8);
  Network<double> again = make_network<double>(ck.architecture);
  Adam<double> again_opt(again.parameters());
  restore(ck, again, &again_opt);
  const auto a = net.parameters(), b = again.parameters();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK((a[i].value.array() == b[i].value.array()).all());
  CHECK(b[0].value[0] == 0.1);
  const auto sa = opt.state(), sb = again_opt.state();
  for (std::size_t i = 0; i < sa.tensors.size(); ++i)
    CHECK((sa.tensors[i].second.array() == sb.tensors[i].second.array()).all());
  // Into a float network: the values as a cast rounds them.
  Network<float> single = load_network<float>(path);
  CHECK(single.parameters()[0].value[0] == 0.1f);
  // A float network is stored in float32, as before.
  save_checkpoint(path, capture(single));
  CHECK(load_checkpoint(path).value_bytes == 4);
}
