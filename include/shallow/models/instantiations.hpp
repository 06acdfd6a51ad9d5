/// \file
/// The templates of the models floor that libshallow_kernels instantiates
/// for T = float and double (see core/compiled.hpp).
#pragma once

#define SHALLOW_MODELS_INSTANTIATIONS(X, T)             \
  X(Network<T> build_model<T>(const ModelConfig&))        \
  X(Network<T> build_fast_model<T>(const FastModelConfig&))
