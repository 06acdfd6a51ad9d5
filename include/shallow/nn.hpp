/// \file
/// shallow's layers, residual blocks and networks, and the floors below them
/// (core, kernels), plus the optimizers and the models built from layers:
/// everything needed to build and train a network in code. Needs Eigen and
/// OpenMP only; data loading (data.hpp) and training loops and checkpoints
/// (train.hpp) add zlib and stb.
#pragma once

#include "core.hpp"
#include "kernels.hpp"
#include "nn/activation.hpp"
#include "nn/batchnorm.hpp"
#include "nn/conv2d.hpp"
#include "nn/dense.hpp"
#include "nn/dropout.hpp"
#include "nn/flatten.hpp"
#include "nn/gelu.hpp"
#include "nn/layer.hpp"
#include "nn/layer_factory.hpp"
#include "nn/loss.hpp"
#include "nn/network.hpp"
#include "nn/patch_whitening.hpp"
#include "nn/pooling.hpp"
#include "nn/residual.hpp"
#include "nn/softmax.hpp"
#include "nn/spec.hpp"
#include "nn/stack.hpp"
#include "optim.hpp"
#include "models.hpp"
#include "core/compiled.hpp"
#include "nn/instantiations.hpp"
#include "optim/instantiations.hpp"
#include "models/instantiations.hpp"

#ifdef SHALLOW_COMPILED
namespace shallow {
SHALLOW_NN_INSTANTIATIONS(SHALLOW_EXTERN_TEMPLATE, float)
SHALLOW_NN_INSTANTIATIONS(SHALLOW_EXTERN_TEMPLATE, double)
SHALLOW_OPTIM_INSTANTIATIONS(SHALLOW_EXTERN_TEMPLATE, float)
SHALLOW_OPTIM_INSTANTIATIONS(SHALLOW_EXTERN_TEMPLATE, double)
SHALLOW_MODELS_INSTANTIATIONS(SHALLOW_EXTERN_TEMPLATE, float)
SHALLOW_MODELS_INSTANTIATIONS(SHALLOW_EXTERN_TEMPLATE, double)
}  // namespace shallow
#endif
