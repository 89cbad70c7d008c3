// What every step-size rule shares: the facts it may use (mu, beta, L_min, L0) and the guarantee it
// carries (docs/theory.md §2). Each rule is a small policy type in its own header, stating its
// formula and its rate; fixed_step.hpp is the one to copy for a new rule.
//
// A rule proposes the step size eta_k for the iterate theta_k with loss L_k and gradient g_k. The
// next iterate is theta_k - eta_k g_k. A rule that evaluates trial points (a line search) leaves the
// accepted one in `trial`, with its loss, so that the driver does not evaluate it again.
#pragma once

#include <gradflow/core/objective.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

namespace gradflow {

// The constants a rule's guarantee is stated in. beta_estimated marks a beta that is not the
// problem's exact one (power iteration at theta0): a guarantee built on it is an estimate.
struct StepFacts {
  std::optional<double> mu;
  std::optional<double> beta;
  bool beta_estimated = false;
  double min_value = 0.0;  // L_min
  double loss0 = 0.0;      // L0
};

// L_{k+1} - L_min <= q (L_k - L_min) for every k, and ||theta_k - theta0|| (even the path length)
// <= radius, when the rule's hypotheses hold; empty when the theory gives no such number.
struct RateGuarantee {
  std::optional<double> q;       // contraction factor per iteration, in [0, 1)
  std::optional<double> radius;  // containment radius
  std::string note;              // the formula used, or why there is no guarantee
};

// The point the driver hands a rule.
struct StepInput {
  const Objective& objective;
  const Vector& theta;
  double loss;
  const Vector& grad;
  double grad_norm_squared;
  double min_value;  // L_min
};

// What a rule returns: the step size and, when it has evaluated theta - eta g, that point's loss
// (the point itself is in the rule's trial vector).
struct StepProposal {
  double eta = 0.0;
  bool trial_evaluated = false;
  double trial_loss = 0.0;
  long loss_evals = 0;  // loss-only evaluations spent by the rule
};

// rho0 = sqrt(2 (L0 - L_min) / mu), the flow's travel bound (docs/theory.md §1.1).
inline std::optional<double> flow_radius(const StepFacts& facts) {
  if (!facts.mu) return std::nullopt;
  return std::sqrt(2.0 * std::max(facts.loss0 - facts.min_value, 0.0) / *facts.mu);
}

}  // namespace gradflow
