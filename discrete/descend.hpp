/// @file
/// Entry point: gradient descent theta_{k+1} = theta_k - eta_k grad L(theta_k) from theta0, compared at
/// every iteration with the rule's guaranteed contraction L_k - L_min <= q^k (L0 - L_min) and
/// containment radius (docs/theory.md §2).
///
///   gradflow::DescentOptions options;
///   options.step = gradflow::StepRule::inverse_smoothness;
///   gradflow::DescentResult result = gradflow::descend(problem, theta0, options);
///
/// With a step rule of one's own (any type of the StepRule concept, discrete/step_rule.hpp):
///
///   gradflow::DescentResult result = gradflow::descend(problem, theta0, MyRule{...}, options);
///
/// The built-in rules go through the same template (descend<FixedStep>, ...); options.step and the
/// rule parameters of options (lr, gamma, armijo_b, armijo_c) are then not used.
///
/// A step costs one gradient evaluation (Armijo adds one loss evaluation per trial) and allocates
/// nothing. The observer is called at k = 0 and after every iteration with the row and the iterate.
/// Events (options.events) are checked at every iterate. A loss, gradient or gradient norm that is not
/// finite ends the run with Status::non_finite_value; a loss above divergence_factor times L0 (its excess
/// over L_min) with Status::diverged; both keep the last finite iterate and name the offending step
/// size. Invalid options give Status::invalid_options. A CallbackError (core/callback_error.hpp) thrown by
/// the objective, an event function, the observer or the row sink ends the run with
/// Status::callback_error and the last accepted iterate. The caller's cancellation check
/// (core/cancellation.hpp) is polled after every iteration: when it asks to stop, the run ends with
/// Status::interrupted and the last iterate (its row recorded). Only a contract violation throws
/// std::invalid_argument: theta0 of the wrong dimension or with a non-finite entry.
#pragma once

#include <gradflow/core/callback_error.hpp>
#include <gradflow/core/cancellation.hpp>
#include <gradflow/core/counting_objective.hpp>
#include <gradflow/core/objective.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/core/tolerances.hpp>
#include <gradflow/discrete/options.hpp>
#include <gradflow/discrete/result.hpp>
#include <gradflow/discrete/step_rule.hpp>
#include <gradflow/flow/recorder.hpp>
#include <gradflow/theory/observables.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gradflow {

/// Descent from theta0 (p = objective.dimension() finite entries) with the built-in rule options.step and
/// its parameters; observer (may be empty) sees every iteration's row and iterate (see the file comment).
DescentResult descend(const Objective& objective, const Vector& theta0, const DescentOptions& options,
                      const Observer& observer = {});
/// The same with an observer that sees only the row.
DescentResult descend(const Objective& objective, const Vector& theta0, const DescentOptions& options,
                      const RowObserver& observer);

/// What the template below shares with the library (discrete/descend.cpp).
namespace descent_internal {

/// Checks theta0 (throws std::invalid_argument) and the options (status invalid_options), and fills in
/// the options, the problem's name, L_min and the facts mu and beta (options first, then the problem's).
DescentResult start(const Objective& objective, const ConstVectorView& theta0, const DescentOptions& options);
/// The counters and the wall time, at the end.
void finish(DescentResult& r, const EvaluationCounts& counts, std::chrono::steady_clock::time_point started);
/// std::snprintf(fmt, a, b, c) as a string (at most 255 characters): the run's messages with their numbers.
std::string message(const char* fmt, double a, double b = 0.0, double c = 0.0);

/// The sign of a change of g from a to b that the direction admits (as for the flow's events).
inline bool event_crossed(double a, double b, int direction) {
  if (a > 0.0 && b <= 0.0 && direction <= 0) return true;
  if (a < 0.0 && b >= 0.0 && direction >= 0) return true;
  return false;
}

/// The iteration for one rule; r comes from start(). Vectors are allocated once, before the loop.
template <class Rule>
void iterate(Rule& rule, const CountingObjective& f, const ConstVectorView& theta0, const DescentOptions& options,
             const Observer& observer, DescentResult& r, std::chrono::steady_clock::time_point started) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  const Eigen::Index p = theta0.size();
  Vector theta = theta0, grad(p), next(p), next_grad(p), trial(p);
  double loss = kNaN;
  try {
    loss = f.loss_and_gradient(theta, grad);
  } catch (const CallbackError& e) {
    r.status = Status::callback_error;
    r.message = std::string("the objective ended the run at theta0: ") + e.what();
    r.theta = theta;
    return;
  }
  r.loss0 = loss;
  r.facts.loss0 = loss;
  r.guarantee = rule.guarantee(r.facts);
  if (r.guarantee.q && !r.min_value) {
    r.guarantee.q.reset();
    r.guarantee.note = "L_min is unknown (KnownFacts::min_value): no bound";
  }
  if (options.ball_radius && r.guarantee.q) {
    // mu and beta hold on B(theta0, ball_radius) only: the iterates must provably stay inside it.
    if (!r.guarantee.radius || !(*r.guarantee.radius < *options.ball_radius)) {
      r.guarantee.q.reset();
      r.guarantee.radius.reset();
      r.guarantee.note = "the rule's radius does not fit in the ball B(theta0, " +
                         std::to_string(*options.ball_radius) + ") where mu and beta hold: no guarantee";
    }
  }
  const std::optional<double> min_value = r.min_value;
  const double excess0 = min_value ? loss - *min_value : kNaN;
  // Divergence is measured on the excess over L_min, or on the growth over L0 when L_min is unknown.
  const double divergence_level = min_value ? *min_value + options.divergence_factor * excess0
                                            : loss + options.divergence_factor * std::max(std::abs(loss), 1e-300);
  const Stop& stop = options.stop;
  const bool tolerance_enabled = stop.tolerance_enabled();
  const long max_iters = max_steps(stop, RunKind::descent);
  const bool has_events = !options.events.empty();
  double q_power = 1.0;  // q^k
  // ||grad||^2, kept with grad: one pass over the gradient per iteration. It is finite exactly when
  // every entry is and the norm does not overflow.
  double grad_norm_squared = grad.squaredNorm();
  double t = 0.0, last_eta = 0.0;
  long k = 0;
  // The observables see the problem itself: their work is counted apart (Stats::num_observe_*).
  std::optional<PathObserver> path_observer;
  if (options.observe.any()) path_observer.emplace(f.inner(), options.observe);
  RowRecorder keeper(options.save, RunKind::descent, p, path_observer ? &*path_observer : nullptr);
  const RowMaker maker(theta0, min_value);
  std::vector<double> event_values(options.events.size());

