/// @file
/// Work counters shared by every back end. Evaluations are counted by a CountingObjective wrapped
/// around the problem, so they include every evaluation a run made (stepping, rows, stop checks).
#pragma once

#include <gradflow/core/named_value.hpp>

namespace gradflow {

/// Work counters of one run (evaluations, steps, solver iterations) and its wall-clock time.
struct Stats {
  long num_gradient_evals = 0;        ///< gradient (or loss and gradient) evaluations
  long num_loss_evals = 0;            ///< loss-only evaluations
  long num_hessian_vector_evals = 0;  ///< Hessian-vector products (CVODE's Krylov Jacobian-times-vector)
  long num_jacobian_evals = 0;        ///< Jacobian (-Hessian) evaluations or approximations by CVODE
  long num_steps = 0;                 ///< accepted steps
  long num_rejected_steps = 0;        ///< steps rejected by error test or nonlinear-solver failure
  long num_nonlinear_iters = 0;       ///< CVODE's nonlinear (Newton or fixed-point) iterations
  long num_linear_iters = 0;          ///< CVODE's Krylov iterations
  long num_linear_setups = 0;         ///< CVODE's linear solver setups: a factorization each for cvode-bdf (an LU of
                                      ///< I - gamma J; with an exact Hessian, a factorization of I + gamma H or,
                                      ///< for a constant Hessian, its one eigendecomposition)
  /// The observables of FlowOptions::observe / DescentOptions::observe (theory/observables.hpp), counted
  /// apart from the run's own evaluations above:
  long num_observe_hessian_vector_evals = 0;  ///< Hessian-vector products of the sharpness
  long num_observe_gram_products = 0;         ///< products J (J^T v) of the ntk
  long num_observe_gram_matrices = 0;         ///< dense Gram matrices J J^T formed and decomposed
  double wall_seconds = 0.0;                  ///< wall-clock time of the run
  long num_solver_switches = 0;               ///< solver auto: hand-overs between dopri5 and BDF
                                              ///< (FlowResult::solver_switches)
};

/// Every counter by its member's name ("num_gradient_evals", ..., "wall_seconds"): the "stats" of the
/// JSON summaries and of the Python results.
NamedValues stats_values(const Stats& stats);

/// Adds every counter of part to total (not wall_seconds: the caller times the whole): the work of a run
/// made of several runs (descent against its flows, solver auto's segments).
void add_counts(Stats& total, const Stats& part);

}  // namespace gradflow
