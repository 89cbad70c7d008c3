// The network architectures the tests build: one helper instead of one per test file.
#pragma once

#include <gradflow/problems/mlp.hpp>

#include <utility>
#include <vector>

namespace gradflow::test {

// Input dimension d, hidden widths, activation, biases or not (the rest at MlpArchitecture's defaults).
inline MlpArchitecture mlp_architecture(Eigen::Index d, std::vector<Eigen::Index> widths,
                                        Activation activation = Activation::tanh, bool bias = false) {
  MlpArchitecture a;
  a.input_dim = d;
  a.widths = std::move(widths);
  a.activation = activation;
  a.bias = bias;
  return a;
}

}  // namespace gradflow::test
