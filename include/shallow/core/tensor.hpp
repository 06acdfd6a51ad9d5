/// \file
/// The data types every layer speaks: batches as contiguous row-major NCHW
/// Eigen tensors, matrices as row-major Eigen maps over the same memory, and
/// parameters as flat views of a layer's storage.
#pragma once

#include <Eigen/Core>
#include <unsupported/Eigen/CXX11/Tensor>

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "error.hpp"

namespace shallow {

using Index = Eigen::Index;

/// A batch: N x C x H x W, row-major, so one image (C*H*W values) is contiguous.
template <class T>
using Tensor4 = Eigen::Tensor<T, 4, Eigen::RowMajor>;

template <class T>
using VectorX = Eigen::Matrix<T, Eigen::Dynamic, 1>;

template <class T>
using MatrixR = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class T>
using MatrixMap = Eigen::Map<MatrixR<T>>;
template <class T>
using ConstMatrixMap = Eigen::Map<const MatrixR<T>>;

template <class T>
using VectorMap = Eigen::Map<VectorX<T>>;

/// A half-open index range [begin, end).
struct Range {
  Index begin, end;
};

/// Shape of one sample: channels, height, width.
struct Shape {
  Index c = 0, h = 0, w = 0;
  Index size() const { return c * h * w; }
  bool operator==(const Shape& o) const { return c == o.c && h == o.h && w == o.w; }
  bool operator!=(const Shape& o) const { return !(*this == o); }
};

inline std::string to_string(const Shape& s) {
  return std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
}

template <class T>
Shape sample_shape(const Tensor4<T>& t) {
  return {t.dimension(1), t.dimension(2), t.dimension(3)};
}

/// Resizes only when the element count changes, so a buffer reused across
/// batches of one size is allocated once (Eigen keeps the storage then).
template <class T>
void ensure_shape(Tensor4<T>& t, Index n, Index c, Index h, Index w) {
  if (t.dimension(0) != n || t.dimension(1) != c || t.dimension(2) != h || t.dimension(3) != w)
    t.resize(n, c, h, w);
}

template <class T>
void ensure_shape_like(Tensor4<T>& t, const Tensor4<T>& like) {
  ensure_shape(t, like.dimension(0), like.dimension(1), like.dimension(2), like.dimension(3));
}

/// The batch as an N x (C*H*W) matrix, or any other row-major view of it.
template <class T>
MatrixMap<T> as_matrix(Tensor4<T>& t, Index rows, Index cols) {
  return MatrixMap<T>(t.data(), rows, cols);
}
template <class T>
ConstMatrixMap<T> as_matrix(const Tensor4<T>& t, Index rows, Index cols) {
  return ConstMatrixMap<T>(t.data(), rows, cols);
}
template <class T>
MatrixMap<T> as_matrix(Tensor4<T>& t) {
  return as_matrix(t, t.dimension(0), t.size() / (t.dimension(0) ? t.dimension(0) : 1));
}
template <class T>
ConstMatrixMap<T> as_matrix(const Tensor4<T>& t) {
  return as_matrix(t, t.dimension(0), t.size() / (t.dimension(0) ? t.dimension(0) : 1));
}

template <class T>
VectorMap<T> as_vector(Tensor4<T>& t) {
  return VectorMap<T>(t.data(), t.size());
}
template <class T>
Eigen::Map<const VectorX<T>> as_vector(const Tensor4<T>& t) {
  return Eigen::Map<const VectorX<T>>(t.data(), t.size());
}

/// A trainable tensor as seen by optimizers: flat views of its values and of
/// its gradient, plus its logical shape (e.g. {out, in, kh, kw}). The views
/// point into the owning layer; they stay valid while the layer lives and is
/// not moved.
template <class T>
struct Parameter {
  std::string name;
  VectorMap<T> value;
  VectorMap<T> grad;
  std::vector<Index> shape;
};

/// Non-trainable state that must be saved with a model (BatchNorm's running
/// statistics).
template <class T>
struct Buffer {
  std::string name;
  VectorMap<T> value;
};

template <class T>
void check_input(const Tensor4<T>& x, const Shape& expected, const char* layer) {
  if (sample_shape(x) != expected)
    throw ShapeError(std::string(layer) + ": expected input samples of shape " + to_string(expected) +
                     ", got " + to_string(sample_shape(x)));
}

}  // namespace shallow
