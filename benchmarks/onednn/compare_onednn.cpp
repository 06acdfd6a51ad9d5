// shallow beside oneDNN, in one process: the conv training step (forward +
// backward-data + backward-weights, with bias; batch 64, stride 1, 'same'
// padding) of shallow::Conv2d<float> and of oneDNN's own convolution
// primitives, at 1 and 2 threads.
//
// oneDNN runs as a oneDNN network would: its memory descriptors say
// format_tag::any, so it picks its blocked layouts; the NCHW input, the
// weights and dy are reordered into the forward primitive's layouts once, at
// setup. A step reorders only where a backward primitive wants another layout
// than the forward one holds (weights, dy, x) or hands back one (dx, dW);
// those reorders count in its time. Debian's libdnnl runs on OpenMP (libgomp,
// as shallow does), so omp_set_num_threads sets the threads of both.
//
// First every shape is checked once, untimed: the forward output, dx, dW and
// db of the two must agree to 1e-3 relative to the data's scale. Then each
// measurement alternates the libraries round by round, so a noisy neighbour
// slows both alike; it prints medians over the rounds, the median of the
// per-round ratios oneDNN time / shallow time (> 1: shallow is faster), their
// geometric mean per thread count, and shallow's GFLOP/s counted as a direct
// convolution (3 x 2*N*H*W*Cout*Cin*k^2 per step).
//
//   compare_onednn [--rounds R] [--min-ms T] [--threads 1,2] [--shapes ID,...] [--algorithm A] [--calls C]
//     --shapes takes ids CIN-COUT-HW-kK, e.g. 16-128-28-k3 (--help lists them)
//     --calls layer (default): Conv2d::forward and backward, which cache a copy
//       of x as the Layer contract says; --calls into: forward_into and
//       backward_into on the caller's x, as the residual blocks call their
//       convolutions, and as oneDNN's primitives are handed their input
//   ONEDNN_VERBOSE=1 compare_onednn ...   also logs every primitive oneDNN runs
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <unordered_map>
#include <vector>

#include <shallow/shallow.hpp>

#include "../side_by_side.hpp"

namespace {

using shallow::Index;
using dnnl::memory;

constexpr Index kBatch = 64;
constexpr double kTolerance = 1e-3;

struct Settings {
  int rounds = 7;
  double min_ms = 300;  // per library per round
  std::vector<int> threads = {1, 2};
};

struct ConvShape {
  Index cin, cout, hw, k;