  const auto bound_at = [&](double power) { return r.guarantee.q ? *min_value + power * excess0 : kNaN; };
  const auto make_row = [&]() {
    Row row = maker.make(t, theta, loss, std::sqrt(grad_norm_squared));
    row.pl_ratio = maker.pl_ratio(loss, grad_norm_squared);  // from ||g||^2 itself, not its rounded root squared
    row.iter = k;
    row.step_size = last_eta;
    row.bound = bound_at(q_power);
    return row;
  };
  const auto done = [&](Status status, std::string text) {
    r.status = status;
    r.message = std::move(text);
  };

  try {
    if (!std::isfinite(loss) || !std::isfinite(grad_norm_squared)) {
      done(Status::non_finite_value, !std::isfinite(loss) ? "the loss at theta0 is not finite"
                                     : !grad.allFinite()  ? "the gradient at theta0 has a non-finite entry"
                                                          : "the gradient at theta0 has finite entries but its norm "
                                                            "overflows (||grad L|| > 1.3e154)");
    } else {
      const Row row0 = keeper.record(make_row(), theta);
      for (std::size_t i = 0; i < event_values.size(); ++i) event_values[i] = options.events[i].g(t, theta, row0);
      if (observer && observer(row0, theta)) done(Status::stopped_by_observer, "the observer asked to stop at k = 0");
      while (r.status == Status::not_run) {
        const double grad_norm = std::sqrt(grad_norm_squared);
        const bool loss_ok = stop.loss_tol <= 0.0 || loss <= stop.loss_tol;
        const bool grad_ok = stop.grad_tol <= 0.0 || grad_norm <= stop.grad_tol;
        if (tolerance_enabled && loss_ok && grad_ok) {
          done(Status::tolerance_reached, message("tolerance met at iteration %.0f: loss %.6e, ||grad L|| %.6e",
                                                  static_cast<double>(k), loss, grad_norm));
          break;
        }
        if (k >= max_iters) {
          if (tolerance_enabled) {
            done(Status::max_steps,
                 "max_iters = " + std::to_string(max_iters) + " iterations reached before the tolerance was met");
          } else {
            done(Status::reached_max_iters, "ran max_iters = " + std::to_string(max_iters) + " iterations");
          }
          break;
        }
        if (grad_norm_squared == 0.0) {
          done(Status::tolerance_reached, "the gradient is exactly zero: a stationary point");
          break;
        }
        const StepProposal proposal =
            rule.propose(StepInput{f, theta, loss, grad, grad_norm_squared, min_value, k}, trial);
        if (!(proposal.eta > 0.0) || !std::isfinite(proposal.eta)) {
          done(Status::step_size_too_small,
               message("the step rule found no acceptable step at iteration %.0f (loss %.6e)", static_cast<double>(k),
                       loss));
          break;
        }
        if (proposal.trial_evaluated) {
          next.swap(trial);
        } else {
          next.noalias() = theta - proposal.eta * grad;
        }
        const double next_loss = f.loss_and_gradient(next, next_grad);
        const double next_grad_norm_squared = next_grad.squaredNorm();
        const double step_length = (next - theta).norm();  // not finite when next has a non-finite entry
        if (!std::isfinite(next_loss) || !std::isfinite(next_grad_norm_squared) || !std::isfinite(step_length)) {
          done(Status::non_finite_value,
               message("the step with eta = %.6g at iteration %.0f gave a non-finite loss, gradient or gradient norm "
                       "(loss %.6e)",
                       proposal.eta, static_cast<double>(k), next_loss) +
                   "; the result is the last finite iterate");
          break;
        }
        if (next_loss > divergence_level) {
          done(Status::diverged, message("the step with eta = %.6g at iteration %.0f gave loss %.6e", proposal.eta,
                                         static_cast<double>(k), next_loss) +
                                     " (above divergence_factor times L0); the result is the last finite iterate");
          break;
        }
        r.path_length += step_length;
        theta.swap(next);
        grad.swap(next_grad);
        grad_norm_squared = next_grad_norm_squared;
        loss = next_loss;
        t += proposal.eta;
        last_eta = proposal.eta;
        ++k;
        if (r.guarantee.q) {
          q_power *= *r.guarantee.q;
          // The round-off floor of the verdict: the loss is only known to a few ulps of L0.
          if (!r.first_bound_violation_iter &&
              !tolerances::rate_bound_holds(loss - *min_value, q_power * excess0, 0.0,
                                            tolerances::kDescentBoundRoundoffUlps, r.loss0)) {
            r.first_bound_violation_iter = k;
          }
        }
        if (r.guarantee.radius && !r.first_radius_violation_iter &&
            !tolerances::radius_holds(r.path_length, *r.guarantee.radius, tolerances::kDescentRadiusRelative,
                                      tolerances::kDescentRadiusAbsolute)) {
          r.first_radius_violation_iter = k;
        }
        const bool save = k % options.save.every_steps == 0;
        if (save || observer || has_events) {
          Row row = make_row();
          if (save) row = keeper.record(row, theta);
          for (std::size_t i = 0; i < event_values.size(); ++i) {
            const Event& event = options.events[i];
            const double value = event.g(t, theta, row);
            const bool crossed = event_crossed(event_values[i], value, event.direction);
            event_values[i] = value;
            if (!crossed) continue;
            r.event_hits.push_back(EventHit{event.name, k, t, theta, row, static_cast<int>(i)});
            if (event.terminal && r.status == Status::not_run) {
              done(Status::event_stop, "terminal event '" + event.name + "' at iteration " + std::to_string(k));
            }
          }
          if (r.status != Status::not_run) break;
          if (observer && observer(row, theta)) {
            done(Status::stopped_by_observer, "the observer asked to stop");
            break;
          }
        }
        if (stop.max_wall_seconds > 0.0 &&
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() >=
                stop.max_wall_seconds) {
          done(Status::time_limit,
               "the wall-time budget stop.max_wall_seconds = " + format_number("%g", stop.max_wall_seconds) +
                   " s ran out at iteration " + std::to_string(k));
          break;
        }
        if (cancellation_requested()) {
          done(Status::interrupted,
               "interrupted at iteration " + std::to_string(k) + " (the cancellation check asked to stop)");
          break;
        }
      }
    }
  } catch (const CallbackError& e) {
    // theta, loss and grad change together after a step is taken: they are the last accepted iterate.
    done(Status::callback_error, e.what());
  }
  if (!(keeper.recorded_any() && keeper.last().iter == k) && r.status != Status::callback_error &&
      std::isfinite(loss) && std::isfinite(grad_norm_squared)) {
    keeper.record(make_row(), theta);
  }
  r.states = keeper.states();
  r.rows = std::move(keeper.rows());
  r.theta = theta;
  r.iterations = k;
  r.t_final = t;
  r.loss_final = loss;
  r.grad_norm_final = grad.norm();
  r.dist_from_init = (theta - theta0).norm();
  // A run without an iteration checked nothing: no verdict.
  if (r.guarantee.q && k > 0) r.bound_holds = !r.first_bound_violation_iter.has_value();
  if (r.guarantee.radius && k > 0) r.radius_holds = !r.first_radius_violation_iter.has_value();
  r.stats.num_steps = k;
  add_observe_counts(r.stats, keeper.observe_counts());
  report_identity_violation(r, keeper.identity_violation());
}

