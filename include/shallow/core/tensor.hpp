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

/// Sizes and indices: Eigen's signed index type.
using Index = Eigen::Index;

/// A batch: N x C x H x W, row-major, so one image (C*H*W values) is contiguous.
template <class T>
using Tensor4 = Eigen::Tensor<T, 4, Eigen::RowMajor>;

/// A dense column vector.
template <class T>
using VectorX = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// A dense row-major matrix.
template <class T>
using MatrixR = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A row-major matrix view of memory owned elsewhere.
template <class T>
using MatrixMap = Eigen::Map<MatrixR<T>>;
/// A read-only row-major matrix view of memory owned elsewhere.
template <class T>
using ConstMatrixMap = Eigen::Map<const MatrixR<T>>;

/// A vector view of memory owned elsewhere.
template <class T>
using VectorMap = Eigen::Map<VectorX<T>>;

/// A half-open index range [begin, end).
struct Range {
  ///@{
  /// The range's first index and one past its last.
  Index begin, end;
  ///@}
};

/// Shape of one sample: channels, height, width.
struct Shape {
  ///@{
  /// Channels, height and width.
  Index c = 0, h = 0, w = 0;
  ///@}
  /// Values per sample: c * h * w; ShapeError when that overflows an Index.
  Index size() const {
    Index ch = 0, chw = 0;
    if (__builtin_mul_overflow(c, h, &ch) || __builtin_mul_overflow(ch, w, &chw))
      throw ShapeError("a sample of " + std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w) +
                       " values is too large to count");
    return chw;
  }
  /// Equal in all three dimensions.
  bool operator==(const Shape& o) const { return c == o.c && h == o.h && w == o.w; }
  /// Not equal in some dimension.
  bool operator!=(const Shape& o) const { return !(*this == o); }
};

/// "CxHxW".
inline std::string to_string(const Shape& s) {
  return std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
}

/// The shape of one sample of batch t: dimensions 1 to 3.
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

/// ensure_shape() to the dimensions of like.
template <class T>
void ensure_shape_like(Tensor4<T>& t, const Tensor4<T>& like) {
  ensure_shape(t, like.dimension(0), like.dimension(1), like.dimension(2), like.dimension(3));
}

/// The batch as an N x (C*H*W) matrix, or any other row-major view of it.
template <class T>
MatrixMap<T> as_matrix(Tensor4<T>& t, Index rows, Index cols) {
  return MatrixMap<T>(t.data(), rows, cols);
}
/// The read-only rows x cols view of t.
template <class T>
ConstMatrixMap<T> as_matrix(const Tensor4<T>& t, Index rows, Index cols) {
  return ConstMatrixMap<T>(t.data(), rows, cols);
}
/// The batch as an N x (C*H*W) matrix.
template <class T>
MatrixMap<T> as_matrix(Tensor4<T>& t) {
  return as_matrix(t, t.dimension(0), t.size() / (t.dimension(0) ? t.dimension(0) : 1));
}
/// The batch as a read-only N x (C*H*W) matrix.
template <class T>
ConstMatrixMap<T> as_matrix(const Tensor4<T>& t) {
  return as_matrix(t, t.dimension(0), t.size() / (t.dimension(0) ? t.dimension(0) : 1));
}

/// All of t's values as one vector.
template <class T>
VectorMap<T> as_vector(Tensor4<T>& t) {
  return VectorMap<T>(t.data(), t.size());
}
/// All of t's values as one read-only vector.
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
  /// Unique within its network, e.g. "3.weight".
  std::string name;
  /// The values.
  VectorMap<T> value;
  /// The gradient, as many values as value.
  VectorMap<T> grad;
  /// The logical shape; its product is value.size().
  std::vector<Index> shape;
};

/// Non-trainable state that must be saved with a model (BatchNorm's running
/// statistics).
template <class T>
struct Buffer {
  /// Unique within its network, e.g. "1.running_mean".
  std::string name;
  /// The values.
  VectorMap<T> value;
};

/// Throws a ShapeError naming layer when x's samples are not of shape expected.
template <class T>
void check_input(const Tensor4<T>& x, const Shape& expected, const char* layer) {
  if (sample_shape(x) != expected)
    throw ShapeError(std::string(layer) + ": expected input samples of shape " + to_string(expected) +
                     ", got " + to_string(sample_shape(x)));
}

}  // namespace shallow
