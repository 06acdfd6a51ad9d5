// libshallow_kernels, double: the library's templates for T = double, compiled
// once. The float ones are in kernels_float.cpp, a file of their own so
// that the two compile in parallel (each takes a minute at -O3).
#include "instantiate.hpp"

SHALLOW_INSTANTIATE_FLOORS(double)
