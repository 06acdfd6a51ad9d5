// libshallow_kernels, float: the library's templates for T = float, compiled
// once. The double ones are in kernels_double.cpp, a file of their own so
// that the two compile in parallel (each takes a minute at -O3).
#include "instantiate.hpp"

SHALLOW_INSTANTIATE_FLOORS(float)
