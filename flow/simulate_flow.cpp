#include <gradflow/flow/simulate_flow.hpp>

#include <gradflow/core/callback_error.hpp>
#include <gradflow/core/counting_objective.hpp>
#include <gradflow/flow/detail/auto_switch.hpp>
#include <gradflow/flow/detail/run_state.hpp>
#include <gradflow/flow/detail/step_processor.hpp>

#include <chrono>
#include <cmath>
#include <optional>
#include <stdexcept>

namespace gradflow {
namespace {

std::string non_finite_at_start(double loss, const Vector& grad) {
  if (!std::isfinite(loss)) return "the loss at theta0 is not finite";
  if (!grad.allFinite()) return "the gradient at theta0 has a non-finite entry";
  return "the gradient at theta0 has finite entries but its norm overflows (||grad L|| > 1.3e154)";
}

// From the evaluated theta0 to the end of the back end's loop.
void start_and_run(detail::RunState& run, detail::TrajectoryMonitor& monitor, const FlowOptions& options,
                   const Vector& theta0, double loss0, const Vector& grad0) {
  if (!detail::finite_loss_and_gradient(loss0, grad0)) {
    run.finish(Status::non_finite_value, non_finite_at_start(loss0, grad0));
  } else {
    const Row row0 = monitor.make_row(0.0, theta0, loss0, grad0.norm());
    monitor.record(row0, theta0);
    if (monitor.has_events()) monitor.set_event_values(0.0, theta0, row0);
    if (monitor.tolerance_enabled() && monitor.tolerance_met(loss0, row0.grad_norm)) {
      monitor.add_hit(EventHit{"tolerance", 0, 0.0, theta0, row0, -1});
      run.finish(Status::tolerance_reached, detail::tolerance_message(options, 0.0, loss0, row0.grad_norm));
    } else if (monitor.observe(row0, theta0)) {
      run.finish(Status::stopped_by_observer, "the observer asked to stop at t = 0");
    } else if (options.solver == Solver::automatic) {
      detail::run_auto(run);
    } else if (is_cvode(options.solver)) {
      detail::run_cvode(run);
    } else {
      detail::run_odeint(run);
    }
  }
}

}  // namespace

FlowResult simulate_flow(const Objective& objective, const Vector& theta0, const FlowOptions& options,
                         const Observer& observer) {
  const auto start = std::chrono::steady_clock::now();
  FlowResult result;
  result.options = options;
  if (!begin_run(result, "simulate_flow", objective, theta0, options.validate(), options.observe)) return result;

  const CountingObjective counted(objective);
  GradientFlowField field(counted);
  const KnownFacts facts = resolved_facts(objective);
  result.min_value = facts.min_value;
  result.mu = options.mu ? options.mu : facts.mu;

  Vector grad0(theta0.size());
  double loss0 = 0.0;
  try {
    loss0 = field.loss_and_gradient(theta0, grad0);
  } catch (const CallbackError& e) {
    result.status = Status::callback_error;
    result.message = std::string("the objective ended the run at theta0: ") + e.what();
    result.stats.num_gradient_evals = counted.counts().num_gradient_evals;
    return result;
  }
  result.loss0 = loss0;
  detail::TrajectoryMonitor monitor(options, theta0, loss0, facts.min_value, result.mu, &observer, start);
  // The observables see the problem itself: their evaluations are counted apart (Stats::num_observe_*).
  std::optional<PathObserver> path_observer;
  if (options.observe.any()) {
    path_observer.emplace(objective, options.observe);
    monitor.set_path_observer(&*path_observer);
  }
  detail::RunState run(options, field, monitor);
  run.theta = theta0;
  run.grad = grad0;
  run.loss = loss0;
  DenseOutput dense;
  if (options.save.dense) {
    dense.start(0.0, theta0);
    run.dense = &dense;
  }

  try {
    start_and_run(run, monitor, options, theta0, loss0, grad0);
  } catch (const CallbackError& e) {
    // An odeint back end or a callback at t = 0: run holds the last accepted state, consistent (it is
    // updated all at once after a step). CVODE catches it in its callbacks and finishes the run itself.
    run.finish(Status::callback_error, e.what());
  }

  // The final point is always a row (the last good one after a failure), except after a CallbackError:
  // the callbacks that a row calls (the row sink) are not called again once one of them has refused.
  if (run.status != Status::callback_error && detail::finite_loss_and_gradient(run.loss, run.grad)) {
    monitor.record(monitor.make_row(run.t, run.theta, run.loss, run.grad.norm()), run.theta);
  }
  result.status = run.status;
  result.message = run.message;
  if (!run.stiffness_hint.empty()) {
    result.stiffness_hint = run.stiffness_hint;
    result.message += "; " + run.stiffness_hint;
  }
  result.solver_switches = run.switches;
  run.stats.num_solver_switches = static_cast<long>(run.switches.size());
  if (!run.switches.empty()) {
    result.message += "; switched solver " + std::to_string(run.switches.size()) + " time" +
                      (run.switches.size() == 1 ? "" : "s") + " (first to " +
                      std::string(to_string(run.switches.front().to)) +
                      " at t = " + std::to_string(run.switches.front().t) + ")";
  }
  if (!run.departure.empty()) {
    result.flow_departure = run.departure;
    result.message += "; " + run.departure;
  }
  result.t_final = run.t;
  result.theta = run.theta;
  result.loss_final = run.loss;
  result.grad_norm_final = run.grad.norm();
  result.dist_from_init = (run.theta - theta0).norm();
  result.path_length = run.path_length;
  result.states = monitor.states();
  result.rows = std::move(monitor.rows());
  result.event_hits = std::move(monitor.hits());
  if (options.save.dense) result.dense = std::move(dense);
  result.stats = run.stats;
  // A run that did not advance checked nothing: no verdict (docs/theory.md §1.2). Nor did one whose
  // steps never changed theta although the gradient there is not zero (steps below the resolution of
  // the state: a stall, whatever t crept to).
  const bool did_not_move = grad0.squaredNorm() > 0.0 && run.theta == theta0;
  if (!(run.t == 0.0 && run.stats.num_steps == 0) && !did_not_move) {
    result.bound_holds = monitor.bound_holds();
    result.first_bound_violation_t = monitor.first_violation();
    result.radius_holds = monitor.radius_holds();
    result.first_radius_violation_t = monitor.first_radius_violation();
  }
  const EvaluationCounts& counts = counted.counts();
  result.stats.num_gradient_evals = counts.num_gradient_evals;
  result.stats.num_loss_evals = counts.num_loss_evals;
  result.stats.num_hessian_vector_evals = counts.num_hessian_vector_evals;
  if (!is_cvode(options.solver)) result.stats.num_jacobian_evals = counts.num_hessian_evals;
  add_observe_counts(result.stats, monitor.observe_counts());
  report_identity_violation(result, monitor.identity_violation());
  result.stats.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

FlowResult simulate_flow(const Objective& objective, const Vector& theta0, const FlowOptions& options,
                         const RowObserver& observer) {
  return simulate_flow(objective, theta0, options, observer_of(observer));
}

}  // namespace gradflow
