/// \file
/// shallow's data floor: files (gzip, atomic writes), datasets (MNIST IDX,
/// CIFAR-10 binary, image folders), normalisation and batch loading.
/// Independent of the layers; needs zlib and stb_image besides Eigen.
#pragma once

#include "core.hpp"
#include "data/cifar10.hpp"
#include "data/data_loader.hpp"
#include "data/dataset.hpp"
#include "data/files.hpp"
#include "data/image.hpp"
#include "data/image_folder.hpp"
#include "data/mnist.hpp"
#include "data/normalize.hpp"
#include "core/compiled.hpp"
#include "data/instantiations.hpp"

#ifdef SHALLOW_COMPILED
namespace shallow {
SHALLOW_DATA_INSTANTIATIONS(SHALLOW_EXTERN_TEMPLATE, float)
SHALLOW_DATA_INSTANTIATIONS(SHALLOW_EXTERN_TEMPLATE, double)
}  // namespace shallow
#endif
