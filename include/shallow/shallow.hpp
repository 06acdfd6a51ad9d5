/// \file
/// Everything shallow offers, in one include: the layers, residual blocks,
/// optimizers and models (nn.hpp, Eigen and OpenMP only), data loading
/// (data.hpp, + zlib and stb_image) and training with checkpoints (train.hpp).
#pragma once

#include "core.hpp"
#include "data.hpp"
#include "nn.hpp"
#include "train.hpp"
