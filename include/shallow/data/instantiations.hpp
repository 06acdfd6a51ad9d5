/// \file
/// The templates of the data floor that libshallow_kernels instantiates for
/// T = float and double (see core/compiled.hpp).
#pragma once

#define SHALLOW_DATA_INSTANTIATIONS(X, T) X(class DataLoader<T>)
