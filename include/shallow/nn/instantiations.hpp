/// \file
/// The templates of the nn floor that libshallow_kernels instantiates for
/// T = float and double (see core/compiled.hpp). X(declaration) per entry.
#pragma once

#define SHALLOW_NN_INSTANTIATIONS(X, T)                                                  \
  X(class Conv2d<T>)                                                                       \
  X(class ActivationLayer<T>)                                                              \
  X(class BatchNorm2d<T>)                                                                  \
  X(class PatchWhitening<T>)                                                               \
  X(class Dense<T>)                                                                        \
  X(class Dropout<T>)                                                                      \
  X(class Flatten<T>)                                                                      \
  X(class GELU<T>)                                                                         \
  X(class MaxPool2d<T>)                                                                    \
  X(class AvgPool2d<T>)                                                                    \
  X(class GlobalAvgPool<T>)                                                                \
  X(class SoftmaxCrossEntropy<T>)                                                          \
  X(class MSELoss<T>)                                                                      \
  X(class ResidualBlock<T>)                                                                \
  X(class SequentialResidualBlock<T>)                                                      \
  X(class ParallelResidualBlock<T>)                                                        \
  X(class Network<T>)                                                                      \
  X(class LayerRegistry<T>)                                                                \
  X(std::unique_ptr<ResidualBlock<T>> make_residual<T>(Layout, Index, Index, Index, const ResidualOptions&)) \
  X(Network<T> make_network<T>(const std::string&, double))