  std::string id() const {
    return std::to_string(cin) + "-" + std::to_string(cout) + "-" + std::to_string(hw) + "-k" + std::to_string(k);
  }
  std::string label() const {
    return std::to_string(cin) + "->" + std::to_string(cout) + ", " + std::to_string(hw) + "x" + std::to_string(hw) +
           ", k" + std::to_string(k);
  }
  // forward, backward-data and backward-weights, each 2*N*H*W*Cout*Cin*k^2.
  double step_flops() const { return 3.0 * 2.0 * double(kBatch * hw * hw * cout * cin * k * k); }
};

const std::vector<ConvShape> kShapes = {{8, 8, 28, 3},   {16, 16, 28, 3}, {16, 128, 28, 3},
                                        {32, 32, 32, 3}, {64, 64, 32, 3}, {24, 24, 32, 3},
                                        {48, 48, 16, 3}, {96, 96, 8, 3},  {32, 32, 32, 5}};

// What both libraries are given: x and dy in NCHW, weights in OIHW, bias.
struct ConvData {
  std::vector<float> x, dy, w, b;
};

std::vector<float> uniform(Index n, double bound, std::uint64_t seed) {
  shallow::Rng rng(seed);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (float& e : v) e = float(rng.uniform(-bound, bound));
  return v;
}

ConvData make_data(const ConvShape& s) {
  const double fan_in_bound = 1 / std::sqrt(double(s.cin * s.k * s.k));
  return {uniform(kBatch * s.cin * s.hw * s.hw, 1, 1), uniform(kBatch * s.cout * s.hw * s.hw, 1, 2),
          uniform(s.cout * s.cin * s.k * s.k, fan_in_bound, 3), uniform(s.cout, fan_in_bound, 4)};
}

// What a step computed, in NCHW / OIHW, for the correctness check.
struct ConvResult {
  std::vector<float> y, dx, dw, db;
};

void copy_out(const float* data, Index n, std::vector<float>& to) {
  to.assign(data, data + n);
}

// shallow's conv training step on `data`. With `result`, every step also
// copies its outputs there (the check does; timed steps pass none).
// The convolution algorithm shallow uses (automatic: the library's choice).
shallow::ConvAlgorithm algorithm = shallow::ConvAlgorithm::automatic;
// Whether shallow's step calls forward_into/backward_into (--calls into) rather than the Layer interface.
bool calls_into = false;

std::function<void()> shallow_step(const ConvShape& s, const ConvData& data, ConvResult* result = nullptr) {
  struct State {
    explicit State(const ConvShape& s)
        : conv(s.cin, s.cout, s.k, 1, shallow::same_padding, true, shallow::ConvOptions{algorithm}),
          x(kBatch, s.cin, s.hw, s.hw),
          dy(kBatch, s.cout, s.hw, s.hw) {}
    shallow::Conv2d<float> conv;
    shallow::Tensor4<float> x, dy, y_into, dx_into;
  };
  auto st = std::make_shared<State>(s);
  std::copy(data.x.begin(), data.x.end(), st->x.data());
  std::copy(data.dy.begin(), data.dy.end(), st->dy.data());
  std::copy(data.w.begin(), data.w.end(), st->conv.weight().data());
  std::copy(data.b.begin(), data.b.end(), st->conv.bias().data());
  return [st, result] {
    st->conv.zero_grad();  // backward adds into dW and db
    const shallow::Tensor4<float>* y = &st->y_into;
    const shallow::Tensor4<float>* dx = &st->dx_into;
    if (calls_into) {
      st->conv.forward_into(st->x, st->y_into);
      st->conv.backward_into(st->x, st->dy, &st->dx_into);
    } else {
      y = &st->conv.forward(st->x);
      dx = &st->conv.backward(st->dy);
    }
    if (result) {
      copy_out(y->data(), y->size(), result->y);
      copy_out(dx->data(), dx->size(), result->dx);
      copy_out(st->conv.weight_grad().data(), st->conv.weight_grad().size(), result->dw);
      copy_out(st->conv.bias_grad().data(), st->conv.bias_grad().size(), result->db);
    }
  };
}

// oneDNN's layout of a memory in its own notation: dimensions outermost
// first, upper case if blocked, then the inner blocks (e.g. aBcd16b is
// nChw16c, ABcd16b16a is OIhw16i16o).
std::string layout(const memory::desc& md) {
  const dnnl_memory_desc_t& d = md.data;
  if (d.format_kind != dnnl_blocked) return "non-blocked";
  const dnnl_blocking_desc_t& b = d.format_desc.blocking;
  std::vector<int> dims(static_cast<std::size_t>(d.ndims));
  std::iota(dims.begin(), dims.end(), 0);
  std::stable_sort(dims.begin(), dims.end(), [&](int i, int j) { return b.strides[i] > b.strides[j]; });
  std::string s;
  for (int i : dims) {
    const bool blocked = std::find(b.inner_idxs, b.inner_idxs + b.inner_nblks, i) != b.inner_idxs + b.inner_nblks;
    s += char((blocked ? 'A' : 'a') + i);
  }
  for (int i = 0; i < b.inner_nblks; ++i) s += std::to_string(b.inner_blks[i]) + char('a' + b.inner_idxs[i]);
  return s;
}

// oneDNN's conv training step on `data`, a list of primitives run in order on
// one stream. oneDNN fixes a primitive's thread count when it creates it, so
// build this after setting the threads.
class OneDnnConv {
 public:
  OneDnnConv(const ConvShape& s, const ConvData& data, ConvResult* result = nullptr) : result_(result) {
    using tag = memory::format_tag;
    const memory::dim n = kBatch, ci = s.cin, co = s.cout, hw = s.hw, k = s.k, pad = s.k / 2;
    const memory::dims src_dims{n, ci, hw, hw}, weights_dims{co, ci, k, k}, dst_dims{n, co, hw, hw};
    const memory::dims strides{1, 1}, padding{pad, pad};
    const auto f32 = memory::data_type::f32;
    const memory::desc src_any(src_dims, f32, tag::any), weights_any(weights_dims, f32, tag::any),
        dst_any(dst_dims, f32, tag::any), bias_md({co}, f32, tag::x);
    const memory::desc src_nchw(src_dims, f32, tag::nchw), weights_oihw(weights_dims, f32, tag::oihw),
        dst_nchw(dst_dims, f32, tag::nchw);

    // The forward primitive_desc is the hint of the backward ones.
    const auto algo = dnnl::algorithm::convolution_direct;
    fwd_pd_ = dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algo, src_any, weights_any, bias_md,
                                        dst_any, strides, padding, padding),
        engine_);
    data_pd_ = dnnl::convolution_backward_data::primitive_desc(
        dnnl::convolution_backward_data::desc(algo, src_any, weights_any, dst_any, strides, padding, padding),
        engine_, fwd_pd_);
    weights_pd_ = dnnl::convolution_backward_weights::primitive_desc(
        dnnl::convolution_backward_weights::desc(algo, src_any, weights_any, bias_md, dst_any, strides, padding,
                                                 padding),
        engine_, fwd_pd_);

