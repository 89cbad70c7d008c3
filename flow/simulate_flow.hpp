/// @file
/// Entry point: integrate the gradient flow theta' = -grad L(theta), theta(0) = theta0, from t = 0 to
/// options.t_end (or to a stop condition) with the solver in options.solver.
///
///   gradflow::Quadratic problem = gradflow::Quadratic::generated(200, 1e4, 0);
///   gradflow::FlowOptions options;
///   options.solver = gradflow::Solver::cvode_bdf;
///   options.t_end = 5000;
///   gradflow::FlowResult result = gradflow::simulate_flow(problem, theta0, options);
///   if (result.succeeded()) ... result.rows, result.theta, result.bound_holds, result.stats
///
/// The observer is called at t = 0 and after every accepted step with the row there and the state
/// theta(t) (flow/trajectory.hpp); returning true stops the run. The one-argument form, which sees only the
/// row, is accepted too.
///
/// Numerical trouble (a CVODE flag, a step size underflow, a non-finite loss, gradient or gradient
/// norm) is reported in result.status and result.message, with result.theta the last good state; it
/// never throws. Invalid options give Status::invalid_options. Only a contract violation throws
/// std::invalid_argument: theta0 of the wrong dimension or with a non-finite entry. An exception thrown
/// by the objective or by a user callback (observer, row sink, event function) propagates, except
/// inside CVODE, where it becomes Status::backend_error. The caller's cancellation check
/// (core/cancellation.hpp) is polled after every accepted step, on every back end: when it asks to
/// stop, the run ends with Status::interrupted and the last accepted state (its row recorded).
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/flow/options.hpp>
#include <gradflow/flow/result.hpp>

namespace gradflow {

/// The gradient flow of objective from theta0 (p = objective.dimension() finite entries) with options;
/// observer (may be empty) sees every accepted step's row and state (see the file comment).
FlowResult simulate_flow(const Objective& objective, const Vector& theta0, const FlowOptions& options,
                         const Observer& observer = {});
/// The same with an observer that sees only the row.
FlowResult simulate_flow(const Objective& objective, const Vector& theta0, const FlowOptions& options,
                         const RowObserver& observer);

}  // namespace gradflow
