// The subproject's client: C++20 through the gradflow target, whatever the parent sets.
#include <gradflow/gradflow.hpp>

int main() {
  const gradflow::Karimi problem(3);
  gradflow::FlowOptions options{.t_end = 1.0, .stop = {.loss_tol = 1e-3}};
  return gradflow::simulate_flow(problem, gradflow::Vector::Ones(3), options).succeeded() ? 0 : 1;
}