    // Set up once, untimed: the user's data in the forward layouts. dy is
    // held as the layer above would hand it over: in the forward's dst layout.
    const memory src = filled(fwd_pd_.src_desc(), src_nchw, data.x);
    const memory weights = filled(fwd_pd_.weights_desc(), weights_oihw, data.w);
    const memory bias = filled(bias_md, bias_md, data.b);
    const memory diff_dst = filled(fwd_pd_.dst_desc(), dst_nchw, data.dy);
    const memory dst(fwd_pd_.dst_desc(), engine_);

    add(dnnl::convolution_forward(fwd_pd_),
        {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}});

    const memory data_weights = in_layout(weights, data_pd_.weights_desc(), "weights");
    const memory data_diff_dst = in_layout(diff_dst, data_pd_.diff_dst_desc(), "dy");
    const memory data_diff_src(data_pd_.diff_src_desc(), engine_);
    add(dnnl::convolution_backward_data(data_pd_),
        {{DNNL_ARG_DIFF_DST, data_diff_dst}, {DNNL_ARG_WEIGHTS, data_weights}, {DNNL_ARG_DIFF_SRC, data_diff_src}});
    // dx goes to the layer below in the layout its activations have.
    const memory diff_src = in_layout(data_diff_src, fwd_pd_.src_desc(), "dx");

    const memory weights_src = in_layout(src, weights_pd_.src_desc(), "x");
    const memory weights_diff_dst =
        weights_pd_.diff_dst_desc() == data_diff_dst.get_desc()
            ? data_diff_dst
            : in_layout(diff_dst, weights_pd_.diff_dst_desc(), "dy");
    const memory weights_diff_weights(weights_pd_.diff_weights_desc(), engine_);
    const memory diff_bias(weights_pd_.diff_bias_desc(), engine_);
    add(dnnl::convolution_backward_weights(weights_pd_),
        {{DNNL_ARG_SRC, weights_src},
         {DNNL_ARG_DIFF_DST, weights_diff_dst},
         {DNNL_ARG_DIFF_WEIGHTS, weights_diff_weights},
         {DNNL_ARG_DIFF_BIAS, diff_bias}});
    // dW in the weights' layout, where an optimizer would apply it.
    const memory diff_weights = in_layout(weights_diff_weights, fwd_pd_.weights_desc(), "dW");

    if (result_) {
      // Back into NCHW / OIHW for the check (whose steps are not timed).
      result_y_ = reordered(dst, dst_nchw);
      result_dx_ = reordered(diff_src, src_nchw);
      result_dw_ = reordered(diff_weights, weights_oihw);
      result_db_ = diff_bias;
    }
  }

  void step() {
    for (const Op& op : ops_) op.primitive.execute(stream_, op.args);
    stream_.wait();
    if (result_) {
      copy_values(result_y_, result_->y);
      copy_values(result_dx_, result_->dx);
      copy_values(result_dw_, result_->dw);
      copy_values(result_db_, result_->db);
    }
  }

  // The implementations and layouts oneDNN chose, and the reorders a step runs.
  std::string describe() const {
    std::string reorders;
    for (const std::string& r : reorders_) reorders += (reorders.empty() ? "" : ", ") + r;
    return std::string("fwd ") + fwd_pd_.impl_info_str() + " (src " + layout(fwd_pd_.src_desc()) + ", weights " +
           layout(fwd_pd_.weights_desc()) + ", dst " + layout(fwd_pd_.dst_desc()) + "); bwd-data " +
           data_pd_.impl_info_str() + "; bwd-weights " + weights_pd_.impl_info_str() + "; reorders per step: " +
           (reorders.empty() ? "none" : reorders);
  }

 private:
  struct Op {
    dnnl::primitive primitive;
    std::unordered_map<int, memory> args;
  };

  void add(const dnnl::primitive& p, std::unordered_map<int, memory> args) { ops_.push_back({p, std::move(args)}); }

  // A memory of layout `md` holding `values`, given in the layout `plain`;
  // reordered now, untimed.
  memory filled(const memory::desc& md, const memory::desc& plain, const std::vector<float>& values) {
    memory user(plain, engine_);
    std::copy(values.begin(), values.end(), static_cast<float*>(user.get_data_handle()));
    if (md == plain) return user;
    memory m(md, engine_);
    dnnl::reorder(user, m).execute(stream_, user, m);
    stream_.wait();
    return m;
  }

  // `from` in the layout `want`: `from` itself if it has it, else a memory
  // that a reorder, appended to the step, fills from it.
  memory in_layout(const memory& from, const memory::desc& want, const std::string& what) {
    if (from.get_desc() == want) return from;
    reorders_.push_back(what + " " + layout(from.get_desc()) + "->" + layout(want));
    return reordered(from, want);
  }

  memory reordered(const memory& from, const memory::desc& want) {
    if (from.get_desc() == want) return from;
    const memory to(want, engine_);
    add(dnnl::reorder(from, to), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
    return to;
  }

  static void copy_values(const memory& m, std::vector<float>& to) {
    const auto n = static_cast<Index>(m.get_desc().get_size() / sizeof(float));
    copy_out(static_cast<const float*>(m.get_data_handle()), n, to);
  }

  dnnl::engine engine_{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream_{engine_};
  dnnl::convolution_forward::primitive_desc fwd_pd_;
  dnnl::convolution_backward_data::primitive_desc data_pd_;
  dnnl::convolution_backward_weights::primitive_desc weights_pd_;
  std::vector<Op> ops_;
  std::vector<std::string> reorders_;
  ConvResult* result_;
  memory result_y_, result_dx_, result_dw_, result_db_;
};

std::function<void()> onednn_step(const ConvShape& s, const ConvData& data) {
  auto conv = std::make_shared<OneDnnConv>(s, data);
  return [conv] { conv->step(); };
}

// shallow::set_num_threads is omp_set_num_threads; oneDNN's OpenMP runtime
// reads the same setting (omp_get_max_threads) when it creates a primitive.
void set_threads(int threads) {
  shallow::set_num_threads(threads);
  omp_set_num_threads(threads);
}

// max |a - b| / max |b|: the error on the data's scale (an elementwise
// relative error would be dominated by entries near zero).
double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::fabs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::fabs(double(b[i])));
  }
  return diff / std::max(scale, 1e-30);
}

