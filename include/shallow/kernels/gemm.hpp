/// \file
/// Matrix products that keep their packing buffers between calls.
///
/// Eigen's operator* packs both operands into cache-sized blocks before it
/// multiplies; once a block passes EIGEN_STACK_ALLOCATION_LIMIT (128 KB) it
/// allocates the buffer on the heap, on every product. The im2col path of
/// Conv2d multiplies once per image and pass, so a strided convolution made an
/// allocation per image. Gemm runs the same Eigen kernel
/// (internal::general_matrix_matrix_product, Eigen 3.4) with buffers it owns,
/// sized on the first call and again only when the shape changes.
#pragma once

#include <memory>
#include <type_traits>

#include "../core/tensor.hpp"

namespace shallow {

/// Matrix products that keep their packing buffers between calls (the contract in this file's comment).
template <class T>
class Gemm {
 public:
  Gemm() = default;
  /// A copy starts with no buffers of its own.
  Gemm(const Gemm&) {}
  /// Drops this object's buffers; the next product sizes them again.
  Gemm& operator=(const Gemm&) {
    blocking_.reset();
    return *this;
  }
  /// Takes over the buffers.
  Gemm(Gemm&&) noexcept = default;
  /// Takes over the buffers.
  Gemm& operator=(Gemm&&) noexcept = default;

  /// c += a * b. c is row-major; a and b are row-major matrices or maps, or
  /// their .transpose(). Sizes must agree (checked in debug builds by Eigen).
  template <class A, class B, class C>
  void add(const A& a, const B& b, C&& c) {
    using Dst = std::remove_reference_t<C>;
    static_assert(bool(Dst::Flags & Eigen::RowMajorBit), "Gemm::add writes a row-major result");
    eigen_assert(a.cols() == b.rows() && c.rows() == a.rows() && c.cols() == b.cols());
    if (!blocking_ || rows_ != c.rows() || cols_ != c.cols() || depth_ != a.cols()) {
      rows_ = c.rows();
      cols_ = c.cols();
      depth_ = a.cols();
      // As Eigen's own product sizes it: one thread, L3 blocking on.
      blocking_ = std::make_unique<Blocking>(rows_, cols_, depth_, 1, true);
      blocking_->allocateAll();
    }
    if (rows_ == 0 || cols_ == 0 || depth_ == 0) return;
    Eigen::internal::general_matrix_matrix_product<Index, T, order<A>(), false, T, order<B>(), false, Eigen::RowMajor,
                                                   1>::run(rows_, cols_, depth_, a.data(), a.outerStride(), b.data(),
                                                           b.outerStride(), c.data(), 1, c.outerStride(), T(1),
                                                           *blocking_, nullptr);
  }

 private:
  template <class M>
  static constexpr int order() {
    return (std::remove_reference_t<M>::Flags & Eigen::RowMajorBit) ? Eigen::RowMajor : Eigen::ColMajor;
  }

  using Blocking = Eigen::internal::gemm_blocking_space<Eigen::RowMajor, T, T, Eigen::Dynamic, Eigen::Dynamic,
                                                        Eigen::Dynamic, 1, false>;
  std::unique_ptr<Blocking> blocking_;
  Index rows_ = 0, cols_ = 0, depth_ = 0;
};

}  // namespace shallow
