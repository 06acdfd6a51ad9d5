/// \file
/// Networks built from run-time settings: the classifier the tools train,
/// and the network of the cifar10-fast recipe.
#pragma once

#include "models/cifar10_fast.hpp"
#include "models/classifier.hpp"
