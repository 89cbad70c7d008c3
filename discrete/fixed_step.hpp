/// @file
/// Fixed step: eta_k = eta (--lr).
///
/// Guarantee (docs/theory.md §2.2, Theorem 2; the rule M2 of §2.4): if L is mu-PL and beta-smooth on
/// the ball of radius rho_eta around theta0 and 0 < eta < 2/beta, then
///   L_{k+1} - L_min <= q(eta) (L_k - L_min),  q(eta) = 1 - mu eta (2 - beta eta),
/// and every iterate, indeed the whole path, stays within
///   rho_eta = sqrt(2 (L0 - L_min) / mu) / (1 - beta eta / 2).
/// The best fixed step is eta = 1/beta (q = 1 - mu/beta, radius 2 rho0). For eta >= 2/beta there is
/// no guarantee, and on a quadratic descent diverges.
///
/// This is the template for a new rule: a struct with propose() and guarantee() (the StepRule concept,
/// discrete/step_rule.hpp).
#pragma once

#include <gradflow/discrete/step_rule.hpp>

namespace gradflow {

/// The fixed-step rule (StepRule::fixed; see the file comment).
struct FixedStep {
  double eta;  ///< the step size, > 0

  /// "fixed".
  std::string name() const { return "fixed"; }

  /// Always eta, without evaluating anything.
  StepProposal propose(const StepInput&, Vector& /*trial*/) const { return {eta, false, 0.0, 0}; }

  /// fixed_step_guarantee() of this eta.
  RateGuarantee guarantee(const StepFacts& facts) const { return fixed_step_guarantee(eta, facts); }

  /// Theorem 2 for the step eta: q(eta) = 1 - mu eta (2 - beta eta) and radius rho_eta when
  /// 0 < eta beta < 2; empty otherwise, and without mu, beta or L_min (the note says why).
  static RateGuarantee fixed_step_guarantee(double eta, const StepFacts& facts) {
    RateGuarantee g;
    if (!has_guarantee_facts(facts, g)) return g;
    const double mu = *facts.mu, beta = *facts.beta;
    if (!(eta > 0.0 && eta * beta < 2.0)) {
      g.note = "eta beta >= 2: no guarantee";
      return g;
    }
    g.q = 1.0 - mu * eta * (2.0 - beta * eta);
    g.radius = *flow_radius(facts) / (1.0 - beta * eta / 2.0);
    g.note = "q = 1 - mu eta (2 - beta eta), radius = rho0 / (1 - beta eta / 2)";
    return g;
  }
};

}  // namespace gradflow
