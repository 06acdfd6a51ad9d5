/// \file
/// The compiled instantiations. A program that links shallow::kernels (CMake)
/// is built with SHALLOW_COMPILED defined: each floor's umbrella then declares
/// the float and double instantiations of its class and function templates
/// extern (each floor lists them in its instantiations.hpp), and
/// libshallow_kernels defines them once (src/kernels_*.cpp). A translation unit
/// that builds and trains a network then parses the headers but does not
/// instantiate and optimise the layers and kernels again. Without the macro
/// the library stays header-only, as before.
#pragma once

/// Declares an explicit instantiation extern (in the umbrellas, with SHALLOW_COMPILED).
#define SHALLOW_EXTERN_TEMPLATE(...) extern template __VA_ARGS__;
/// Defines an explicit instantiation (in src/kernels_*.cpp).
#define SHALLOW_INSTANTIATE_TEMPLATE(...) template __VA_ARGS__;
