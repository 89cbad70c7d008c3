#include <gradflow/discrete/descend.hpp>

#include <gradflow/discrete/armijo_step.hpp>
#include <gradflow/discrete/fixed_step.hpp>
#include <gradflow/discrete/inverse_smoothness_step.hpp>
#include <gradflow/discrete/polyak_step.hpp>
#include <gradflow/theory/power_iteration.hpp>

#include <cstdio>
#include <stdexcept>

namespace gradflow {
namespace descent_internal {

std::string message(const char* fmt, double a, double b, double c) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, fmt, a, b, c);
  return buffer;
}

DescentResult start(const Objective& objective, const ConstVectorView& theta0, const DescentOptions& options) {
  DescentResult r;
  r.options = options;
  r.rule = std::string(to_string(options.step));
  if (!begin_run(r, "descend", objective, theta0, options.validate(), options.observe)) return r;
  const KnownFacts known = resolved_facts(objective);
  r.min_value = known.min_value;
  r.facts.min_value = known.min_value;
  r.facts.mu = options.mu ? options.mu : known.mu;
  r.facts.beta = options.beta ? options.beta : known.beta;
  return r;
}

void finish(DescentResult& r, const EvaluationCounts& counts, std::chrono::steady_clock::time_point started) {
  if (r.facts.beta_estimated) {
    r.guarantee.note += " [beta estimated by power iteration at theta0: an estimate, not a certificate]";
  }
  r.stats.num_gradient_evals = counts.num_gradient_evals;
  r.stats.num_loss_evals = counts.num_loss_evals;
  r.stats.num_hessian_vector_evals = counts.num_hessian_vector_evals;
  r.stats.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

}  // namespace descent_internal

// The built-in rules, set up from the options (the step of fixed, beta of inverse-smoothness, gamma of
// Polyak), then through the same iteration as descend<Rule>().
DescentResult descend(const Objective& objective, const Vector& theta0, const DescentOptions& options,
                      const Observer& observer) {
  const auto started = std::chrono::steady_clock::now();
  DescentResult r = descent_internal::start(objective, theta0, options);
  if (r.status == Status::invalid_options) return r;
  const CountingObjective f(objective);

  switch (options.step) {
    case StepRule::fixed: {
      r.step_size = options.lr;
      FixedStep rule{options.lr};
      descent_internal::iterate(rule, f, theta0, options, observer, r, started);
      break;
    }
    case StepRule::inverse_smoothness: {
      if (!r.facts.beta) {
        SmoothnessEstimate estimate;
        try {
          estimate = estimate_smoothness(f, theta0, options.seed);
        } catch (const CallbackError& e) {
          r.status = Status::callback_error;
          r.message = std::string("the objective ended the run during the estimate of beta: ") + e.what();
          break;
        }
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
      InverseSmoothnessStep rule{*r.facts.beta};
      descent_internal::iterate(rule, f, theta0, options, observer, r, started);
      break;
    }
    case StepRule::polyak: {
      if (!r.min_value) {
        r.status = Status::invalid_options;
        r.message = "polyak: the step gamma (L - L_min) / ||g||^2 needs L_min, which problem '" + r.problem +
                    "' does not know (KnownFacts::min_value); choose another step rule";
        break;
      }
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
      PolyakStep rule{gamma};
      descent_internal::iterate(rule, f, theta0, options, observer, r, started);
      break;
    }
    case StepRule::armijo: {
      ArmijoStep rule{options.lr, options.armijo_b, options.armijo_c};
      descent_internal::iterate(rule, f, theta0, options, observer, r, started);
      break;
    }
  }
  descent_internal::finish(r, f.counts(), started);
  return r;
}

DescentResult descend(const Objective& objective, const Vector& theta0, const DescentOptions& options,
                      const RowObserver& observer) {
  return descend(objective, theta0, options, observer_of(observer));
}

}  // namespace gradflow
