/// \file
/// The templates of the train floor that libshallow_kernels instantiates for
/// T = float and double (see core/compiled.hpp).
#pragma once

#define SHALLOW_TRAIN_INSTANTIATIONS(X, T)                                            \
  X(class Trainer<T>)                                                                   \
  X(Checkpoint capture<T>(Layer<T>&, const Optimizer<T>*))                              \
  X(void restore<T>(const Checkpoint&, Layer<T>&, Optimizer<T>*))                       \
  X(Network<T> load_network<T>(const std::string&))
