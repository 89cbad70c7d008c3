// The problems the benchmarks share, built once (seeded, so every run measures the same data).
#pragma once

#include <gradflow/apps/problem_factory.hpp>
#include <gradflow/core/objective.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/karimi.hpp>
#include <gradflow/problems/least_squares.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/problems/quadratic.hpp>
#include <gradflow/problems/rosenbrock.hpp>

#include <map>
#include <memory>
#include <string>

namespace gradflow::bench {

// The benchmarks' network: n = 32, d = 64, width 64, tanh.
inline const Mlp& network() {
  static const Mlp mlp = [] {
    MlpArchitecture arch;
    arch.input_dim = 64;
    arch.widths = {64};
    arch.activation = Activation::tanh;
    const NetworkData data = synthetic_data(32, 64, 0);
    return Mlp(arch, data.x, data.y);
  }();
  return mlp;
}

// The flow and descent benchmark problems by name: quadratic-1e2, quadratic-1e4, quadratic-1e6
// (p = 200), least-squares (n = 100, p = 200), karimi (p = 200), mlp (network() above).
inline const Objective& problem(const std::string& name) {
  if (name == "mlp") return network();
  static std::map<std::string, std::unique_ptr<Objective>> cache;
  auto& slot = cache[name];
  if (!slot) {
    if (name == "quadratic-1e2") slot = std::make_unique<Quadratic>(Quadratic::generated(200, 1e2, 0));
    if (name == "quadratic-1e4") slot = std::make_unique<Quadratic>(Quadratic::generated(200, 1e4, 0));
    if (name == "quadratic-1e6") slot = std::make_unique<Quadratic>(Quadratic::generated(200, 1e6, 0));
    if (name == "least-squares") {
      Random random(7);
      slot =
          std::make_unique<LeastSquares>(random.normal_matrix(100, 200) / std::sqrt(200.0), random.normal_vector(100));
    }
    if (name == "karimi") slot = std::make_unique<Karimi>(200);
  }
  return *slot;
}

// The starting point: xavier_normal for the network, seeded N(0, I) otherwise.
inline Vector start(const std::string& name) {
  if (name == "mlp") {
    InitOptions init;
    init.scheme = InitScheme::xavier_normal;
    return initialize(network().architecture(), init);
  }
  return default_theta0(problem(name).dimension(), 0);
}

}  // namespace gradflow::bench
