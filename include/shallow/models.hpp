/// \file
/// Networks built from run-time settings: the classifier the tools train.
#pragma once

#include "models/classifier.hpp"
