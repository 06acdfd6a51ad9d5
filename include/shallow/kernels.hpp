/// \file
/// shallow's kernels floor: the convolution algorithms (im2col + GEMM, padded
/// planes, Winograd F(4x4, 3x3) and F(2x2, 5x5)) behind one interface, and
/// the GEMM they share. Needs Eigen and OpenMP only.
#pragma once

#include "core.hpp"
#include "kernels/conv_algorithms.hpp"
#include "kernels/conv_geometry.hpp"
#include "kernels/conv_kernel.hpp"
#include "kernels/gemm.hpp"
#include "kernels/im2col.hpp"
#include "kernels/im2col_conv.hpp"
#include "kernels/plane_conv.hpp"
#include "kernels/planes.hpp"
#include "kernels/winograd.hpp"
#include "kernels/winograd_conv.hpp"
