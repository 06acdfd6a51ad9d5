// The body of libshallow_kernels' sources: every floor's explicit
// instantiations for one scalar type (see include/shallow/core/compiled.hpp).
#pragma once

#include <shallow/shallow.hpp>

#define SHALLOW_INSTANTIATE_FLOORS(T)                          \
  namespace shallow {                                          \
  SHALLOW_NN_INSTANTIATIONS(SHALLOW_INSTANTIATE_TEMPLATE, T)     \
  SHALLOW_OPTIM_INSTANTIATIONS(SHALLOW_INSTANTIATE_TEMPLATE, T)  \
  SHALLOW_MODELS_INSTANTIATIONS(SHALLOW_INSTANTIATE_TEMPLATE, T) \
  SHALLOW_DATA_INSTANTIATIONS(SHALLOW_INSTANTIATE_TEMPLATE, T)   \
  SHALLOW_TRAIN_INSTANTIATIONS(SHALLOW_INSTANTIATE_TEMPLATE, T)  \
  }
