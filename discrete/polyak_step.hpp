/// @file
/// Damped Polyak step: eta_k = gamma (L_k - L_min) / ||g_k||^2 (--gamma), valid because inf L = L_min
/// is known (docs/theory.md §2.5, M3).
///
/// Guarantee, for L mu-PL and beta-smooth with kappa = beta / mu:
///   L_{k+1} - L_min <= (1 - gamma + gamma^2 kappa / 4) (L_k - L_min),
/// a contraction only for gamma < 4 mu / beta; gamma = 2 mu / beta (the default when mu and beta are
/// known) gives q = 1 - mu / beta. The classical range gamma in (0, 2) needs convexity: without it
/// Polyak steps can cycle (on f = x^2 + 3 sin^2 x, gamma = 1 from x = 2.2 falls into a 2-cycle at
/// f ~ 6.802470). The theory gives no containment radius for this rule.
#pragma once

#include <gradflow/discrete/step_rule.hpp>

#include <sstream>

namespace gradflow {

/// The damped Polyak rule (StepRule::polyak; see the file comment).
struct PolyakStep {
  double gamma;  ///< the damping factor, > 0; a contraction needs gamma < 4 mu / beta

  /// "polyak".
  std::string name() const { return "polyak"; }

  /// Needs L_min: without it there is no step (eta = 0; descend() refuses the rule before that).
  StepProposal propose(const StepInput& in, Vector& /*trial*/) const {
    if (!in.min_value) return {0.0, false, 0.0, 0};
    const double excess = std::max(in.loss - *in.min_value, 0.0);
    return {in.grad_norm_squared > 0.0 ? gamma * excess / in.grad_norm_squared : 0.0, false, 0.0, 0};
  }

  /// q = 1 - gamma + gamma^2 kappa / 4 (at least 0) when it is < 1, and no radius; empty without mu, beta
  /// or L_min, or for gamma >= 4 mu / beta (the note says why).
  RateGuarantee guarantee(const StepFacts& facts) const {
    RateGuarantee g;
    if (!has_guarantee_facts(facts, g)) return g;
    const double kappa = *facts.beta / *facts.mu;
    const double factor = 1.0 - gamma + gamma * gamma * kappa / 4.0;
    if (!(gamma > 0.0 && factor < 1.0)) {
      std::ostringstream why;
      why << "gamma >= 4 mu / beta = " << 4.0 / kappa << ": no guarantee without convexity";
      g.note = why.str();
      return g;
    }
    g.q = std::max(factor, 0.0);
    g.note = "q = 1 - gamma + gamma^2 kappa / 4; no radius is known for this rule";
    return g;
  }
};

}  // namespace gradflow
