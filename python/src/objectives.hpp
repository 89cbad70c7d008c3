// The objectives of the module: the built-ins (Quadratic, LeastSquares, Karimi, Rosenbrock, MLP), Python
// losses (Function) and events (Event).
#pragma once

#include "callbacks.hpp"

#include <gradflow/discrete/flow_models.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace gradflow::python {

struct PyQuadratic : PyObjective {};
struct PyLeastSquares : PyObjective {};
struct PyKarimi : PyObjective {};
struct PyRosenbrock : PyObjective {};
// The network, held both as the objective and as what it is (no cast to reach it).
struct PyMlp : PyObjective {
  std::shared_ptr<Mlp> network;
  const Mlp& mlp() const {
    if (!network) not_initialized("this network");
    return *network;
  }
};

// An initialization (scheme by name, seed, output scale > 0); ValueError naming the keyword otherwise.
InitOptions init_options(const std::string& name, std::uint64_t seed, double output_scale);

// The flow model named model (plain, modified, central, edge); ValueError naming the known ones otherwise.
FlowModel flow_model_named(const std::string& model);

void bind_objectives(py::module_& m);

}  // namespace gradflow::python
