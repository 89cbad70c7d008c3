// A small client of the gradflow library: the gradient flow of a stiff quadratic, integrated with
// CVODE's BDF method and with dopri5, checked against the exact solution and the PL rate bound.
// Exits 0 when both runs succeed, stay under the bound and match the exact solution.
#include <gradflow/gradflow.hpp>

#include <cstdio>

int main() {
  const gradflow::Quadratic problem = gradflow::Quadratic::generated(50, 1e3, 1);
  const gradflow::Vector theta0 = gradflow::default_theta0(problem.dimension(), 1);

  bool ok = true;
  for (const gradflow::Solver solver : {gradflow::Solver::cvode_bdf, gradflow::Solver::dopri5}) {
    gradflow::FlowOptions options;
    options.solver = solver;
    options.t_end = 200.0;
    options.save.times = {10.0, 100.0, 200.0};
    const gradflow::FlowResult result = gradflow::simulate_flow(problem, theta0, options);
    const gradflow::Vector exact = problem.exact_flow(theta0, options.t_end);
    const double error = (result.theta - exact).norm() / exact.norm();
    std::printf("%s\n  relative error vs exact solution: %.3e\n", result.brief_report().c_str(), error);
    ok = ok && result.succeeded() && result.bound_holds.value_or(false) && error < 1e-5;
  }
  return ok ? 0 : 1;
}