// One untimed step of each on the same data; exits when they disagree.
void check(const ConvShape& s) {
  const ConvData data = make_data(s);
  ConvResult ours, theirs;
  shallow_step(s, data, &ours)();
  OneDnnConv onednn(s, data, &theirs);
  onednn.step();
  const double errors[] = {relative_error(ours.y, theirs.y), relative_error(ours.dx, theirs.dx),
                           relative_error(ours.dw, theirs.dw), relative_error(ours.db, theirs.db)};
  std::printf("%-20s y %.1e  dx %.1e  dW %.1e  db %.1e  | %s\n", s.label().c_str(), errors[0], errors[1], errors[2],
              errors[3], onednn.describe().c_str());
  std::fflush(stdout);
  if (*std::max_element(std::begin(errors), std::end(errors)) > kTolerance) {
    std::fprintf(stderr, "compare_onednn: shallow and oneDNN disagree on %s beyond %.0e; not timing them\n",
                 s.label().c_str(), kTolerance);
    std::exit(1);
  }
}

const char* runtime_name(unsigned runtime) {
  switch (runtime) {
    case DNNL_RUNTIME_SEQ: return "sequential";
    case DNNL_RUNTIME_OMP: return "OpenMP";
    case DNNL_RUNTIME_TBB: return "TBB";
    case DNNL_RUNTIME_THREADPOOL: return "threadpool";
    default: return "other";
  }
}

const char* isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

const char* kUsage =
    "usage: compare_onednn [--rounds R] [--min-ms T] [--threads 1,2] [--shapes ID,...] [--algorithm A] [--calls C]\n"
    "  --algorithm A  shallow's convolution algorithm: auto (default), im2col, planes, winograd, blocked\n"
    "  --calls C      layer (default: Conv2d::forward/backward, which cache a copy of x) or into\n"
    "                 (forward_into/backward_into on the caller's x, as the residual blocks call them)\n"
    "  --rounds R     timed rounds per shape and thread count (default 7)\n"
    "  --min-ms T     milliseconds per library per round (default 300)\n"
    "  --threads L    comma-separated thread counts (default 1,2)\n"
    "  --shapes L     comma-separated shape ids (default all):";

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "compare_onednn: %s\n", message.c_str());
  std::exit(2);
}

const char* value(int argc, char** argv, int& i) {
  if (i + 1 >= argc) usage_error(std::string(argv[i]) + " needs a value");
  return argv[++i];
}

double positive(const char* flag, const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(v > 0))
    usage_error(std::string(flag) + " needs a positive number, got '" + text + "'");
  return v;
}

