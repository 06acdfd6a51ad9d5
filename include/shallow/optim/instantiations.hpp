/// \file
/// The templates of the optim floor that libshallow_kernels instantiates for
/// T = float and double (see core/compiled.hpp). X(declaration) per entry.
#pragma once

#define SHALLOW_OPTIM_INSTANTIATIONS(X, T) \
  X(class Optimizer<T>)                    \
  X(class Sgd<T>)                          \
  X(class Adam<T>)                         \
  X(class AdamW<T>)                        \
  X(class WeightAverage<T>)
