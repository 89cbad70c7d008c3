/// @file
/// The StepRule concept: what a step-size rule of gradient descent is, and what it may use
/// (docs/theory.md §2). The four built-in rules (fixed_step.hpp, inverse_smoothness_step.hpp,
/// polyak_step.hpp, armijo_step.hpp) are instances; a user's rule is a struct of the same shape, passed
/// to the template descend<Rule>() of discrete/descend.hpp (examples/custom_step_rule.cpp adds a
/// step-decay schedule without touching the library). fixed_step.hpp is the one to copy.
///
/// A rule R is any type with
///   StepProposal propose(const StepInput& in, Vector& trial)   (const or not)
///       the step size eta_k for the iterate theta_k with loss L_k and gradient g_k; the next iterate is
///       theta_k - eta_k g_k. A rule that evaluates trial points (a line search) leaves the accepted one
///       in trial, with its loss in the proposal, so that the driver does not evaluate it again. eta <= 0
///       or non-finite means "no acceptable step" (Status::step_size_too_small).
///   RateGuarantee guarantee(const StepFacts& facts) const
///       the contraction q and the containment radius the theory gives for this rule with these
///       constants, or empty ones (and a note saying why): the driver checks the run against them.
/// and optionally
///   std::string name() const      (how reports name the rule; "custom" without it).
/// In C++ the concept is StepSizeRule (StepRule is the enumeration of the built-in rules, options.hpp).
#pragma once

#include <gradflow/core/objective.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <optional>
#include <string>

namespace gradflow {

/// The constants a rule's guarantee is stated in. beta_estimated marks a beta that is not the
/// problem's exact one (power iteration at theta0): a guarantee built on it is an estimate.
struct StepFacts {
  std::optional<double> mu;         ///< PL constant, > 0; empty when unknown
  std::optional<double> beta;       ///< smoothness constant, > 0; empty when unknown
  bool beta_estimated = false;      ///< beta is an estimate, not the problem's exact constant
  std::optional<double> min_value;  ///< L_min (KnownFacts::min_value); without it there is no bound
  double loss0 = 0.0;               ///< L0
};

/// L_{k+1} - L_min <= q (L_k - L_min) for every k, and ||theta_k - theta0|| (even the path length)
/// <= radius, when the rule's hypotheses hold; empty when the theory gives no such number.
struct RateGuarantee {
  std::optional<double> q;       ///< contraction factor per iteration, in [0, 1)
  std::optional<double> radius;  ///< containment radius
  std::string note;              ///< the formula used, or why there is no guarantee
};

/// The point the driver hands a rule.
struct StepInput {
  const Objective& objective;       ///< the objective (for a rule that evaluates trial points)
  const Vector& theta;              ///< the iterate theta_k
  double loss;                      ///< L_k = L(theta_k)
  const Vector& grad;               ///< g_k = grad L(theta_k)
  double grad_norm_squared;         ///< ||g_k||^2
  std::optional<double> min_value;  ///< L_min, when known
  long iter = 0;                    ///< k: the iterate theta_k is being stepped from
};

/// What a rule returns: the step size and, when it has evaluated theta - eta g, that point's loss
/// (the point itself is in the rule's trial vector).
struct StepProposal {
  double eta = 0.0;              ///< the step size eta_k; <= 0 or not finite: no acceptable step
  bool trial_evaluated = false;  ///< the rule left theta_k - eta g_k in trial, with its loss in trial_loss
  double trial_loss = 0.0;       ///< L(trial), when trial_evaluated
  long loss_evals = 0;           ///< loss-only evaluations spent by the rule
};

/// A step-size rule: propose() and a const guarantee() of the shapes above (see the file comment).
template <class R>
concept StepSizeRule = requires(R& rule, const R& const_rule, const StepInput& in, Vector& trial,
                                const StepFacts& facts) {
  { rule.propose(in, trial) } -> std::convertible_to<StepProposal>;
  { const_rule.guarantee(facts) } -> std::convertible_to<RateGuarantee>;
};

/// rho0 = sqrt(2 (L0 - L_min) / mu), the flow's travel bound (docs/theory.md §1.1); empty without mu
/// or L_min.
inline std::optional<double> flow_radius(const StepFacts& facts) {
  if (!facts.mu || !facts.min_value) return std::nullopt;
  return std::sqrt(2.0 * std::max(facts.loss0 - *facts.min_value, 0.0) / *facts.mu);
}

/// Whether a guarantee can be stated: mu, beta and L_min known; otherwise the note says what is missing.
inline bool has_guarantee_facts(const StepFacts& facts, RateGuarantee& g) {
  if (!facts.mu || !facts.beta) {
    g.note = "needs mu and beta";
    return false;
  }
  if (!facts.min_value) {
    g.note = "needs L_min (KnownFacts::min_value): the bound is stated relative to it";
    return false;
  }
  return true;
}

}  // namespace gradflow
