// Small tanh networks on synthetic data and their xavier_normal starts, for the tests that run the
// flow models and descent on a network (test_modified_flow.cpp, test_flow_models.cpp).
#pragma once

#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>

#include <cstdint>

namespace gradflow::test {

// One hidden tanh layer of the given width on synthetic_data(n, d, data_seed).
inline Mlp tanh_network(long n, long d, long width, std::uint64_t data_seed) {
  const NetworkData data = synthetic_data(n, d, data_seed);
  MlpArchitecture a;
  a.input_dim = d;
  a.widths = {width};
  a.activation = Activation::tanh;
  return Mlp(a, data.x, data.y);
}

// f's parameters drawn by xavier_normal with this seed.
inline Vector xavier_start(const Mlp& f, std::uint64_t seed) {
  InitOptions init;
  init.scheme = InitScheme::xavier_normal;
  init.seed = seed;
  return initialize(f.architecture(), init);
}

}  // namespace gradflow::test
