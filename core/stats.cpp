#include <gradflow/core/stats.hpp>

namespace gradflow {

NamedValues stats_values(const Stats& s) {
  return {{"num_gradient_evals", static_cast<long long>(s.num_gradient_evals)},
          {"num_loss_evals", static_cast<long long>(s.num_loss_evals)},
          {"num_hessian_vector_evals", static_cast<long long>(s.num_hessian_vector_evals)},
          {"num_jacobian_evals", static_cast<long long>(s.num_jacobian_evals)},
          {"num_steps", static_cast<long long>(s.num_steps)},
          {"num_rejected_steps", static_cast<long long>(s.num_rejected_steps)},
          {"num_nonlinear_iters", static_cast<long long>(s.num_nonlinear_iters)},
          {"num_linear_iters", static_cast<long long>(s.num_linear_iters)},
          {"num_linear_setups", static_cast<long long>(s.num_linear_setups)},
          {"num_solver_switches", static_cast<long long>(s.num_solver_switches)},
          {"num_observe_hessian_vector_evals", static_cast<long long>(s.num_observe_hessian_vector_evals)},
          {"num_observe_gram_products", static_cast<long long>(s.num_observe_gram_products)},
          {"num_observe_gram_matrices", static_cast<long long>(s.num_observe_gram_matrices)},
          {"wall_seconds", s.wall_seconds}};
}

void add_counts(Stats& total, const Stats& part) {
  total.num_gradient_evals += part.num_gradient_evals;
  total.num_loss_evals += part.num_loss_evals;
  total.num_hessian_vector_evals += part.num_hessian_vector_evals;
  total.num_jacobian_evals += part.num_jacobian_evals;
  total.num_steps += part.num_steps;
  total.num_rejected_steps += part.num_rejected_steps;
  total.num_nonlinear_iters += part.num_nonlinear_iters;
  total.num_linear_iters += part.num_linear_iters;
  total.num_linear_setups += part.num_linear_setups;
  total.num_observe_hessian_vector_evals += part.num_observe_hessian_vector_evals;
  total.num_observe_gram_products += part.num_observe_gram_products;
  total.num_observe_gram_matrices += part.num_observe_gram_matrices;
  total.num_solver_switches += part.num_solver_switches;
}

}  // namespace gradflow
