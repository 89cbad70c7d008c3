/// @file
/// The guarantee of the step rule a built-in descent run used, restated with other constants: what the
/// theory promises for exactly that run (its fixed eta, its 1/beta, its Polyak gamma, its Armijo eta_bar,
/// b and c) when L is mu-PL and beta-smooth on the ball B(theta0, ball_radius). The certificate of a
/// network gives such constants (theory/certificate.hpp: mu = (sigma0 - l r*)^2 and beta_r on the ball of
/// radius r*), and the sweep's `certified` column is this guarantee for the run that ran
/// (docs/theory.md §2.4 and §4.3): a fixed step eta is certified by Theorem 2 when 0 < eta beta < 2 and
/// rho_eta = rho0 / (1 - beta eta / 2) < ball_radius, which at eta = 1/beta_r is the certificate's own
/// descent condition max phi > 2 ||r0||.
#pragma once

#include <gradflow/discrete/armijo_step.hpp>
#include <gradflow/discrete/fixed_step.hpp>
#include <gradflow/discrete/inverse_smoothness_step.hpp>
#include <gradflow/discrete/polyak_step.hpp>
#include <gradflow/discrete/result.hpp>

#include <optional>

namespace gradflow {

/// The rule of run (a built-in rule: run.options.step, with the step, gamma or Armijo constants it used)
/// under facts; empty q and radius when the theory gives none, or when the rule's radius does not fit
/// strictly inside ball_radius (given: the ball where facts hold). A run that never chose its step (an
/// invalid option, a failed estimate of beta) has no guarantee.
inline RateGuarantee run_guarantee(const DescentResult& run, const StepFacts& facts,
                                   std::optional<double> ball_radius = std::nullopt) {
  RateGuarantee g;
  const DescentOptions& o = run.options;
  switch (o.step) {
    case StepRule::fixed:
      g = FixedStep::fixed_step_guarantee(o.lr, facts);
      break;
    case StepRule::inverse_smoothness:
      if (!run.step_size) {
        g.note = "the run chose no step: no guarantee";
        return g;
      }
      g = FixedStep::fixed_step_guarantee(*run.step_size, facts);
      break;
    case StepRule::polyak:
      if (!run.gamma) {
        g.note = "the run chose no gamma: no guarantee";
        return g;
      }
      g = PolyakStep{*run.gamma}.guarantee(facts);
      break;
    case StepRule::armijo:
      g = ArmijoStep{o.lr, o.armijo_b, o.armijo_c}.guarantee(facts);
      break;
  }
  if (ball_radius && g.q && (!g.radius || !(*g.radius < *ball_radius))) {
    g.q.reset();
    g.radius.reset();
    g.note = "the rule's radius does not fit in the ball where mu and beta hold: no guarantee";
  }
  return g;
}

}  // namespace gradflow