int whole(const char* flag, const std::string& text, int max) {
  const double v = positive(flag, text.c_str());
  if (v != std::floor(v) || v > max)
    usage_error(std::string(flag) + " needs a whole number from 1 to " + std::to_string(max) + ", got '" + text + "'");
  return int(v);
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> parts;
  std::size_t begin = 0;
  for (std::size_t comma; (comma = list.find(',', begin)) != std::string::npos; begin = comma + 1)
    parts.push_back(list.substr(begin, comma - begin));
  parts.push_back(list.substr(begin));
  return parts;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  std::vector<ConvShape> shapes = kShapes;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rounds") {
      s.rounds = whole("--rounds", value(argc, argv, i), 1000);
    } else if (a == "--min-ms") {
      s.min_ms = positive("--min-ms", value(argc, argv, i));
    } else if (a == "--threads") {
      s.threads.clear();
      for (const std::string& t : split(value(argc, argv, i))) s.threads.push_back(whole("--threads", t, 1024));
    } else if (a == "--shapes") {
      shapes.clear();
      for (const std::string& id : split(value(argc, argv, i))) {
        const auto it = std::find_if(kShapes.begin(), kShapes.end(), [&](const ConvShape& c) { return c.id() == id; });
        if (it == kShapes.end()) usage_error("unknown shape '" + id + "' (--help lists them)");
        shapes.push_back(*it);
      }
    } else if (a == "--algorithm") {
      try {
        algorithm = shallow::parse_conv_algorithm(value(argc, argv, i));
      } catch (const shallow::Error& e) {
        usage_error(e.what());
      }
    } else if (a == "--calls") {
      const std::string c = value(argc, argv, i);
      if (c != "layer" && c != "into") usage_error("--calls takes layer or into, got '" + c + "'");
      calls_into = c == "into";
    } else if (a == "--help" || a == "-h") {
      std::printf("%s", kUsage);
      for (const ConvShape& c : kShapes) std::printf(" %s", c.id().c_str());
      std::printf("\n");
      return 0;
    } else {
      usage_error("unknown flag '" + a + "' (--help lists the flags)");
    }
  }

  const dnnl_version_t* v = dnnl_version();
  std::printf("oneDNN %d.%d.%d (%s), CPU runtime %s, ISA %s; shallow %s; batch %ld; OMP_WAIT_POLICY=%s; "
              "medians of %d rounds of >= %.0f ms each; shallow's algorithm: %s, calls: %s\n",
              v->major, v->minor, v->patch, v->hash, runtime_name(v->cpu_runtime),
              isa_name(dnnl::get_effective_cpu_isa()), shallow::version, long(kBatch),
              std::getenv("OMP_WAIT_POLICY") ? std::getenv("OMP_WAIT_POLICY") : "unset", s.rounds, s.min_ms,
              shallow::to_string(algorithm), calls_into ? "into" : "layer");
  if (v->cpu_runtime != DNNL_RUNTIME_OMP) {
    std::fprintf(stderr, "compare_onednn: this libdnnl uses the %s runtime; omp_set_num_threads would not set its "
                 "threads\n", runtime_name(v->cpu_runtime));
    return 1;
  }

  std::printf("\nCorrectness, max |shallow - oneDNN| / max |oneDNN| (threads %d):\n", s.threads.front());
  set_threads(s.threads.front());
  for (const ConvShape& shape : shapes) check(shape);

  std::printf("\nConv training step (forward + backward-data + backward-weights, with bias), batch %ld; ratio: "
              "median of the per-round oneDNN / shallow times (> 1: shallow is faster)\n\n"
              "| shape | thr | shallow ms | oneDNN ms | ratio | shallow GFLOP/s |\n|---|---|---|---|---|---|\n",
              long(kBatch));
  for (int threads : s.threads) {
    set_threads(threads);
    double log_ratios = 0;
    for (const ConvShape& shape : shapes) {
      const ConvData data = make_data(shape);
      const SideBySide m = side_by_side(s.rounds, s.min_ms, shallow_step(shape, data), onednn_step(shape, data));
      log_ratios += std::log(m.ratio);
      std::printf("| %s | %d | %.3f | %.3f | %.2fx | %.1f |\n", shape.label().c_str(), threads, m.shallow * 1e3,
                  m.other * 1e3, m.ratio, shape.step_flops() / m.shallow * 1e-9);
      std::fflush(stdout);
    }
    std::printf("| geometric mean | %d | | | %.2fx | |\n", threads, std::exp(log_ratios / double(shapes.size())));
  }
  return 0;
}
