/// \file
/// Layers from their spec lines: the one table that maps a spec's name to the
/// layer's static from_spec, and the registry that a program extends with
/// layers of its own (docs/architecture.md shows one):
///
///   register_layer<float>("scale", &Scale::from_spec);
///   Network<float> net = make_network<float>(text);   // or load_network(path)
///
/// Registration is meant for start-up, before layers are built from specs on
/// several threads; it is guarded by a mutex all the same.
///
/// An architecture read from a file may be hostile: make_network gives its
/// lines max_spec_parameters to share, which the layers reserve before they
/// allocate (SpecReader::reserve_parameters), so a line claiming billions of
/// parameters is a ConfigError, not gigabytes and a bad_alloc.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>

#include "activation.hpp"
#include "batchnorm.hpp"
#include "conv2d.hpp"
#include "dense.hpp"
#include "dropout.hpp"
#include "flatten.hpp"
#include "gelu.hpp"
#include "layer.hpp"
#include "network.hpp"
#include "patch_whitening.hpp"
#include "pooling.hpp"
#include "residual.hpp"
#include "spec.hpp"

namespace shallow {

/// 2^27 parameters (512 MB as float) for one architecture built from text.
inline constexpr double max_spec_parameters = double(1 << 27);

/// A function that builds a layer from its spec line (e.g. Conv2d::from_spec).
template <class T>
using LayerMaker = std::unique_ptr<Layer<T>> (*)(const SpecReader&);

/// Layer names and their makers, per scalar type; thread-safe.
template <class T>
class LayerRegistry {
 public:
  /// The registry of scalar type T, holding the library's layers to begin with.
  static LayerRegistry& instance() {
    static LayerRegistry registry;
    return registry;
  }

  /// ConfigError when the name is taken.
  void add(const std::string& name, LayerMaker<T> make) {
    SHALLOW_CHECK(make != nullptr, ConfigError, "register_layer: no maker given for '" + name + "'");
    SHALLOW_CHECK(name.find_first_of(" \t\n=") == std::string::npos && !name.empty(), ConfigError,
                  "register_layer: '" + name + "' is not a valid spec name");
    std::lock_guard<std::mutex> lock(mutex_);
    SHALLOW_CHECK(makers_.emplace(name, make).second, ConfigError,
                  "register_layer: a layer named '" + name + "' is already registered");
  }

  /// Whether a layer named name is registered.
  bool has(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return makers_.count(name) != 0;
  }

  /// ConfigError for an unknown name or a spec its layer refuses; budget as
  /// in SpecReader.
  std::unique_ptr<Layer<T>> make(const std::string& line, double* budget = nullptr) const {
    const SpecReader s(line, budget);
    LayerMaker<T> make = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto it = makers_.find(s.name());
      if (it != makers_.end()) make = it->second;
    }
    SHALLOW_CHECK(make != nullptr, ConfigError,
                  "unknown layer '" + s.name() + "' in spec '" + line + "' (register it with register_layer)");
    return make(s);
  }

 private:
  LayerRegistry() {
    // The library's layers: one line each.
    const std::pair<const char*, LayerMaker<T>> builtin[] = {
        {"conv2d", &Conv2d<T>::from_spec},
        {"sequential_residual", &ResidualBlock<T>::from_spec},
        {"parallel_residual", &ResidualBlock<T>::from_spec},
        {"dense", &Dense<T>::from_spec},
        {"maxpool2d", &MaxPool2d<T>::from_spec},
        {"avgpool2d", &AvgPool2d<T>::from_spec},
        {"global_avgpool", &GlobalAvgPool<T>::from_spec},
        {"flatten", &Flatten<T>::from_spec},
        {"gelu", &GELU<T>::from_spec},
        {"batchnorm2d", &BatchNorm2d<T>::from_spec},
        {"patch_whitening", &PatchWhitening<T>::from_spec},
        {"dropout", &Dropout<T>::from_spec},
        {"identity", &ActivationLayer<T>::from_spec},
        {"relu", &ActivationLayer<T>::from_spec},
        {"leaky_relu", &ActivationLayer<T>::from_spec},
        {"tanh", &ActivationLayer<T>::from_spec},
        {"sigmoid", &ActivationLayer<T>::from_spec},
    };
    for (const auto& [name, make] : builtin) makers_.emplace(name, make);
  }

  mutable std::mutex mutex_;
  std::map<std::string, LayerMaker<T>> makers_;
};

/// Adds make under name to the registry of T, so specs naming it can be read; ConfigError when the name is taken or invalid.
template <class T>
void register_layer(const std::string& name, LayerMaker<T> make) {
  LayerRegistry<T>::instance().add(name, make);
}

/// One layer from its spec line (the inverse of Layer::spec()), with at
/// most max_spec_parameters.
template <class T = float>
std::unique_ptr<Layer<T>> make_layer(const std::string& line) {
  double budget = max_spec_parameters;
  return LayerRegistry<T>::instance().make(line, &budget);
}

/// A network from spec lines, one layer a line (the inverse of
/// Network::spec()), with at most max_parameters in all.
template <class T = float>
Network<T> make_network(const std::string& lines, double max_parameters = max_spec_parameters) {
  Network<T> net;
  double budget = max_parameters;
  std::istringstream in(lines);
  std::string line;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos)
      net.add(LayerRegistry<T>::instance().make(line, &budget));
  return net;
}

}  // namespace shallow
