/// @file
/// Armijo backtracking: from eta_bar (--lr), shrink eta by b (--armijo-b) until the sufficient
/// decrease L(theta - eta g) <= L - c eta ||g||^2 holds (c = --armijo-c) (docs/theory.md §2.6, M4).
///
/// Guarantee, for L mu-PL and beta-smooth: every accepted step has
///   eta_k >= eta_min = min(eta_bar, 2 b (1 - c) / beta),
///   L_{k+1} - L_min <= (1 - 2 c mu eta_min) (L_k - L_min),
/// and the iterates stay within rho0 / c of theta0, rho0 = sqrt(2 (L0 - L_min) / mu).
/// Each trial costs one loss evaluation; the accepted trial point becomes the next iterate.
#pragma once

#include <gradflow/discrete/step_rule.hpp>

#include <cmath>

namespace gradflow {

/// The Armijo backtracking rule (StepRule::armijo; see the file comment).
struct ArmijoStep {
  double eta_bar;            ///< the first trial step, > 0
  double shrink;             ///< b in (0, 1)
  double sufficient;         ///< c in (0, 1)
  int max_backtracks = 100;  ///< trials after the first before the rule gives up (eta = 0)

  /// "armijo".
  std::string name() const { return "armijo"; }

  /// Returns eta = 0 when no trial step satisfied the test within max_backtracks (the driver reports
  /// the failure).
  StepProposal propose(const StepInput& in, Vector& trial) const {
    StepProposal p;
    double eta = eta_bar;
    for (int i = 0; i <= max_backtracks; ++i) {
      trial = in.theta - eta * in.grad;
      const double loss = in.objective.loss(trial);
      ++p.loss_evals;
      if (std::isfinite(loss) && loss <= in.loss - sufficient * eta * in.grad_norm_squared) {
        p.eta = eta;
        p.trial_evaluated = true;
        p.trial_loss = loss;
        return p;
      }
      eta *= shrink;
    }
    p.eta = 0.0;
    return p;
  }

  /// The guaranteed smallest accepted step for a beta-smooth L: min(eta_bar, 2 b (1 - c) / beta).
  double eta_min(double beta) const { return std::min(eta_bar, 2.0 * shrink * (1.0 - sufficient) / beta); }

  /// q = 1 - 2 c mu eta_min (at least 0) and radius rho0 / c; empty without mu, beta or L_min.
  RateGuarantee guarantee(const StepFacts& facts) const {
    RateGuarantee g;
    if (!has_guarantee_facts(facts, g)) return g;
    g.q = std::max(1.0 - 2.0 * sufficient * *facts.mu * eta_min(*facts.beta), 0.0);
    g.radius = *flow_radius(facts) / sufficient;
    g.note = "q = 1 - 2 c mu eta_min, eta_min = min(eta_bar, 2 b (1 - c) / beta), radius = rho0 / c";
    return g;
  }
};

}  // namespace gradflow