/// rule.name() when the rule has one, else "custom" (DescentResult::rule).
template <class Rule>
std::string rule_name(const Rule& rule) {
  if constexpr (requires { rule.name(); }) {
    return std::string(rule.name());
  } else {
    return "custom";
  }
}

}  // namespace descent_internal

/// Descent with any step rule of the StepRule concept (discrete/step_rule.hpp). mu and beta for the
/// rule's guarantee: options.mu and options.beta, else the problem's exact ones (no estimate is made).
template <StepSizeRule Rule>
DescentResult descend(const Objective& objective, ConstVectorView theta0, Rule rule, const DescentOptions& options,
                      Observer observer = {}) {
  const auto started = std::chrono::steady_clock::now();
  DescentResult r = descent_internal::start(objective, theta0, options);
  r.rule = descent_internal::rule_name(rule);
  if (r.status == Status::invalid_options) return r;
  const CountingObjective f(objective);
  descent_internal::iterate(rule, f, theta0, options, observer, r, started);
  descent_internal::finish(r, f.counts(), started);
  return r;
}

/// The same with an observer that sees only the row.
template <StepSizeRule Rule>
DescentResult descend(const Objective& objective, ConstVectorView theta0, Rule rule, const DescentOptions& options,
                      const RowObserver& observer) {
  return descend(objective, theta0, std::move(rule), options, observer_of(observer));
}

}  // namespace gradflow
