/// \file
/// The contract of a convolution algorithm, shared by Im2colConv, PlaneConv,
/// BlockedConv and WinogradConv. Conv2d owns the parameters and picks one algorithm per
/// geometry; the algorithm owns its workspaces (one set per thread, sized on
/// the first call for a geometry and reused, so a steady stream of batches
/// allocates nothing) and computes, for a batch x of N images:
///
///   forward    y  = conv(x, W) + b                     y: N x O x out_h x out_w
///   backward   dW += dL/dW,  db += dL/db  (db given)   over the whole batch
///              dx  = dL/dx                (dx given)    N x C x H x W
///
/// W is O x (C k k), row-major: PyTorch's [out, in, kh, kw] flattened.
/// Forward hands out images one at a time (each is computed the same way on
/// any thread, so a core taken by another process slows the step less).
/// Backward gives each thread a contiguous share of the images and its own
/// dW/db partial sums, added in thread order after the parallel region, so a
/// result is bitwise reproducible at a given thread count.
///
/// The per-image hooks let a caller fuse elementwise work (an activation, a
/// skip connection) into the convolution's parallel loop, on data still in
/// cache: forward calls after(i) once image i of y is final; backward calls
/// before(i) before image i of dy is read (it may write that image) and
/// after(i) once image i of dx is final. Both run on the thread that took
/// image i and may touch only image i of any tensor.
#pragma once

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "../core/tensor.hpp"
#include "conv_geometry.hpp"

namespace shallow {

/// Which convolution kernel a Conv2d uses; automatic lets choose_conv_algorithm pick per geometry.
enum class ConvAlgorithm { automatic, im2col, planes, winograd, blocked };

/// The algorithm's name as flags and specs spell it: auto, im2col, planes, winograd, blocked.
inline const char* to_string(ConvAlgorithm a) {
  switch (a) {
    case ConvAlgorithm::automatic: return "auto";
    case ConvAlgorithm::im2col: return "im2col";
    case ConvAlgorithm::planes: return "planes";
    case ConvAlgorithm::winograd: return "winograd";
    case ConvAlgorithm::blocked: return "blocked";
  }
  return "?";
}

/// The algorithm named s (as to_string spells it); ConfigError for another name.
inline ConvAlgorithm parse_conv_algorithm(const std::string& s) {
  for (ConvAlgorithm a : {ConvAlgorithm::automatic, ConvAlgorithm::im2col, ConvAlgorithm::planes,
                          ConvAlgorithm::winograd, ConvAlgorithm::blocked})
    if (s == to_string(a)) return a;
  throw ConfigError("unknown convolution algorithm '" + s + "' (auto, im2col, planes, winograd, blocked)");
}

/// A per-image callback that does not own what it calls: built from a lambda
/// for the duration of one forward or backward call. Empty: does nothing.
class ImageHook {
 public:
  ImageHook() = default;
  /// Wraps f, which must outlive the hook.
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, ImageHook>>>
  ImageHook(F&& f)  // NOLINT: converting on purpose, so callers pass lambdas
      : target_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* t, Index i) { (*static_cast<std::remove_reference_t<F>*>(t))(i); }) {}

  /// Calls the wrapped function with image index i (nothing when empty).
  void operator()(Index i) const {
    if (call_) call_(target_, i);
  }

 private:
  void* target_ = nullptr;
  void (*call_)(void*, Index) = nullptr;
};

/// One convolution algorithm: forward and backward for any geometry it accepts, with its own per-thread workspaces.
template <class T>
class ConvKernel {
 public:
  virtual ~ConvKernel() = default;
  /// Which algorithm this is.
  virtual ConvAlgorithm algorithm() const = 0;

  /// y is already N x O x out_h x out_w; bias holds O values or is null.
  virtual void forward(const ConvGeometry& g, const Tensor4<T>& x, const MatrixR<T>& w, const T* bias,
                       Tensor4<T>& y, ImageHook after) = 0;
  /// dx (when given) is already shaped like x; db is null without a bias.
  virtual void backward(const ConvGeometry& g, const Tensor4<T>& x, const Tensor4<T>& dy, const MatrixR<T>& w,
                        Tensor4<T>* dx, MatrixR<T>& dw, VectorX<T>* db, ImageHook before, ImageHook after) = 0;

 protected:
  ConvKernel() = default;
  /// Copyable by derived kernels only.
  ConvKernel(const ConvKernel&) = default;
  /// Copyable by derived kernels only.
  ConvKernel& operator=(const ConvKernel&) = default;
};

/// The backward passes' parallel loop: body(tid, images, dw_t, db_t) runs on
/// every thread of a team over a fixed share of the n images, accumulating
/// into that thread's zeroed partial sums, which are then added to dw and db
/// in thread order.
template <class T>
class GradientPartials {
 public:
  /// Room for `threads` threads of O x taps weight sums (and O bias sums).
  void resize(std::size_t threads, Index out, Index taps) {
    dw_.resize(std::max(dw_.size(), threads));
    db_.resize(dw_.size());
    for (std::size_t t = 0; t < dw_.size(); ++t) {
      dw_[t].resize(out, taps);
      db_[t].resize(out);
    }
  }

  /// Runs body over the n images on a team of threads, then adds the partial sums into dw and db (when given).
  template <class Body>
  void run(Index n, MatrixR<T>& dw, VectorX<T>* db, Body body) {
    int team = 1;
#pragma omp parallel
    {
      const int tid = thread_id();
#pragma omp master
      team = team_size();
      dw_[std::size_t(tid)].setZero();
      db_[std::size_t(tid)].setZero();
      body(tid, share(n, tid, team_size()), dw_[std::size_t(tid)], db_[std::size_t(tid)]);
    }
    for (int t = 0; t < team; ++t) {
      dw += dw_[std::size_t(t)];
      if (db) *db += db_[std::size_t(t)];
    }
  }

 private:
  std::vector<MatrixR<T>> dw_;
  std::vector<VectorX<T>> db_;
};

}  // namespace shallow
