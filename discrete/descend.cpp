#include <gradflow/discrete/descend.hpp>

#include <gradflow/core/tolerances.hpp>

#include <gradflow/core/counting_objective.hpp>
#include <gradflow/discrete/armijo_step.hpp>
#include <gradflow/discrete/fixed_step.hpp>
#include <gradflow/discrete/inverse_smoothness_step.hpp>
#include <gradflow/discrete/polyak_step.hpp>
#include <gradflow/theory/power_iteration.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace gradflow {
namespace {

std::string format(const char* fmt, double a, double b = 0.0, double c = 0.0) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, fmt, a, b, c);
  return buffer;
}

// The iteration, for one rule. Vectors are allocated once, before the loop.
template <class Rule>
void iterate(const Rule& rule, const CountingObjective& f, const Vector& theta0, const DescentOptions& options,
             const DescentObserver& observer, DescentResult& r) {
  const Eigen::Index p = theta0.size();
  Vector theta = theta0, grad(p), next(p), next_grad(p), trial(p);
  double loss = f.loss_and_gradient(theta, grad);
  r.loss0 = loss;
  r.facts.loss0 = loss;
  r.guarantee = rule.guarantee(r.facts);
  if (options.ball_radius && r.guarantee.q) {
    // mu and beta hold on B(theta0, ball_radius) only: the iterates must provably stay inside it.
    if (!r.guarantee.radius || !(*r.guarantee.radius < *options.ball_radius)) {
      r.guarantee.q.reset();
      r.guarantee.radius.reset();
      r.guarantee.note = "the rule's radius does not fit in the ball B(theta0, " +
                         std::to_string(*options.ball_radius) + ") where mu and beta hold: no guarantee";
    }
  }
  const double excess0 = loss - r.min_value;
  const bool tolerance_enabled = options.loss_tol > 0.0 || options.grad_tol > 0.0;
  double q_power = 1.0;  // q^k
  // ||grad||^2, kept with grad: one pass over the gradient per iteration. Its finiteness is also the
  // check that every entry of the gradient is finite (a gradient whose squared norm overflows counts
  // as non-finite too).
  double grad_norm_squared = grad.squaredNorm();
  double t = 0.0, last_eta = 0.0;
  long k = 0;

  const auto bound_at = [&](double power) {
    return r.guarantee.q ? r.min_value + power * excess0 : std::numeric_limits<double>::quiet_NaN();
  };
  const auto make_row = [&]() {
    return DescentRow{k, t, loss, std::sqrt(grad_norm_squared), (theta - theta0).norm(), last_eta, bound_at(q_power)};
  };
  const auto finish = [&](Status status, std::string message) {
    r.status = status;
    r.message = std::move(message);
  };

  if (!std::isfinite(loss) || !grad.allFinite() || !std::isfinite(grad_norm_squared)) {
    finish(Status::non_finite_value, "the loss or gradient at theta0 is not finite");
  } else {
    r.rows.push_back(make_row());
    while (true) {
      const double grad_norm = std::sqrt(grad_norm_squared);
      const bool loss_ok = options.loss_tol <= 0.0 || loss <= options.loss_tol;
      const bool grad_ok = options.grad_tol <= 0.0 || grad_norm <= options.grad_tol;
      if (tolerance_enabled && loss_ok && grad_ok) {
        finish(Status::tolerance_reached, format("tolerance met at iteration %.0f: loss %.6e, ||grad L|| %.6e",
                                                 static_cast<double>(k), loss, grad_norm));
        break;
      }
      if (k >= options.max_iters) {
        if (tolerance_enabled) {
          finish(Status::max_steps, "max_iters = " + std::to_string(options.max_iters) +
                                        " iterations reached before the tolerance was met");
        } else {
          finish(Status::reached_max_iters, "ran max_iters = " + std::to_string(options.max_iters) + " iterations");
        }
        break;
      }
      if (grad_norm_squared == 0.0) {
        finish(Status::tolerance_reached, "the gradient is exactly zero: a stationary point");
        break;
      }
      const StepProposal proposal =
          rule.propose(StepInput{f, theta, loss, grad, grad_norm_squared, r.min_value}, trial);
      if (!(proposal.eta > 0.0) || !std::isfinite(proposal.eta)) {
        finish(Status::step_size_too_small,
               format("the step rule found no acceptable step at iteration %.0f (loss %.6e)", static_cast<double>(k),
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
      if (!std::isfinite(next_loss) || !std::isfinite(next_grad_norm_squared) || !std::isfinite(step_length) ||
          next_loss - r.min_value > options.divergence_factor * excess0) {
        finish(Status::diverged,
               format("the step with eta = %.6g at iteration %.0f gave loss %.6e", proposal.eta, static_cast<double>(k),
                      next_loss) +
                   " (non-finite, or above divergence_factor times L0); the result is the last finite iterate");
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
            !tolerances::rate_bound_holds(loss - r.min_value, q_power * excess0, 0.0,
                                          tolerances::kDescentBoundRoundoffUlps, r.loss0)) {
          r.first_bound_violation_iter = k;
        }
      }
      if (r.guarantee.radius && !r.first_radius_violation_iter &&
          !tolerances::radius_holds(r.path_length, *r.guarantee.radius, tolerances::kDescentRadiusRelative,
                                    tolerances::kDescentRadiusAbsolute)) {
        r.first_radius_violation_iter = k;
      }
      const bool save = k % options.save_every == 0;
      if (save || observer) {
        const DescentRow row = make_row();
        if (save) r.rows.push_back(row);
        if (observer && observer(row)) {
          finish(Status::stopped_by_observer, "the observer asked to stop");
          break;
        }
      }
    }
  }
  if (r.rows.empty() || r.rows.back().iter != k) {
    if (std::isfinite(loss)) r.rows.push_back(make_row());
  }
  r.theta = theta;
  r.iterations = k;
  r.t_final = t;
  r.loss_final = loss;
  r.grad_norm_final = grad.norm();
  r.dist_from_init = (theta - theta0).norm();
  if (r.guarantee.q) r.bound_holds = !r.first_bound_violation_iter.has_value();
  if (r.guarantee.radius) r.radius_holds = !r.first_radius_violation_iter.has_value();
  r.stats.num_steps = k;
}

}  // namespace

DescentResult descend(const Objective& objective, const Vector& theta0, const DescentOptions& options,
                      const DescentObserver& observer) {
  if (theta0.size() != objective.dimension()) {
    throw std::invalid_argument("descend(): theta0 has " + std::to_string(theta0.size()) +
                                " entries, the problem has dimension " + std::to_string(objective.dimension()));
  }
  if (!theta0.allFinite()) throw std::invalid_argument("descend(): theta0 has a non-finite entry");

  const auto start = std::chrono::steady_clock::now();
  DescentResult r;
  r.options = options;
  r.problem = objective.name();
  r.theta = theta0;
  if (const auto error = options.validate()) {
    r.status = Status::invalid_options;
    r.message = error->message();
    return r;
  }
  const CountingObjective f(objective);
  const KnownFacts known = objective.known();
  r.min_value = known.min_value;
  r.facts.min_value = known.min_value;
  r.facts.mu = options.mu ? options.mu : known.mu;
  r.facts.beta = options.beta ? options.beta : known.beta;

  switch (options.step) {
    case StepRule::fixed:
      r.step_size = options.lr;
      iterate(FixedStep{options.lr}, f, theta0, options, observer, r);
      break;
    case StepRule::inverse_smoothness: {
      if (!r.facts.beta) {
        const SmoothnessEstimate estimate = estimate_smoothness(f, theta0, options.seed);
        r.facts.beta = estimate.beta;
        r.facts.beta_estimated = true;
        if (!(estimate.beta > 0.0) || !std::isfinite(estimate.beta)) {
          r.status = Status::invalid_options;
          r.message = "inverse-smoothness: the power-iteration estimate of beta at theta0 is " +
                      std::to_string(estimate.beta) + "; give a fixed step instead";
          break;
        }
      }
      if (!(*r.facts.beta > 0.0)) {
        r.status = Status::invalid_options;
        r.message = "inverse-smoothness: beta = 0 (the loss is flat), no step 1/beta";
        break;
      }
      r.step_size = 1.0 / *r.facts.beta;
      iterate(InverseSmoothnessStep{*r.facts.beta}, f, theta0, options, observer, r);
      break;
    }
    case StepRule::polyak: {
      double gamma = 0.0;
      if (options.gamma) {
        gamma = *options.gamma;
      } else if (r.facts.mu && r.facts.beta) {
        gamma = 2.0 * *r.facts.mu / *r.facts.beta;
      } else {
        r.status = Status::invalid_options;
        r.message = "gamma: the default 2 mu / beta needs mu and beta, which problem '" + r.problem +
                    "' does not know; give gamma";
        break;
      }
      r.gamma = gamma;
      iterate(PolyakStep{gamma}, f, theta0, options, observer, r);
      break;
    }
    case StepRule::armijo:
      iterate(ArmijoStep{options.lr, options.armijo_b, options.armijo_c}, f, theta0, options, observer, r);
      break;
  }
  if (r.facts.beta_estimated) {
    r.guarantee.note += " [beta estimated by power iteration at theta0: an estimate, not a certificate]";
  }
  const EvaluationCounts& counts = f.counts();
  r.stats.num_gradient_evals = counts.num_gradient_evals;
  r.stats.num_loss_evals = counts.num_loss_evals;
  r.stats.num_hessian_vector_evals = counts.num_hessian_vector_evals;
  r.stats.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace gradflow
