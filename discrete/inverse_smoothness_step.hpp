/// @file
/// Inverse-smoothness step: eta = 1/beta, the best fixed step of Theorem 2 (docs/theory.md §2.3, M1).
///
/// beta is the problem's exact smoothness constant when it has one; otherwise it is estimated by power
/// iteration on Hessian-vector products at theta0 (the largest |eigenvalue| of the Hessian there),
/// which is a local estimate, not a bound: the run then reports beta, and the guarantee built on it, as
/// estimated.
///
/// Guarantee: q = 1 - mu/beta, radius = 2 sqrt(2 (L0 - L_min) / mu).
#pragma once

#include <gradflow/discrete/fixed_step.hpp>

namespace gradflow {

/// The inverse-smoothness rule (StepRule::inverse_smoothness; see the file comment).
struct InverseSmoothnessStep {
  double beta;  ///< the smoothness constant that sets the step 1/beta (exact or estimated), > 0

  /// "inverse-smoothness".
  std::string name() const { return "inverse-smoothness"; }

  /// Always 1/beta, without evaluating anything.
  StepProposal propose(const StepInput&, Vector& /*trial*/) const { return {1.0 / beta, false, 0.0, 0}; }

  /// The fixed step's guarantee at eta = 1/beta, for the constants in facts (whose beta may differ from
  /// this rule's).
  RateGuarantee guarantee(const StepFacts& facts) const {
    RateGuarantee g = FixedStep::fixed_step_guarantee(1.0 / beta, facts);
    if (g.q) g.note = "eta = 1/beta: q = 1 - mu/beta, radius = 2 rho0";
    return g;
  }
};

}  // namespace gradflow
