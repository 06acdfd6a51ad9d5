/// \file
/// shallow's core floor: errors, tensors, random numbers, threads,
/// initialisation, number formatting and JSON. Needs Eigen and OpenMP only.
#pragma once

#include "core/error.hpp"
#include "core/format.hpp"
#include "core/init.hpp"
#include "core/json.hpp"
#include "core/compiled.hpp"
#include "core/cpu.hpp"
#include "core/memory.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "core/tensor.hpp"
#include "core/version.hpp"
